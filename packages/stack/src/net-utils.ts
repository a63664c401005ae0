import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Lowest port freePort hands out: above the well-known and most registered service ports. */
const LISTEN_RANGE_START = 20_000;
const ATTEMPTS = 50;

/**
 * The first port of the kernel's ephemeral range (outgoing connections take their local port
 * from it). Ports handed to listeners are picked below it, so a client connection opened between
 * "found free" and "bound" cannot take the port.
 */
function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number(low);
    return Number.isInteger(port) && port > 1024 ? port : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds 127.0.0.1:`port` exclusively and releases it; resolves the port bound, or 0 when taken. */
function tryBind(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(0) : reject(error),
    );
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** Ports this process has handed out: callers often take several before binding any. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a process about to listen on it.
 * Picked at random below the ephemeral range, and never twice in one process, so the remaining
 * race is only with another process picking the same port in the same moment, not with the
 * many client connections tests open; falls back to a kernel-chosen port if that range is crowded.
 */
export async function freePort(): Promise<number> {
  const end = ephemeralRangeStart();
  if (end - LISTEN_RANGE_START >= 1_000) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const candidate = LISTEN_RANGE_START + Math.floor(Math.random() * (end - LISTEN_RANGE_START));
      if (handedOut.has(candidate)) continue;
      const port = await tryBind(candidate);
      if (port > 0) {
        handedOut.add(port);
        return port;
      }
    }
  }
  const port = await tryBind(0);
  if (port === 0) throw new Error('could not determine a free port');
  return port;
}

/** Whether something accepts TCP connections on host:port within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
