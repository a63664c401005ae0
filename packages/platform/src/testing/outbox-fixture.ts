import { testNats } from '@conveyor/stack/testing';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectNats } from '../messaging/nats.ts';
import { OutboxRelay, type OutboxRelayOptions } from '../messaging/outbox-relay.ts';
import { ensureStreams, type StreamOptions } from '../messaging/topology.ts';
import { messagingTablesSql } from '../postgres/migrate.ts';
import { schemaFixture } from './schema-fixture.ts';

export interface OutboxFixture {
  url: string;
  schema: string;
  pool: pg.Pool;
  nc: NatsConnection;
  jsm: JetStreamManager;
  nats: Awaited<ReturnType<typeof testNats>>;
  /** The relays started here, in order; a test may stop and remove its own. */
  relays: OutboxRelay[];
  /** Starts a relay on this outbox; `stop()` stops it with the rest. */
  startRelay(options?: Partial<OutboxRelayOptions>): OutboxRelay;
  stop(): Promise<void>;
}

/**
 * A throwaway database with an outbox table in `schema`, a private NATS with Conveyor's streams, and
 * relays on them: what the outbox and relay tests share.
 */
export async function outboxFixture(opts: {
  name: string;
  schema: string;
  logger: Logger;
  streams?: StreamOptions;
  poolMax?: number;
}): Promise<OutboxFixture> {
  const tables = await schemaFixture({
    name: opts.name,
    schema: opts.schema,
    tables: { '0001_outbox': messagingTablesSql.outbox },
    poolMax: opts.poolMax,
  });
  const { url, pool } = tables;
  const nats = await testNats();
  const nc = await connectNats({ url: nats.url, name: `${opts.name}-test`, logger: opts.logger });
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, opts.streams);
  const relays: OutboxRelay[] = [];
  return {
    url,
    schema: opts.schema,
    pool,
    nc,
    jsm,
    nats,
    relays,
    startRelay(options = {}) {
      const relay = new OutboxRelay({
        url,
        schema: opts.schema,
        nc,
        logger: opts.logger,
        ...options,
      });
      relay.start();
      relays.push(relay);
      return relay;
    },
    async stop() {
      await Promise.all(relays.map((r) => r.stop()));
      await nc.close();
      await nats.stop();
      await tables.stop();
    },
  };
}
