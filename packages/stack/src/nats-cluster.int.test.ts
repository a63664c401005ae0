import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type NatsCluster, startNatsCluster } from './nats-cluster.ts';
import { waitUntil } from './wait-until.ts';

describe('startNatsCluster', () => {
  let dir: string;
  let cluster: NatsCluster;
  let nc: NatsConnection;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-nats-cluster-'));
    cluster = await startNatsCluster({ baseDir: dir, name: 'test' });
    nc = await connect({ servers: cluster.urls.split(','), timeout: 5000 });
  });

  after(async () => {
    await nc?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps an R3 stream writable when its leader node is killed, and the node rejoins', async () => {
    assert.equal(cluster.nodes.length, 3);
    assert.equal(new Set(cluster.nodes.map((n) => n.port)).size, 3);
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    const js = jetstream(nc, { timeout: 2000 });
    for (let i = 0; i < 10; i++) await js.publish('r3.before', `${i}`, { msgID: `before-${i}` });

    const leader = (await jsm.streams.info('R3')).cluster?.leader;
    const victim = cluster.nodes.find((n) => n.name === leader);
    assert.ok(victim, `leader ${leader} is one of the nodes`);
    await victim.kill();
    assert.equal(victim.running, false);

    // A new leader is elected among the two survivors (seconds); publishing resumes, bounded.
    let published = 0;
    await waitUntil(
      async () => {
        await js.publish('r3.after', 'x', { msgID: `after-${published}` });
        published++;
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'no publish succeeded after the leader was killed' },
    );
    const info = await jsm.streams.info('R3');
    assert.notEqual(info.cluster?.leader, victim.name);
    assert.equal(info.state.messages, 11);

    await victim.restart();
    await cluster.waitHealthy(30_000);
    await waitUntil(
      async () =>
        ((await jsm.streams.info('R3')).cluster?.replicas ?? []).some(
          (r) => r.name === victim.name && r.current,
        ),
      { timeoutMs: 20_000, intervalMs: 200, message: `${victim.name} did not catch up` },
    );
  });
});
