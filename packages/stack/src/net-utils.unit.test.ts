import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from './net-utils.ts';

describe('freePort', () => {
  it('hands out bindable ports below the ephemeral range, where client connections never land', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      assert.ok(port >= 20_000 && port < Number(low), `port ${port} is below ${low}`);
      ports.add(port);
    }
    assert.ok(ports.size >= 18, 'random, not one fixed port');
    const port = [...ports][0]!;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, resolve);
    });
    server.close();
  });

  it('never hands out the same port twice in one process, though none of them was bound', async () => {
    // 400 random picks from ~12,700 ports would repeat one with a probability of ~99.8%.
    const ports = new Set<number>();
    for (let i = 0; i < 400; i++) ports.add(await freePort());
    assert.equal(ports.size, 400);
  });
});
