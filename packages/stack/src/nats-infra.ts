import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { generateNatsSeeds, type NatsSeeds } from './nats-identities.ts';
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
export async function probeNats(url: string, timeoutMs = 1500): Promise<boolean> {
  return (await probeNatsInfo(url, timeoutMs))?.jetstream === true;
}

/** What a NATS server's greeting says: JetStream, and whether it admits only known identities. */
export interface NatsGreeting {
  jetstream: boolean;
  authRequired: boolean;
}

export function probeNatsInfo(url: string, timeoutMs = 1500): Promise<NatsGreeting | undefined> {
  return new Promise((resolve) => {
    let target: { host: string; port: number };
    try {
      target = hostAndPort(url);
    } catch {
      resolve(undefined);
      return;
    }
    const socket = connect(target);
    let buffer = '';
    const done = (greeting: NatsGreeting | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(greeting);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end === -1) {
        if (buffer.length > 64 * 1024) done(undefined);
        return;
      }
      done(parseInfo(buffer.slice(0, end)));
    });
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

/** Whether a NATS `INFO {...}` line announces JetStream. */
export function parseInfoJetStream(line: string): boolean {
  return parseInfo(line)?.jetstream === true;
}

/** The greeting of a NATS `INFO {...}` line; undefined for anything else. */
export function parseInfo(line: string): NatsGreeting | undefined {
  if (!line.startsWith('INFO ')) return undefined;
  try {
    const info: unknown = JSON.parse(line.slice(5));
    if (typeof info !== 'object' || info === null) return undefined;
    const fields = info as { jetstream?: unknown; auth_required?: unknown };
    return { jetstream: fields.jetstream === true, authRequired: fields.auth_required === true };
  } catch {
    return undefined;
  }
}

export interface EnsureNatsOptions {
  url?: string;
  storeDir: string;
  port: number;
  log: (line: string) => void;
}

const identitiesFile = 'identities.json';

export interface EnsuredNats {
  url: string;
  /** True when this call started a server (stop() then stops it). */
  started: boolean;
  /** The identities the server admits (ADR 0025); undefined when it admits anyone. */
  seeds: NatsSeeds | undefined;
  stop(): Promise<void>;
}

/**
 * Uses the NATS server at `url` (default nats://127.0.0.1:4222) when it answers with
 * JetStream; otherwise starts nats-server on `port` with `storeDir`, so data survives a
 * later start with the same folder. A JetStream server already on `port` is reused.
 */
export async function ensureNats(opts: EnsureNatsOptions): Promise<EnsuredNats> {
  const url = opts.url ?? DEFAULT_NATS_URL;
  const given = await probeNatsInfo(url);
  if (given?.jetstream) return reuse(url, given, opts);
  opts.log(`no NATS with JetStream at ${url}; starting nats-server on 127.0.0.1:${opts.port}`);
  const ownUrl = `nats://127.0.0.1:${opts.port}`;
  const own = ownUrl === url ? undefined : await probeNatsInfo(ownUrl);
  if (own?.jetstream) return reuse(ownUrl, own, opts);
  // Identities of its own, kept beside the store (owner-only) for a later `up` that finds it running.
  const seeds = generateNatsSeeds();
  await mkdir(opts.storeDir, { recursive: true });
  await writeFile(join(opts.storeDir, identitiesFile), JSON.stringify(seeds), { mode: 0o600 });
  const server = await startNatsServer({
    port: opts.port,
    storeDir: opts.storeDir,
    name: 'conveyor',
    log: (line) => opts.log(`nats | ${line}`),
    seeds,
  });
  opts.log(`nats-server ready at ${server.url} (pid ${server.pid}, store ${opts.storeDir}, nkey identities)`);
  return { url: server.url, started: true, seeds, stop: () => server.stop() };
}

/** A running server: unauthenticated (said plainly), or one started earlier with our identities. */
async function reuse(url: string, greeting: NatsGreeting, opts: EnsureNatsOptions): Promise<EnsuredNats> {
  const noop = async (): Promise<void> => {};
  if (!greeting.authRequired) {
    opts.log(
      `using NATS at ${url} WITHOUT authentication: every service may publish and consume anything there ` +
        '(ADR 0025); stop it to have Conveyor start its own with an identity per service',
    );
    return { url, started: false, seeds: undefined, stop: noop };
  }
  let seeds: NatsSeeds;
  try {
    seeds = JSON.parse(await readFile(join(opts.storeDir, identitiesFile), 'utf8')) as NatsSeeds;
  } catch {
    throw new Error(
      `NATS at ${url} requires authentication and ${join(opts.storeDir, identitiesFile)} holds no identities ` +
        'for it: give NATS_URL a server Conveyor may use, or stop that one',
    );
  }
  opts.log(`using NATS at ${url} with the identities kept in ${opts.storeDir}`);
  return { url, started: false, seeds, stop: noop };
}
