import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Durables, natsIdentities, natsPermissions, Streams } from '@conveyor/contracts';
import { durableConsumerConfig, streamConfigs } from '@conveyor/platform';
import { nanos } from '@nats-io/nats-core';
import { z } from 'zod';
import { notificationsConfigShape } from '../../services/notifications/src/config.ts';
import { ordersConfigShape } from '../../services/orders/src/config.ts';
import { type K8sObject, renderKustomization, repoPath } from './kustomize.ts';

// biome-ignore lint/suspicious/noExplicitAny: reading deep into rendered manifests.
type Rendered = K8sObject & { spec: any; data?: Record<string, string> };
const render = (overlay: string) =>
  renderKustomization(repoPath('deploy/k8s/overlays', overlay)) as Rendered[];
const ofKind = (objects: Rendered[], kind: string) => objects.filter((o) => o.kind === kind);

/** A Go duration as NACK takes it ("720h", "2m", "30s") in milliseconds. */
function goDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9.]+)(ms|h|m|s)/g))
    total += Number(amount) * (units[unit as string] ?? Number.NaN);
  return total;
}

/** What a Deployment's container sees: its ConfigMaps (envFrom) under its own literal values. */
function serviceEnv(objects: Rendered[], name: string): Record<string, string> {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
  assert.ok(deployment, `Deployment/${name}`);
  const container = deployment.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    Object.assign(env, map?.data ?? {});
  }
  for (const variable of container.env ?? [])
    if (typeof variable.value === 'string') env[variable.name] = variable.value;
  return env;
}

/**
 * The prod overlay's streams and consumers are NACK resources (issue 27 part 3): they must be what
 * the code creates when it manages them, or the services, which only check them there
 * (NATS_MANAGE_TOPOLOGY=false), refuse to start.
 */
describe('NACK resources (deploy/k8s/components/nack)', () => {
  const prod = render('prod');
  const dev = render('dev');

  it('are in prod, where the services only check the topology; dev keeps managing its own', () => {
    for (const kind of ['Account', 'Stream', 'Consumer']) {
      assert.ok(ofKind(prod, kind).length > 0, `prod renders ${kind}`);
      assert.equal(ofKind(dev, kind).length, 0, `dev renders no ${kind}`);
    }
    for (const service of ['users', 'orders', 'notifications']) {
      assert.equal(serviceEnv(prod, service).NATS_MANAGE_TOPOLOGY, 'false', service);
      assert.notEqual(serviceEnv(dev, service).NATS_MANAGE_TOPOLOGY, 'false', service);
    }
  });

  it('declare every stream exactly as streamConfigs makes it, with the prod replicas', () => {
    const replicas = Number(serviceEnv(prod, 'orders').NATS_STREAM_REPLICAS);
    assert.equal(replicas, 3);
    const declared = ofKind(prod, 'Stream').map((o) => o.spec);
    const wanted = streamConfigs({ replicas });
    assert.deepEqual(declared.map((s) => s.name).sort(), wanted.map((s) => s.name).sort());
    for (const config of wanted) {
      const spec = declared.find((s) => s.name === config.name);
      assert.deepEqual(
        {
          subjects: spec.subjects,
          retention: spec.retention,
          storage: spec.storage,
          discard: spec.discard,
          replicas: spec.replicas,
          maxAge: nanos(goDurationMs(spec.maxAge)),
          duplicateWindow: nanos(goDurationMs(spec.duplicateWindow)),
          maxBytes: spec.maxBytes,
          maxMsgSize: spec.maxMsgSize,
        },
        {
          subjects: config.subjects,
          retention: config.retention,
          storage: config.storage,
          discard: config.discard,
          replicas: config.num_replicas,
          maxAge: config.max_age,
          duplicateWindow: config.duplicate_window,
          maxBytes: config.max_bytes,
          maxMsgSize: config.max_msg_size,
        },
        config.name,
      );
      assert.equal(spec.preventDelete, true, `${config.name}: deleting the resource keeps the events`);
    }
  });

  it('declare every durable the services start, with the settings their prod config gives it', () => {
    // Only these settings are parsed: the rest of each service's configuration is not under test.
    const orders = z
      .object(ordersConfigShape)
      .pick({ PROJECTION_MAX_DELIVER: true, PROJECTION_ACK_WAIT_MS: true, PROJECTION_CONCURRENCY: true })
      .parse(serviceEnv(prod, 'orders'));
    const notifications = z
      .object(notificationsConfigShape)
      .pick({ CONSUMER_MAX_DELIVER: true, CONSUMER_ACK_WAIT_MS: true, CONSUMER_CONCURRENCY: true })
      .parse(serviceEnv(prod, 'notifications'));
    const wanted = [
      {
        stream: Streams.orders,
        durable: Durables.ordersProjections,
        maxDeliver: orders.PROJECTION_MAX_DELIVER,
        ackWaitMs: orders.PROJECTION_ACK_WAIT_MS,
        maxAckPending: orders.PROJECTION_CONCURRENCY * 4,
      },
      ...[Streams.users, Streams.orders].map((stream) => ({
        stream,
        durable: Durables.notifications,
        maxDeliver: notifications.CONSUMER_MAX_DELIVER,
        ackWaitMs: notifications.CONSUMER_ACK_WAIT_MS,
        maxAckPending: notifications.CONSUMER_CONCURRENCY * 4,
      })),
    ];
    const declared = ofKind(prod, 'Consumer').map((o) => o.spec);
    assert.equal(declared.length, wanted.length);
    for (const w of wanted) {
      const config = durableConsumerConfig({
        ...w,
        stream: w.stream.name,
        filterSubjects: [...w.stream.subjects],
      });
      const spec = declared.find((c) => c.streamName === w.stream.name && c.durableName === w.durable);
      assert.ok(spec, `${w.stream.name}/${w.durable} declared`);
      assert.deepEqual(
        {
          filter: spec.filterSubject,
          deliver: spec.deliverPolicy,
          ack: spec.ackPolicy,
          ackWait: nanos(goDurationMs(spec.ackWait)),
          maxDeliver: spec.maxDeliver,
          maxAckPending: spec.maxAckPending,
        },
        {
          filter: config.filter_subject,
          deliver: config.deliver_policy,
          ack: config.ack_policy,
          ackWait: config.ack_wait,
          maxDeliver: config.max_deliver,
          maxAckPending: config.max_ack_pending,
        },
        `${w.stream.name}/${w.durable}`,
      );
    }
  });

  it('connect as the nack identity, over TLS, to the NATS every service uses', () => {
    const [account, ...others] = ofKind(prod, 'Account');
    assert.equal(others.length, 0);
    assert.ok(account);
    assert.deepEqual(account.spec.nkey, { secret: { name: 'conveyor-nats-identities' }, seed: 'nack' });
    assert.ok(natsIdentities.includes('nack'), 'nats-identities makes a seed for nack');
    assert.deepEqual(natsPermissions.nack, { publish: ['$JS.API.>'], subscribe: ['_INBOX.>'] });
    assert.deepEqual(account.spec.servers, [serviceEnv(prod, 'orders').NATS_URL]);
    const certificate = prod.find(
      (o) => o.kind === 'Certificate' && o.spec.secretName === account.spec.tls.secret.name,
    );
    assert.ok(certificate, 'the TLS secret comes from a cert-manager Certificate');
    assert.equal(account.spec.tls.ca, 'ca.crt');
    for (const resource of [...ofKind(prod, 'Stream'), ...ofKind(prod, 'Consumer')]) {
      assert.equal(resource.spec.account, account.spec.name, resource.metadata.name);
    }
  });
});
