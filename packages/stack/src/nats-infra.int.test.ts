import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { isAlive } from './launcher/stack-file.ts';
import { natsConnectOptions } from './nats-identities.ts';
import { ensureNats, probeNats, startNatsServer } from './nats-infra.ts';
import { canConnect, freePort } from './net-utils.ts';

describe('nats-server lifecycle', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-nats-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts on a random port, probes JetStream, survives kill and restart on the same port', async () => {
    const nats = await startNatsServer({ storeDir: join(dir, 'a'), name: 'test-a' });
    try {
      assert.ok(nats.port > 0);
      assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
      assert.equal(await probeNats(nats.url, 1000), true);
      assert.ok((await readdir(join(dir, 'a'))).includes('jetstream'));

      const firstPid = nats.pid;
      await nats.kill();
      assert.equal(isAlive(firstPid), false);
      assert.equal(await probeNats(nats.url, 300), false);

      await nats.restart();
      assert.notEqual(nats.pid, firstPid);
      assert.equal(await probeNats(nats.url, 1000), true);

      await nats.restart();
      assert.equal(await probeNats(nats.url, 1000), true);
    } finally {
      await nats.stop();
    }
    assert.equal(await canConnect('127.0.0.1', nats.port), false);
    await nats.stop();
  });

  it('reports a port conflict with the server log', async () => {
    const first = await startNatsServer({ storeDir: join(dir, 'b') });
    try {
      await assert.rejects(
        startNatsServer({ port: first.port, storeDir: join(dir, 'c') }),
        (error: Error) => {
          assert.match(error.message, /exited early/);
          assert.match(error.message, /last log lines/);
          return true;
        },
      );
    } finally {
      await first.stop();
    }
  });

  it('probeNats is false for closed ports and non-NATS servers', async () => {
    assert.equal(await probeNats(`nats://127.0.0.1:${await freePort()}`, 300), false);
    assert.equal(await probeNats('not a url', 300), false);
  });

  it('ensureNats starts one when the URL is unreachable and reuses its store', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const ensured = await ensureNats({
      url: `nats://127.0.0.1:${await freePort()}`,
      storeDir: join(dir, 'd'),
      port,
      log: (line) => lines.push(line),
    });
    try {
      assert.equal(ensured.started, true);
      assert.equal(ensured.url, `nats://127.0.0.1:${port}`);
      assert.equal(await probeNats(ensured.url), true);
      // Its own server admits only Conveyor's identities (ADR 0025).
      assert.ok(ensured.seeds, 'identities generated');
      await assert.rejects(connect({ servers: ensured.url, timeout: 2000 }), /authorization/i);
      const test = await connect({
        ...natsConnectOptions(ensured.url, ensured.seeds, 'test'),
        timeout: 2000,
      });
      await test.close();
      const reuseLines: string[] = [];
      const reused = await ensureNats({
        url: ensured.url,
        storeDir: join(dir, 'd'),
        port,
        log: (line) => reuseLines.push(line),
      });
      assert.equal(reused.started, false);
      assert.deepEqual(reused.seeds, ensured.seeds, 'a later start finds the identities beside the store');
      assert.ok(
        reuseLines.some((line) => /with the identities kept in/.test(line)),
        reuseLines.join('\n'),
      );
      await reused.stop();
      assert.equal(await probeNats(ensured.url), true);
    } finally {
      await ensured.stop();
    }
    assert.ok(lines.some((line) => line.includes('Server is ready')));
  });

  it('ensureNats says plainly when it uses a server that admits anyone', async () => {
    const open = await startNatsServer({ storeDir: join(dir, 'open') });
    try {
      const lines: string[] = [];
      const ensured = await ensureNats({
        url: open.url,
        storeDir: join(dir, 'e'),
        port: open.port,
        log: (l) => lines.push(l),
      });
      assert.equal(ensured.started, false);
      assert.equal(ensured.seeds, undefined);
      assert.ok(
        lines.some((line) => /WITHOUT authentication/.test(line)),
        lines.join('\n'),
      );
    } finally {
      await open.stop();
    }
  });
});
