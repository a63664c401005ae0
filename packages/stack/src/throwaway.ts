// Throwaway infrastructure for one system or one test: a fresh database on the test Postgres server,
// a private nats-server and an SMTP sink, each on free ports and removed by stop()/drop().
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsSeeds } from './nats-identities.ts';
import { type NatsProcess, startNatsServer } from './nats-server.ts';
import { createDatabase, DEFAULT_POSTGRES_URL, dropDatabase } from './postgres-infra.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Admin URL for test databases: CONVEYOR_TEST_DATABASE_URL or the local default server. */
export function testAdminUrl(): string {
  return process.env.CONVEYOR_TEST_DATABASE_URL || DEFAULT_POSTGRES_URL;
}

/** `t_<prefix>_<random>`: lowercase, [a-z0-9_] only, at most 63 characters. */
export function testDatabaseName(prefix: string): string {
  const random = randomBytes(6).toString('hex');
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  return `t_${clean.slice(0, 63 - 3 - 1 - random.length)}_${random}`;
}

/** A fresh, uniquely named database; drop() removes it (forcing sessions off). */
export async function testDatabase(prefix: string): Promise<TestDatabase> {
  const adminUrl = testAdminUrl();
  const name = testDatabaseName(prefix);
  const url = await createDatabase(adminUrl, name);
  return { url, name, drop: () => dropDatabase(adminUrl, name) };
}

export interface TestNats extends NatsProcess {
  storeDir: string;
}

/**
 * A private nats-server with JetStream on a random port and a temporary store. kill() and
 * restart() keep the store (for crash tests); stop() also deletes it. With `seeds` it admits
 * only those identities (ADR 0025).
 */
export async function testNats(
  options: { seeds?: NatsSeeds | undefined; tls?: { certFile: string; keyFile: string } } = {},
): Promise<TestNats> {
  const storeDir = await mkdtemp(join(tmpdir(), 'conveyor-test-nats-'));
  let nats: NatsProcess;
  try {
    nats = await startNatsServer({ port: 0, storeDir, seeds: options.seeds, tls: options.tls });
  } catch (error) {
    await rm(storeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: nats.url,
    port: nats.port,
    seeds: nats.seeds,
    storeDir,
    get pid() {
      return nats.pid;
    },
    kill: () => nats.kill(),
    restart: () => nats.restart(),
    async stop() {
      await nats.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** An SMTP sink on random SMTP and HTTP ports. */
export function testSmtpSink(): Promise<SmtpSink> {
  return startSmtpSink({ smtpPort: 0, httpPort: 0 });
}
