import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * What the proxy does to the bytes between a service and its downstream:
 * - pass: forwards both ways.
 * - latency: delays every chunk, both ways, by `ms`.
 * - stall: holds every byte both ways (a blackhole: connections stay open, nothing arrives;
 *   packet-loss-like from the application's view). Held bytes are dropped, not flushed later,
 *   so the connection is broken for good once the stall ends: it is cut then.
 * - stall-down: forwards client → server, holds server → client (requests arrive, replies
 *   and acknowledgements are lost: e.g. a publish is stored but its PubAck never comes back).
 */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'stall' }
  | { kind: 'stall-down' };

export interface FaultProxy {
  /** host:port clients connect to. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  set(mode: FaultMode): void;
  /** Destroys every open connection (both sides); new connections are accepted. */
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** A stall broke this pair: it is cut when the stall ends. */
  tainted: boolean;
}

/** A TCP proxy on 127.0.0.1 in front of `target` (127.0.0.1:<targetPort>) that injects faults. */
export async function startFaultProxy(targetPort: number, listenPort = 0): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let accepted = 0;
  const pairs = new Set<Pair>();

  const forward = (pair: Pair, from: Socket, to: Socket, downstream: boolean) => {
    from.on('data', (chunk: Buffer) => {
      const m = mode;
      if (m.kind === 'stall' || (m.kind === 'stall-down' && downstream)) {
        pair.tainted = true;
        return;
      }
      if (m.kind === 'latency') {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, m.ms);
        return;
      }
      if (!to.destroyed) to.write(chunk);
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, tainted: mode.kind === 'stall' };
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    forward(pair, client, upstream, false);
    forward(pair, upstream, client, true);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const cut = (only?: (p: Pair) => boolean) => {
    for (const pair of [...pairs]) {
      if (only && !only(pair)) continue;
      pair.client.destroy();
      pair.upstream.destroy();
      pairs.delete(pair);
    }
  };
  return {
    address: `127.0.0.1:${port}`,
    port,
    get connections() {
      return accepted;
    },
    set(next) {
      mode = next;
      // Bytes dropped during a stall leave the stream corrupt: end those connections now.
      if (next.kind === 'pass' || next.kind === 'latency') cut((p) => p.tainted);
    },
    cut: () => cut(),
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
