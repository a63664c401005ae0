import { Streams } from '@conveyor/contracts';
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { connectNats, manager, type NatsTlsConfig } from './nats.ts';
import { STREAM_MAX_AGE_MS } from './retention.ts';

const day = 24 * 60 * 60 * 1000;

export interface StreamOptions {
  /** 1 locally; 3 on a NATS cluster. */
  replicas?: number;
  /** Every stream's size limit instead of its own (tests fill a stream with a small one). */
  maxBytes?: number;
}

/**
 * The streams every service relies on. Limits retention (fan-out to every
 * consumer), file storage, a 2-minute duplicate window for `Nats-Msg-Id`,
 * and caps on age and size so nothing grows without bound.
 */
export function streamConfigs(options: StreamOptions = {}): (Partial<StreamConfig> & { name: string })[] {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // Full: refuse new messages (the outbox keeps them, the relay backs off) rather than
    // discard the oldest, which a consumer that fell behind would never see (issue 23).
    discard: DiscardPolicy.New,
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: options.replicas ?? 1,
    max_msg_size: 1024 * 1024,
  };
  return [
    {
      ...common,
      ...Streams.users,
      subjects: [...Streams.users.subjects],
      max_age: nanos(STREAM_MAX_AGE_MS),
      max_bytes: options.maxBytes ?? 1 << 30,
    },
    {
      ...common,
      ...Streams.orders,
      subjects: [...Streams.orders.subjects],
      max_age: nanos(STREAM_MAX_AGE_MS),
      max_bytes: options.maxBytes ?? 4 << 30,
    },
    {
      ...common,
      ...Streams.deadLetters,
      subjects: [...Streams.deadLetters.subjects],
      max_age: nanos(90 * day),
      max_bytes: options.maxBytes ?? 1 << 30,
    },
  ];
}

/**
 * Creates or updates the streams; safe to run from every replica at every
 * start. A timed-out request is retried (bounded): on nats-server 2.9 one of
 * two simultaneous first creations of a replicated stream can go unanswered.
 */
export async function ensureStreams(jsm: JetStreamManager, options: StreamOptions = {}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureStreamsOnce(jsm, options);
    } catch (error) {
      if (attempt >= 4 || !/timeout/i.test((error as Error)?.message ?? '')) throw error;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function ensureStreamsOnce(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  for (const config of streamConfigs(options)) {
    const name = config.name;
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another replica created it between our info and add.
        if (!/already in use|exists/i.test((addError as Error).message)) throw addError;
      }
    }
  }
}

export interface StreamAccess extends NatsTlsConfig {
  NATS_URL: string;
  NATS_STREAM_REPLICAS: number;
  NATS_NKEY_SEED?: string | undefined;
  NATS_ADMIN_NKEY_SEED?: string | undefined;
}

/**
 * Streams as a service's start-up (or a migration) finds them (ADR 0025): created or updated
 * through a short connection as the admin identity when its seed is given; on a server without
 * authentication (no identity of the service's own), created on the service's connection; else
 * only checked, and start-up is refused naming every missing stream.
 */
export async function prepareStreams(
  jsm: JetStreamManager,
  config: StreamAccess,
  logger: Logger,
): Promise<'created' | 'checked'> {
  const options = { replicas: config.NATS_STREAM_REPLICAS };
  if (config.NATS_ADMIN_NKEY_SEED) {
    await ensureStreamsAsAdmin(config, logger);
    return 'created';
  }
  if (!config.NATS_NKEY_SEED) {
    await ensureStreams(jsm, options);
    return 'created';
  }
  const missing: string[] = [];
  for (const { name } of streamConfigs(options)) {
    try {
      await jsm.streams.info(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `NATS stream(s) ${missing.join(', ')} missing: they are created by the admin identity ` +
        '(NATS_ADMIN_NKEY_SEED, given to migrations or start-up), which this process was not given',
    );
  }
  return 'checked';
}

/** Creates or updates the streams as the admin identity, on a connection of its own. */
export async function ensureStreamsAsAdmin(config: StreamAccess, logger: Logger): Promise<void> {
  const seed = config.NATS_ADMIN_NKEY_SEED;
  if (!seed) throw new Error('NATS_ADMIN_NKEY_SEED is not set');
  const admin = await connectNats({
    url: config.NATS_URL,
    name: 'conveyor-admin',
    logger,
    identity: { name: 'admin', seed },
    tls: config,
  });
  try {
    await ensureStreams(await manager(admin), { replicas: config.NATS_STREAM_REPLICAS });
  } finally {
    await admin.close();
  }
}

export interface DurableConsumerOptions {
  stream: string;
  durable: string;
  filterSubjects: string[];
  maxDeliver: number;
  /**
   * How long a delivery may stay unacknowledged before JetStream redelivers
   * it (the consumer crashed or hangs). Handlers must finish well within it.
   * No consumer `backoff`: it would replace ack_wait with its first step and
   * redeliver a message while its first delivery is still being handled;
   * retry delays come from nak(delay) instead (see startEventConsumer).
   */
  ackWaitMs: number;
  maxAckPending: number;
}

/** Creates or updates one durable pull consumer with explicit acks. */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  options: DurableConsumerOptions,
): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // One subject uses filter_subject, which nats-server 2.9 (Debian 12's) understands too.
    ...(options.filterSubjects.length === 1
      ? { filter_subject: options.filterSubjects[0] }
      : { filter_subjects: options.filterSubjects }),
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: options.maxDeliver,
    max_ack_pending: options.maxAckPending,
  };
  try {
    await jsm.consumers.info(options.stream, options.durable);
    await jsm.consumers.update(options.stream, options.durable, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.consumers.add(options.stream, config);
    } catch (addError) {
      if (!/already in use|exists/i.test((addError as Error).message)) throw addError;
    }
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error)?.message ?? '');
}
