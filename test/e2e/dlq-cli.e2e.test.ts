import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { userCreatedV2 } from '@conveyor/contracts';
import { startWebhookReceiver, type WebhookReceiver } from '@conveyor/notifications/testing';
import { encodeData, newEvent, toHeaders } from '@conveyor/platform';
import { type System, startSystem, waitUntil } from '@conveyor/stack';
import { TEST_ADMIN_EMAIL } from '@conveyor/stack/testing';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import { type AdminCli, adminCli } from '../../packages/cli/src/cli-process.ts';

describe('conveyor dlq and webhooks commands against a running notification service (processes)', () => {
  let system: System;
  let receiver: WebhookReceiver;
  let nc: NatsConnection;
  let operator: AdminCli;

  before(async () => {
    receiver = await startWebhookReceiver();
    system = await startSystem({
      name: 'e2e_dlq_cli',
      services: ['users', 'notifications'],
      env: { notifications: { WEBHOOK_ALLOW_LOOPBACK: 'true' } },
    });
    nc = await connect(system.natsOptions());
    // Webhooks and dead letters are for admins: log in as the system's first admin.
    operator = await adminCli(system, ['users', 'notifications']);
    assert.match(operator.login.stdout, /\(admin\)/);
  });

  after(async () => {
    await nc?.close();
    await system?.stop();
    await receiver?.close();
    await operator?.close();
  });

  async function publishRaw(
    subject: string,
    headers: Record<string, string>,
    payload: string,
  ): Promise<void> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) if (k !== 'Nats-Msg-Id') h.set(k, v);
    await jetstream(nc).publish(subject, new TextEncoder().encode(payload), { headers: h });
  }

  it('registers, lists and deletes webhooks', async () => {
    const registered = await operator.run([
      'webhooks',
      'register',
      '--global',
      '--url',
      `${receiver.url}/cli`,
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(registered.stdout, /secret +whsec_/);
    assert.match(registered.stdout, /shown only now/);
    const id = /id +([0-9a-f-]{36})/.exec(registered.stdout)?.[1] ?? '';

    const listed = await operator.run(['webhooks', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const webhooks = JSON.parse(listed.stdout).webhooks as { id: string; url: string }[];
    assert.deepEqual(
      webhooks.map((w) => [w.id, w.url]),
      [[id, `${receiver.url}/cli`]],
    );
    assert.doesNotMatch(listed.stdout, /whsec_/);

    const refused = await operator.run([
      'webhooks',
      'register',
      '--global',
      '--url',
      'http://hooks.example.com/in',
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /INVALID_ARGUMENT: url: must use https/);

    const deleted = await operator.run(['webhooks', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`deleted webhook ${id}`));
    assert.equal((await operator.run(['webhooks', 'delete', id])).code, 2);
  });

  it('lists, shows, redrives and purges dead letters', async () => {
    // Headers of a valid user.created v2; the payload published below breaks its schema.
    const example = userCreatedV2.examples[0]!;
    const event = newEvent('user.created', example, { source: 'conveyor/users', subject: example.userId });
    await publishRaw('user.created', toHeaders(event), '{"userId": 42}');
    const orderId = uuidv7();
    const paid = newEvent(
      'order.paid',
      {
        orderId,
        userId: uuidv7(),
        amount: { amountMinor: 100, currency: 'EUR' },
        paidAt: new Date().toISOString(),
      },
      { source: 'conveyor/test', subject: orderId },
    );
    await publishRaw(
      'order.paid',
      { ...toHeaders(paid), 'ce-dataschema': 'urn:conveyor:event:order.paid:v7' },
      new TextDecoder().decode(encodeData(paid)),
    );

    let rows: { id: string; originalSubject: string; reason: string }[] = [];
    await waitUntil(
      async () => {
        const listed = await operator.run(['dlq', 'list', '--json']);
        rows = JSON.parse(listed.stdout).deadLetters ?? [];
        return rows.length === 2;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'two dead letters did not appear' },
    );
    const table = await operator.run(['dlq', 'list', '--subject', 'order.paid']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^id +failed +subject +event +deliveries +attempts +reason/);
    assert.match(table.stdout, /order\.paid .* poison: unknown event order.paid v7/);
    assert.doesNotMatch(table.stdout, /user\.created/);

    const poison = rows.find((r) => r.originalSubject === 'user.created')!;
    const shown = await operator.run(['dlq', 'show', poison.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /reason +poison: data does not match user.created v2/);
    assert.match(shown.stdout, /deliveries +1/);
    assert.match(shown.stdout, new RegExp(`ce-id: ${event.id}`));
    assert.match(shown.stdout, /payload:\n\{\n {2}"userId": 42\n\}/);

    const redriven = await operator.run(['dlq', 'redrive', poison.id]);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.match(redriven.stdout, new RegExp(`redrove 1 dead letter\\(s\\): ${poison.id}`));
    assert.equal((await operator.run(['dlq', 'show', poison.id])).code, 2, 'a redriven dead letter is gone');
    // Still poison, so it comes back as a new dead letter.
    await waitUntil(
      async () =>
        (await operator.run(['dlq', 'list', '--reason', 'does not match', '--json'])).stdout.includes(
          event.id,
        ),
      {
        timeoutMs: 15_000,
        intervalMs: 250,
        message: 'the redriven poison message was not dead-lettered again',
      },
    );

    const purged = await operator.run(['dlq', 'purge', '--reason', 'unknown event']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(purged.stdout.trim(), 'purged 1 dead letter(s)');
    assert.equal((await operator.run(['dlq', 'purge', '--all'])).stdout.trim(), 'purged 1 dead letter(s)');
    assert.equal((await operator.run(['dlq', 'list'])).stdout.trim(), 'no dead letters');
    assert.equal(
      system.smtp.messages().filter((m) => !m.to.includes(TEST_ADMIN_EMAIL)).length,
      0,
      'only the admin’s welcome',
    );
  });
});
