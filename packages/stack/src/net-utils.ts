import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import getPort from 'get-port';

/** Lowest port freePort prefers: above the well-known and most registered service ports. */
const LISTEN_RANGE_START = 20_000;
/** Random candidates tried below the ephemeral range before letting the kernel choose. */
const CANDIDATES = 50;

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

/** Random ports in [LISTEN_RANGE_START, end): random so that parallel test processes rarely meet. */
function* randomCandidates(end: number): Generator<number> {
  if (end - LISTEN_RANGE_START < 1_000) return;
  for (let i = 0; i < CANDIDATES; i++)
    yield LISTEN_RANGE_START + Math.floor(Math.random() * (end - LISTEN_RANGE_START));
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a process about to listen on it.
 * Picked at random below the ephemeral range, so the remaining race is only with another process
 * picking the same port in the same moment, not with the many client connections tests open;
 * get-port falls back to a kernel-chosen port if that range is crowded. `reserve` keeps every port
 * handed out locked for the life of this process: callers often take several before binding any,
 * and a system builder may bind one long after it was picked.
 */
export function freePort(): Promise<number> {
  return getPort({ host: '127.0.0.1', port: randomCandidates(ephemeralRangeStart()), reserve: true });
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
