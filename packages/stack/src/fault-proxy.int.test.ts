import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { waitUntil } from './wait-until.ts';

// A real echo server on loopback behind the proxy.
async function echoServer() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    /** Ends every connection from the server's side (as pg_terminate_backend does). */
    closeConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function roundTrip(
  port: number,
  text: string,
  timeoutMs: number,
): Promise<{ reply: string; ms: number }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const began = Date.now();
  socket.write(text);
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      socket.once('data', (d: Buffer) => {
        clearTimeout(timer);
        resolve(d.toString());
      });
      socket.once('close', () => reject(new Error('closed')));
    });
    return { reply, ms: Date.now() - began };
  } finally {
    socket.destroy();
  }
}

describe('fault-injecting TCP proxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  before(async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
  });
  after(async () => {
    await proxy.close();
    await echo.close();
  });

  it('passes bytes through, adds latency, stalls and cuts', async () => {
    assert.equal((await roundTrip(proxy.port, 'hello', 1000)).reply, 'hello');

    proxy.set({ kind: 'latency', ms: 150 });
    const slow = await roundTrip(proxy.port, 'slow', 2000);
    assert.equal(slow.reply, 'slow');
    assert.ok(slow.ms >= 280, `two hops of 150 ms, took ${slow.ms}`);

    proxy.set({ kind: 'stall' });
    await assert.rejects(roundTrip(proxy.port, 'lost', 400), /no reply/);
    proxy.set({ kind: 'stall-down' });
    await assert.rejects(roundTrip(proxy.port, 'lost', 400), /no reply/);

    proxy.set({ kind: 'pass' });
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    proxy.cut();
    await closed;
    assert.equal((await roundTrip(proxy.port, 'again', 1000)).reply, 'again');
  });

  it("hides the server's close while stalled (a partition), cuts the connection when the stall ends", async () => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    await once(socket, 'connect');
    socket.write('ping');
    await once(socket, 'data');
    const [serverPort] = proxy.upstreamPorts();
    assert.ok(serverPort, 'the proxy names its connection to the server');
    let closed = false;
    socket.once('close', () => {
      closed = true;
    });
    proxy.set({ kind: 'stall' });
    echo.closeConnections();
    await waitUntil(() => proxy.upstreamPorts().length === 0, {
      timeoutMs: 1000,
      message: 'the server side did not close',
    });
    assert.equal(closed, false, 'the client heard nothing of the close');
    proxy.set({ kind: 'pass' });
    await waitUntil(() => closed, { timeoutMs: 1000, message: 'the connection was not cut after the stall' });
    assert.equal((await roundTrip(proxy.port, 'again', 1000)).reply, 'again');
  });

  it('holds what clients send from the nth marker on (a crash before the ack, caused from outside)', async () => {
    proxy.set({ kind: 'hold-up-after', marker: '$JS.ACK.', count: 2 });
    assert.equal((await roundTrip(proxy.port, 'PUB $JS.ACK.1', 1000)).reply, 'PUB $JS.ACK.1');
    assert.equal(proxy.markersSeen, 1);
    // The second marker arrives split across two writes and is still counted.
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    await once(socket, 'connect');
    socket.write('PUB $JS.A');
    assert.equal((await once(socket, 'data'))[0].toString(), 'PUB $JS.A');
    socket.write('CK.2');
    await waitUntil(() => proxy.markersSeen === 2, {
      timeoutMs: 1000,
      message: 'the split marker was not seen',
    });
    socket.destroy();
    await assert.rejects(roundTrip(proxy.port, 'later', 400), /no reply/);
    proxy.set({ kind: 'pass' });
    assert.equal((await roundTrip(proxy.port, 'again', 1000)).reply, 'again');
  });
});
