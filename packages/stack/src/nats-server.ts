import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { terminateChild, waitForReady } from './child-control.ts';
import { followOutput, type OutputTail } from './child-output.ts';
import { trackChild } from './child-reaper.ts';
import { natsServerBinary } from './nats-binary.ts';
import { type NatsSeeds, natsAuthorizationConfig } from './nats-identities.ts';
import { canConnect, freePort } from './net-utils.ts';

export interface NatsServerOptions {
  /** 0 or undefined picks a free port once; restart() keeps using it. */
  port?: number;
  /** JetStream store folder; created when missing and reused across restarts. */
  storeDir: string;
  name?: string;
  log?: (line: string) => void;
  /** How long start and restart may take before failing; default 10 s. */
  startTimeoutMs?: number;
  /** Identities the server admits (ADR 0025); without them it admits anyone. */
  seeds?: NatsSeeds | undefined;
  /** Serve TLS only, with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string } | undefined;
  /**
   * JetStream's file storage limit, e.g. "64GB" (default: 75% of the store's free space). A store on
   * a small file system (chaos fills one) needs it larger than the streams' size limits add up to.
   */
  maxFileStore?: string | undefined;
}

export interface NatsProcess {
  url: string;
  port: number;
  /** Pid of the current server process (changes on restart). */
  readonly pid: number;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL (simulates a crash), then waits for the exit. */
  kill(): Promise<void>;
  /** Starts again on the same port and store dir, stopping the current process first if running. */
  restart(): Promise<void>;
  /** The identities it admits; undefined when it admits anyone. */
  seeds: NatsSeeds | undefined;
}

const HOST = '127.0.0.1';

interface Running {
  child: ChildProcess;
  tail: OutputTail;
}

async function launch(
  binary: string,
  args: string[],
  port: number,
  opts: NatsServerOptions,
): Promise<Running> {
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, 'SIGTERM');
  let ready = false;
  const tail = followOutput(child, (line) => {
    if (line.includes('Server is ready')) ready = true;
    opts.log?.(line);
  });
  await waitForReady(child, async () => ready && (await canConnect(HOST, port)), {
    label: `nats-server on ${HOST}:${port}`,
    timeoutMs,
    tail,
  });
  return { child, tail };
}

/** Starts a private nats-server with JetStream, bound to 127.0.0.1. */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsProcess> {
  const binary = await natsServerBinary(opts.log);
  const port = opts.port ? opts.port : await freePort();
  const storeDir = resolve(opts.storeDir);
  await mkdir(storeDir, { recursive: true });
  const args = ['-js', '-a', HOST, '-p', String(port), '-sd', storeDir];
  if (opts.name) args.push('-n', opts.name);
  const tls =
    opts.tls &&
    `tls {\n  cert_file: ${JSON.stringify(opts.tls.certFile)}\n  key_file: ${JSON.stringify(opts.tls.keyFile)}\n}\n`;
  const jetstream = opts.maxFileStore && `jetstream {\n  max_file_store: ${opts.maxFileStore}\n}\n`;
  const config = (opts.seeds ? natsAuthorizationConfig(opts.seeds) : '') + (tls ?? '') + (jetstream || '');
  if (config) {
    const file = join(storeDir, 'server.conf');
    await writeFile(file, config, { mode: 0o600 });
    args.push('-c', file);
  }

  let current = await launch(binary, args, port, opts);
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    await terminateChild(current.child, signal, 10_000);
    await current.tail.closed;
  };
  return {
    url: `nats://${HOST}:${port}`,
    port,
    seeds: opts.seeds,
    get pid() {
      return current.child.pid ?? 0;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      current = await launch(binary, args, port, opts);
    },
  };
}
