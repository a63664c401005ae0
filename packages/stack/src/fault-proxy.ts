import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * What the proxy does to the bytes between a service and its downstream:
 * - pass: forwards both ways.
 * - latency: delays every chunk, both ways, by `ms`.
 * - stall: holds every byte both ways (a blackhole: connections stay open, nothing arrives;
 *   packet-loss-like from the application's view). Held bytes are dropped, not flushed later,
 *   so the connection is broken for good once the stall ends: it is cut then. The server
 *   closing a connection meanwhile is held too (its FIN is lost with the rest): the client
 *   learns of it only when the stall ends, as across a partition.
 * - stall-down: forwards client → server, holds server → client (requests arrive, replies
 *   and acknowledgements are lost: e.g. a publish is stored but its PubAck never comes back);
 *   like stall, a close by the server reaches the client only when it ends.
 * - hold-up-after: forwards both ways until the client has sent `marker` `count` times (on any
 *   connection), then holds everything the client sends from the chunk holding that marker on:
 *   with marker `$JS.ACK.` a consumer's effects are done and their acks never reach NATS, so a
 *   kill then is a crash between effect and ack, caused from outside the process.
 */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number }
  | { kind: 'stall' }
  | { kind: 'stall-down' }
  | { kind: 'hold-up-after'; marker: string; count: number };

export interface FaultProxy {
  /** host:port clients connect to. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  /** Markers the clients sent since the last hold-up-after mode was set. */
  readonly markersSeen: number;
  /**
   * Local ports of the proxy's open connections to the target: the client ports the target
   * sees (e.g. pg_stat_activity.client_port), to tell which backend is whose.
   */
  upstreamPorts(): number[];
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
  /** The end of the last chunk the client sent, so a marker split across chunks is still seen. */
  tail: string;
}

/** A TCP proxy on 127.0.0.1 in front of `target` (127.0.0.1:<targetPort>) that injects faults. */
export async function startFaultProxy(targetPort: number, listenPort = 0): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let accepted = 0;
  let markersSeen = 0;
  /** Counts the markers in a chunk the client sent; true when the chunk is to be held. */
  const holdUp = (pair: Pair, chunk: Buffer, m: Extract<FaultMode, { kind: 'hold-up-after' }>): boolean => {
    if (markersSeen >= m.count) return true;
    const text = pair.tail + chunk.toString('latin1');
    for (let at = text.indexOf(m.marker); at !== -1; at = text.indexOf(m.marker, at + 1)) markersSeen++;
    pair.tail = text.slice(-(m.marker.length - 1));
    return markersSeen >= m.count;
  };
  const pairs = new Set<Pair>();

  const forward = (pair: Pair, from: Socket, to: Socket, downstream: boolean) => {
    from.on('data', (chunk: Buffer) => {
      const m = mode;
      const held = m.kind === 'hold-up-after' && !downstream && holdUp(pair, chunk, m);
      if (held || m.kind === 'stall' || (m.kind === 'stall-down' && downstream)) {
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
    const pair: Pair = { client, upstream, tainted: mode.kind === 'stall', tail: '' };
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    // While the server's bytes are held, so is its close: the pair is cut when the stall ends.
    const upstreamClosed = () => {
      if (mode.kind === 'stall' || mode.kind === 'stall-down') {
        pair.tainted = true;
        upstream.destroy();
      } else close();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', upstreamClosed).on('close', upstreamClosed);
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
    get markersSeen() {
      return markersSeen;
    },
    upstreamPorts: () =>
      [...pairs].flatMap((p) =>
        p.upstream.destroyed || !p.upstream.localPort ? [] : [p.upstream.localPort],
      ),
    set(next) {
      mode = next;
      if (next.kind === 'hold-up-after') markersSeen = 0;
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
