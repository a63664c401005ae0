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
import { handleWhen, IterableBackoff, retry } from 'cockatiel';
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
      max_bytes: options.maxBytes ?? 2 ** 30,
    },
    {
      ...common,
      ...Streams.orders,
      subjects: [...Streams.orders.subjects],
      max_age: nanos(STREAM_MAX_AGE_MS),
      max_bytes: options.maxBytes ?? 4 * 2 ** 30,
    },
    {
      ...common,
      ...Streams.deadLetters,
      subjects: [...Streams.deadLetters.subjects],
      max_age: nanos(90 * day),
      max_bytes: options.maxBytes ?? 2 ** 30,
    },
  ];
}

/** Up to 4 attempts, 250, 500 and 750 ms apart, for timed-out requests only. */
const unansweredRequests = retry(
  handleWhen((error) => error instanceof Error && /timeout/i.test(error.message)),
  { maxAttempts: 3, backoff: new IterableBackoff([250, 500, 750]) },
);

/**
 * Creates or updates the streams; safe to run from every replica at every
 * start. A timed-out request is retried (bounded): on nats-server 2.9 one of
 * two simultaneous first creations of a replicated stream can go unanswered.
 */
export function ensureStreams(jsm: JetStreamManager, options: StreamOptions = {}): Promise<void> {
  return unansweredRequests.execute(() => ensureStreamsOnce(jsm, options));
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
  /** false: streams are infrastructure; only checked (see TopologyMismatch). */
  NATS_MANAGE_TOPOLOGY?: boolean | undefined;
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
  if (config.NATS_MANAGE_TOPOLOGY === false) {
    const differences = await streamDifferences(jsm, options);
    if (differences.length > 0) throw new TopologyMismatch(differences);
    return 'checked';
  }
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
  /** false (NATS_MANAGE_TOPOLOGY): the consumer is infrastructure; only checked. */
  manage?: boolean;
}

/** The durable pull consumer Conveyor creates for these options (explicit acks, every message). */
export function durableConsumerConfig(options: DurableConsumerOptions): Partial<ConsumerConfig> {
  return {
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
}

/**
 * Creates or updates one durable pull consumer with explicit acks; with `manage: false` only
 * checks it, refusing (TopologyMismatch) when it is missing or its settings differ.
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  options: DurableConsumerOptions,
): Promise<void> {
  const config = durableConsumerConfig(options);
  if (options.manage === false) {
    const differences = await consumerDifferences(jsm, options.stream, config);
    if (differences.length > 0) throw new TopologyMismatch(differences);
    return;
  }
  try {
    // update() keeps what it is not given: where the durable starts, which an operator's reset
    // (ADR 0033) may have chosen and which cannot change.
    const { deliver_policy: _policy, opt_start_seq: _seq, opt_start_time: _time, ...changeable } = config;
    await jsm.consumers.update(options.stream, options.durable, changeable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.consumers.add(options.stream, config);
    } catch (addError) {
      if (!/already in use|exists/i.test((addError as Error).message)) throw addError;
    }
  }
}

/**
 * Streams or consumers managed outside the service (NATS_MANAGE_TOPOLOGY=false) that are missing
 * or differ from what it needs; the message names every difference and what to change.
 */
export class TopologyMismatch extends Error {
  override name = 'TopologyMismatch';
  readonly differences: readonly string[];
  constructor(differences: readonly string[]) {
    super(
      `NATS topology is managed outside the service (NATS_MANAGE_TOPOLOGY=false) and differs from what it needs:\n` +
        differences.map((d) => `  - ${d}`).join('\n') +
        '\nchange the streams and consumers (e.g. their NACK resources) or let the service manage them',
    );
    this.differences = differences;
  }
}

const ns = (n: number | undefined) => n ?? 0;
/** A nanosecond duration as people write it: 30d, 2m, 500ms; 0 is "unlimited". */
function duration(nanosValue: number | undefined): string {
  const ms = ns(nanosValue) / 1e6;
  if (ms === 0) return 'unlimited';
  for (const [unit, size] of [
    ['d', day],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
const sameSet = (a: readonly string[] = [], b: readonly string[] = []) =>
  a.length === b.length && a.every((x) => b.includes(x));
/** At least `wanted`, where 0 or less means unlimited (which is always enough). */
const atLeast = (found: number | undefined, wanted: number | undefined) =>
  ns(found) <= 0 || (ns(wanted) > 0 && ns(found) >= ns(wanted));

/**
 * What differs between the streams as the server has them and as Conveyor needs them. Exact:
 * subjects, retention, storage, discard policy, replicas. At least: max age (consumers' inboxes and
 * republishing rely on it, ADR 0030), duplicate window (Nats-Msg-Id), message size. Size limits
 * are the operator's.
 */
export async function streamDifferences(
  jsm: JetStreamManager,
  options: StreamOptions = {},
): Promise<string[]> {
  const differences: string[] = [];
  for (const wanted of streamConfigs(options)) {
    let found: StreamConfig;
    try {
      found = (await jsm.streams.info(wanted.name)).config;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      differences.push(`stream ${wanted.name} is missing (subjects ${wanted.subjects?.join(', ')})`);
      continue;
    }
    const is = (field: string, got: unknown, want: unknown) =>
      differences.push(`stream ${wanted.name}: ${field} is ${String(got)}, needs ${String(want)}`);
    if (!sameSet(found.subjects, wanted.subjects))
      is('subjects', found.subjects?.join(', '), wanted.subjects?.join(', '));
    if (found.retention !== wanted.retention) is('retention', found.retention, wanted.retention);
    if (found.storage !== wanted.storage) is('storage', found.storage, wanted.storage);
    if (found.discard !== wanted.discard) is('discard', found.discard, wanted.discard);
    if (found.num_replicas !== wanted.num_replicas)
      is('num_replicas', found.num_replicas, wanted.num_replicas);
    if (!atLeast(found.max_age, wanted.max_age))
      is('max_age', duration(found.max_age), `at least ${duration(wanted.max_age)}`);
    if (ns(found.duplicate_window) < ns(wanted.duplicate_window))
      is(
        'duplicate_window',
        duration(found.duplicate_window),
        `at least ${duration(wanted.duplicate_window)}`,
      );
    if (!atLeast(found.max_msg_size, wanted.max_msg_size))
      is('max_msg_size', found.max_msg_size, `at least ${wanted.max_msg_size}`);
  }
  return differences;
}

/**
 * What differs between a durable consumer as the server has it and as the service needs it:
 * exact ack policy, filter, max deliveries (the service dead-letters on its count) and ack wait;
 * at least as many acks pending as the service keeps in flight.
 */
export async function consumerDifferences(
  jsm: JetStreamManager,
  stream: string,
  wanted: Partial<ConsumerConfig>,
): Promise<string[]> {
  const name = `consumer ${stream}/${wanted.durable_name}`;
  let found: ConsumerConfig;
  try {
    found = (await jsm.consumers.info(stream, wanted.durable_name as string)).config;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return [`${name} is missing`];
  }
  const differences: string[] = [];
  const is = (field: string, got: unknown, want: unknown) =>
    differences.push(`${name}: ${field} is ${String(got)}, needs ${String(want)}`);
  const filters = (c: Partial<ConsumerConfig>) =>
    c.filter_subjects ?? (c.filter_subject ? [c.filter_subject] : []);
  if (!sameSet(filters(found), filters(wanted)))
    is('filter subjects', filters(found).join(', ') || 'none', filters(wanted).join(', '));
  if (found.ack_policy !== wanted.ack_policy) is('ack_policy', found.ack_policy, wanted.ack_policy);
  if (found.max_deliver !== wanted.max_deliver) is('max_deliver', found.max_deliver, wanted.max_deliver);
  if (ns(found.ack_wait) !== ns(wanted.ack_wait))
    is('ack_wait', duration(found.ack_wait), duration(wanted.ack_wait));
  if (!atLeast(found.max_ack_pending, wanted.max_ack_pending))
    is('max_ack_pending', found.max_ack_pending, `at least ${wanted.max_ack_pending}`);
  return differences;
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error)?.message ?? '');
}
