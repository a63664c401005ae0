import { connect } from 'node:net';
import { startNatsServer } from './nats-server.ts';

export { findNatsServer, natsServerBinary } from './nats-binary.ts';
export { type NatsProcess, type NatsServerOptions, startNatsServer } from './nats-server.ts';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url.includes('://') ? url : `nats://${url}`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 4222) };
}

/**
 * Connects over TCP and reads the server's greeting (`INFO {...}`); true only when a NATS
 * server answers within `timeoutMs` and announces JetStream.
 */
export function probeNats(url: string, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    let target: { host: string; port: number };
    try {
      target = hostAndPort(url);
    } catch {
      resolve(false);
      return;
    }
    const socket = connect(target);
    let buffer = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end === -1) {
        if (buffer.length > 64 * 1024) done(false);
        return;
      }
      done(parseInfoJetStream(buffer.slice(0, end)));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Whether a NATS `INFO {...}` line announces JetStream. */
export function parseInfoJetStream(line: string): boolean {
  if (!line.startsWith('INFO ')) return false;
  try {
    const info: unknown = JSON.parse(line.slice(5));
    return typeof info === 'object' && info !== null && (info as { jetstream?: unknown }).jetstream === true;
  } catch {
    return false;
  }
}

export interface EnsureNatsOptions {
  url?: string;
  storeDir: string;
  port: number;
  log: (line: string) => void;
}

export interface EnsuredNats {
  url: string;
  /** True when this call started a server (stop() then stops it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * Uses the NATS server at `url` (default nats://127.0.0.1:4222) when it answers with
 * JetStream; otherwise starts nats-server on `port` with `storeDir`, so data survives a
 * later start with the same folder. A JetStream server already on `port` is reused.
 */
export async function ensureNats(opts: EnsureNatsOptions): Promise<EnsuredNats> {
  const url = opts.url ?? DEFAULT_NATS_URL;
  const noop = async (): Promise<void> => {};
  if (await probeNats(url)) {
    opts.log(`using NATS at ${url}`);
    return { url, started: false, stop: noop };
  }
  opts.log(`no NATS with JetStream at ${url}; starting nats-server on 127.0.0.1:${opts.port}`);
  const ownUrl = `nats://127.0.0.1:${opts.port}`;
  if (ownUrl !== url && (await probeNats(ownUrl))) {
    opts.log(`a NATS server with JetStream is already running at ${ownUrl}; using it`);
    return { url: ownUrl, started: false, stop: noop };
  }
  const server = await startNatsServer({
    port: opts.port,
    storeDir: opts.storeDir,
    name: 'conveyor',
    log: (line) => opts.log(`nats | ${line}`),
  });
  opts.log(`nats-server ready at ${server.url} (pid ${server.pid}, store ${opts.storeDir})`);
  return { url: server.url, started: true, stop: () => server.stop() };
}
