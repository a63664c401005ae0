import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import {
  type PrometheusProcess,
  prometheusBinary,
  queryPrometheus,
  repoRoot,
  type ServiceUnderTest,
  type System,
  startPrometheus,
  startSystem,
  waitUntil,
} from '@conveyor/stack';
import { signUp } from '@conveyor/stack/testing';

const N = 8;
const binary = prometheusBinary();
const skip = binary ? false : 'prometheus binary not found (install the Debian package prometheus)';

describe('a real Prometheus scrapes the services and answers for event throughput', { skip }, () => {
  let system: System;
  let prometheus: PrometheusProcess | undefined;
  let services: ServiceUnderTest[] = [];

  before(async () => {
    system = await startSystem({ name: 'e2e_prometheus', services: ['users', 'orders', 'notifications'] });
    services = (['users', 'orders', 'notifications'] as const).map((name) => system.service(name));
    prometheus = await startPrometheus({
      targets: services.map((s) => ({ service: s.name, address: `127.0.0.1:${s.opsPort}` })),
      scrapeIntervalS: 1,
      ruleFiles: [join(repoRoot, 'deploy/compose/alert-rules.yml')],
    });
  });

  after(async () => {
    await prometheus?.stop();
    await system?.stop();
  });

  it(`returns the order.created throughput series after ${N} orders`, async (t) => {
    const url = prometheus!.url;
    await waitUntil(
      async () => (await queryPrometheus(url, 'up{job="conveyor"} == 1')).length === services.length,
      { timeoutMs: 15_000, intervalMs: 250, message: 'Prometheus did not see every service up' },
    );

    const customer = await signUp(system.address('users'));
    const client = new ordersV1.OrderServiceClient(system.address('orders'), insecure());
    const placeOrders = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await callUnary(
          client,
          client.placeOrder,
          { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
          { deadlineMs: 10_000, metadata: customer.metadata() },
        );
      }
    };
    const published =
      'messaging_client_sent_messages_total{service="orders",messaging_destination_name="order.created"}';
    const consumed =
      'sum by (messaging_consumer_group_name) (messaging_client_consumed_messages_total{messaging_destination_name="order.created",outcome="ack"})';
    const seen = (count: number) =>
      waitUntil(
        async () => {
          const [p] = await queryPrometheus(url, published);
          const c = await queryPrometheus(url, consumed);
          return (
            Number(p?.value[1]) === count && c.length === 2 && c.every((s) => Number(s.value[1]) === count)
          );
        },
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          message: `Prometheus never reported ${count} order.created published and consumed`,
        },
      );
    // Two batches with a scrape between them: a counter series needs two different samples for a
    // rate. seen(N / 2) is that scrape: Prometheus has stored the first batch's count.
    try {
      await placeOrders(N / 2);
      await seen(N / 2);
      await placeOrders(N / 2);
      await seen(N);
    } finally {
      client.close();
    }

    const rate = await queryPrometheus(url, `sum by (messaging_destination_name) (rate(${published}[1m]))`);
    assert.equal(rate.length, 1);
    assert.equal(rate[0]!.metric.messaging_destination_name, 'order.created');
    assert.ok(Number(rate[0]!.value[1]) > 0, `rate is ${rate[0]!.value[1]}`);
    t.diagnostic(`rate(order.created published[1m]) = ${Number(rate[0]!.value[1]).toFixed(3)}/s`);

    const latency = await queryPrometheus(
      url,
      'histogram_quantile(0.99, sum by (le) (rate(rpc_server_duration_seconds_bucket{rpc_method="PlaceOrder"}[1m])))',
    );
    assert.equal(latency.length, 1, 'PlaceOrder latency is queryable');

    const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    const alerts = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    assert.ok(alerts.includes('ConveyorConsumerLag'), `alert rules loaded: ${alerts.join(', ')}`);
  });
});
