import { join } from 'node:path';
import type { NatsSeeds } from '../nats-identities.ts';
import { ensureNats, probeNats } from '../nats-infra.ts';
import { createDatabase, databaseUrl, ensurePostgres, probePostgres, redact } from '../postgres-infra.ts';
import { startSmtpSink } from '../smtp-sink.ts';
import { startWebhookSink } from '../webhook-sink.ts';
import type { LauncherConfig } from './launcher-config.ts';
import { isPortFree } from './ports.ts';
import { displayPath, type Progress } from './progress.ts';
import type { Teardown } from './teardown.ts';

export interface StartedPostgres {
  /** URL of the stack's database (given to services). */
  url: string;
  note: string;
}

/** The configured server when it answers, else embedded Postgres; then the stack's database. */
export async function startPostgres(
  config: LauncherConfig,
  progress: Progress,
  teardown: Teardown,
): Promise<StartedPostgres> {
  const dataDir = join(config.home, 'postgres');
  const server = await ensurePostgres({
    url: config.postgresUrl,
    dataDir,
    port: config.embeddedPostgresPort,
    log: progress.infraLog('postgres'),
  });
  teardown.add('postgres', async () => {
    if (!server.started) return `postgres: left running at ${redact(server.url)} (not started here)`;
    await server.stop();
    return 'postgres: stopped the embedded server';
  });
  const url = databaseUrl(server.url, config.database);
  const existed = await probePostgres(url);
  if (!existed) await createDatabase(server.url, config.database);
  progress.step('postgres', `database ${config.database} ${existed ? 'found' : 'created'}`);
  const embedded = server.url.includes(`:${config.embeddedPostgresPort}/`);
  const where = embedded ? `embedded, data in ${displayPath(dataDir)}` : 'already running';
  return { url, note: server.started ? `${where}, started here` : where };
}

export interface StartedNats {
  url: string;
  note: string;
  seeds: NatsSeeds | undefined;
}

/**
 * The configured NATS when it has JetStream, else a nats-server of our own on 4222 (4223
 * when 4222 is held by something else).
 */
export async function startNats(
  config: LauncherConfig,
  progress: Progress,
  teardown: Teardown,
): Promise<StartedNats> {
  let port = config.natsPort;
  if (!(await probeNats(config.natsUrl))) {
    const ownUrl = `nats://127.0.0.1:${port}`;
    if (!(await isPortFree(port)) && !(await probeNats(ownUrl))) {
      progress.step('nats', `127.0.0.1:${port} is taken by something without JetStream; using ${port + 1}`);
      port += 1;
    }
  }
  const storeDir = join(config.home, 'nats');
  const nats = await ensureNats({ url: config.natsUrl, storeDir, port, log: progress.infraLog('nats') });
  teardown.add('nats', async () => {
    if (!nats.started) return `nats: left running at ${nats.url} (not started here)`;
    await nats.stop();
    return 'nats: stopped nats-server';
  });
  const auth = nats.seeds ? 'an nkey identity per service' : 'NO authentication';
  return {
    url: nats.url,
    seeds: nats.seeds,
    note: nats.started
      ? `nats-server started here, store in ${displayPath(storeDir)}, ${auth}`
      : `already running, ${auth}`,
  };
}

export interface StartedSink {
  smtpPort: number;
  webPort: number;
  /** The webhook sink's base URL (deliveries go to any path but /_sink). */
  webhookUrl: string;
}

/**
 * The in-process SMTP sink and webhook sink; a port that is taken is replaced by a free one (and
 * said so).
 */
export async function startSink(
  config: LauncherConfig,
  progress: Progress,
  teardown: Teardown,
): Promise<StartedSink> {
  const choose = async (port: number, what: string): Promise<number> => {
    if (await isPortFree(port)) return port;
    progress.step('sinks', `port ${port} (${what}) is taken; using a free port instead`);
    return 0;
  };
  const sink = await startSmtpSink({
    smtpPort: await choose(config.smtpPort, 'SMTP'),
    httpPort: await choose(config.smtpWebPort, 'web UI'),
  });
  teardown.add('smtp sink', async () => {
    await sink.close();
    return 'smtp sink: closed';
  });
  const webPort = sink.httpPort ?? 0;
  progress.step('sinks', `SMTP on 127.0.0.1:${sink.smtpPort}, web UI http://127.0.0.1:${webPort}`);
  const webhooks = await startWebhookSink({ port: await choose(config.webhookSinkPort, 'webhook sink') });
  teardown.add('webhook sink', async () => {
    await webhooks.close();
    return 'webhook sink: closed';
  });
  progress.step('sinks', `webhooks on ${webhooks.url} (answering 2xx; conveyor webhooks sink --refuse)`);
  return { smtpPort: sink.smtpPort, webPort, webhookUrl: webhooks.url };
}
