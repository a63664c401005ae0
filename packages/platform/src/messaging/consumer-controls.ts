import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { consumersV1 } from '@conveyor/contracts';
import { DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError, failedPrecondition, InvalidArgument } from '../errors.ts';
import { gauge } from '../observability/metrics.ts';
import { type Pool, withTransaction } from '../postgres/pool.ts';
import { type EventConsumerOptions, type PausableConsumer, startEventConsumer } from './event-consumer.ts';
import { INBOX_RETENTION_MS } from './retention.ts';
import { type DurableConsumerOptions, durableConsumerConfig, ensureDurableConsumer } from './topology.ts';

/**
 * Consumer controls (ADR 0033): an operator pauses, resumes or resets a durable consumer. nats-server
 * 2.9 has no consumer pause, so the flag lives in Postgres and every replica polls it, stops pulling
 * when it is set and reports what it obeys; a reset recreates the durable at a stream sequence or a
 * time, only while every live replica reports it paused.
 */
export const consumerControlsTableSql = `
  create table consumer_controls (
    stream text not null,
    durable text not null,
    paused boolean not null default false,
    -- Bumped by every pause, resume and reset: replicas report the one they obey.
    generation bigint not null default 0,
    changed_at timestamptz not null default now(),
    changed_by text not null default '',
    reason text not null default '',
    last_reset text not null default '',
    primary key (stream, durable)
  );
  create table consumer_replicas (
    stream text not null,
    durable text not null,
    replica text not null,
    generation bigint not null,
    paused boolean not null,
    seen_at timestamptz not null,
    primary key (stream, durable, replica)
  );
`;

/**
 * A consumer as an operator sees it: ConsumerService's `Consumer` message (proto/conveyor/consumers/v1),
 * whose fields are documented there, without the `lag` it derives.
 */
export type ConsumerStatus = Omit<consumersV1.Consumer, 'lag'>;

export type ResetTarget = { sequence: number } | { time: Date };

export interface ConsumerControlsOptions {
  pool: Pool;
  jsm: JetStreamManager;
  logger: Logger;
  registry?: Registry;
  /** How often a replica reads the flags (CONSUMER_CONTROL_POLL_MS). */
  pollMs: number;
  /** false (NATS_MANAGE_TOPOLOGY): durables are infrastructure, only checked at start, and reset is refused. */
  manageTopology: boolean;
  /** This process's name in the replicas' reports; the host name and pid by default. */
  replica?: string;
  now?: () => Date;
}

interface Controlled {
  options: DurableConsumerOptions;
  consumer: PausableConsumer;
  generation: number;
}

const keyOf = (stream: string, durable: string) => `${stream}/${durable}`;

export class ConsumerControls {
  readonly replica: string;
  readonly #o: ConsumerControlsOptions;
  readonly #consumers = new Map<string, Controlled>();
  readonly #stopping = new AbortController();
  readonly #paused;
  #loop: Promise<void> | undefined;
  #applying: Promise<void> = Promise.resolve();

  constructor(options: ConsumerControlsOptions) {
    this.#o = options;
    this.replica = options.replica ?? `${hostname()}:${process.pid}`;
    this.#paused =
      options.registry &&
      gauge(options.registry, {
        name: 'conveyor_consumer_paused',
        help: 'Whether this replica has paused a durable consumer (1) or pulls it (0), by operator command.',
        labelNames: ['stream', 'consumer'],
      });
  }

  /** How long a replica's report counts: after that it is taken for gone. */
  get #liveMs(): number {
    return Math.max(3 * this.#o.pollMs, 5000);
  }

  /**
   * Creates (or, under infrastructure-managed topology, checks) a durable and starts its consumer
   * under control: paused from the start when an operator paused it. The consumer's stream, name
   * and max deliveries are the durable's. Start every consumer before `start()`.
   */
  async startConsumer(
    durableOptions: Omit<DurableConsumerOptions, 'manage'>,
    consumer: Omit<EventConsumerOptions, 'stream' | 'durable' | 'maxDeliver'>,
  ): Promise<PausableConsumer> {
    const durable = { ...durableOptions, manage: this.#o.manageTopology };
    await ensureDurableConsumer(this.#o.jsm, durable);
    const { rows } = await this.#o.pool.query<{ paused: boolean; generation: string }>(
      'select paused, generation from consumer_controls where stream = $1 and durable = $2',
      [durable.stream, durable.durable],
    );
    const started = await startEventConsumer({
      ...consumer,
      stream: durable.stream,
      durable: durable.durable,
      maxDeliver: durable.maxDeliver,
      startPaused: rows[0]?.paused ?? false,
    });
    this.#consumers.set(keyOf(durable.stream, durable.durable), {
      options: durable,
      consumer: started,
      generation: Number(rows[0]?.generation ?? 0),
    });
    this.#paused?.set({ stream: durable.stream, consumer: durable.durable }, started.paused ? 1 : 0);
    return started;
  }

  /** Polls the flags every pollMs until stopped. */
  start(): void {
    const signal = this.#stopping.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        await this.#obey().catch((error) =>
          this.#o.logger.error({ err: error }, 'reading consumer controls failed; will retry'),
        );
        await sleep(this.#o.pollMs, undefined, { signal }).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await this.#applying;
  }

  /** Reads the flags, pauses or resumes the local consumers, and reports what this replica obeys. */
  #obey(): Promise<void> {
    const next = this.#applying.then(async () => {
      const controlled = [...this.#consumers.values()];
      if (controlled.length === 0) return;
      const streams = controlled.map((c) => c.options.stream);
      const durables = controlled.map((c) => c.options.durable);
      const { rows } = await this.#o.pool.query<{
        stream: string;
        durable: string;
        paused: boolean;
        generation: string;
      }>(
        `select c.stream, c.durable, c.paused, c.generation
           from consumer_controls c join unnest($1::text[], $2::text[]) as mine(stream, durable)
             using (stream, durable)`,
        [streams, durables],
      );
      const flags = new Map(rows.map((r) => [keyOf(r.stream, r.durable), r]));
      for (const c of controlled) {
        const flag = flags.get(keyOf(c.options.stream, c.options.durable));
        const paused = flag?.paused ?? false;
        if (paused && !c.consumer.paused) await c.consumer.pause();
        if (!paused && c.consumer.paused) await c.consumer.resume();
        c.generation = Number(flag?.generation ?? 0);
        this.#paused?.set(
          { stream: c.options.stream, consumer: c.options.durable },
          c.consumer.paused ? 1 : 0,
        );
      }
      await this.#o.pool.query(
        `insert into consumer_replicas (stream, durable, replica, generation, paused, seen_at)
           select stream, durable, $3, generation, paused, now()
             from unnest($1::text[], $2::text[], $4::bigint[], $5::boolean[])
               as r(stream, durable, generation, paused)
         on conflict (stream, durable, replica) do update
           set generation = excluded.generation, paused = excluded.paused, seen_at = excluded.seen_at`,
        [
          streams,
          durables,
          this.replica,
          controlled.map((c) => c.generation),
          controlled.map((c) => c.consumer.paused),
        ],
      );
      // Reports of replicas gone for a day are of no one.
      await this.#o.pool.query(`delete from consumer_replicas where seen_at < now() - interval '1 day'`);
    });
    this.#applying = next.catch(() => undefined);
    return next;
  }

  #find(stream: string, durable: string): Controlled {
    const found = this.#consumers.get(keyOf(stream, durable));
    if (found) return found;
    const known = [...this.#consumers.keys()].join(', ');
    throw new AppError(
      'NOT_FOUND',
      `consumer ${keyOf(stream, durable).slice(0, 80)} not found; this service has ${known}`,
    );
  }

  /** Every controlled consumer's status, in registration order. */
  async list(): Promise<ConsumerStatus[]> {
    return Promise.all(
      [...this.#consumers.values()].map((c) => this.status(c.options.stream, c.options.durable)),
    );
  }

  async status(stream: string, durable: string): Promise<ConsumerStatus> {
    this.#find(stream, durable);
    const [info, streamInfo, control, replicas] = await Promise.all([
      this.#o.jsm.consumers.info(stream, durable),
      this.#o.jsm.streams.info(stream),
      this.#o.pool.query<{
        paused: boolean;
        generation: string;
        changed_at: Date;
        changed_by: string;
        reason: string;
        last_reset: string;
      }>('select * from consumer_controls where stream = $1 and durable = $2', [stream, durable]),
      this.#o.pool.query<{ replica: string; paused: boolean; generation: string; seen_at: Date }>(
        `select replica, paused, generation, seen_at from consumer_replicas
          where stream = $1 and durable = $2 and seen_at > now() - make_interval(secs => $3)
          order by replica`,
        [stream, durable, this.#liveMs / 1000],
      ),
    ]);
    const row = control.rows[0];
    const generation = row?.generation ?? '0';
    const config = info.config;
    return {
      stream,
      durable,
      paused: row?.paused ?? false,
      changedAt: row?.changed_at,
      changedBy: row?.changed_by ?? '',
      reason: row?.reason ?? '',
      lastReset: row?.last_reset ?? '',
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
      deliveredSequence: info.delivered.stream_seq,
      ackFloorSequence: info.ack_floor.stream_seq,
      streamLastSequence: streamInfo.state.last_seq,
      startsAt:
        config.deliver_policy === DeliverPolicy.StartSequence
          ? `sequence ${config.opt_start_seq}`
          : config.deliver_policy === DeliverPolicy.StartTime
            ? // The server trims the time's trailing zeros (.740Z → .74Z): shown as ISO again.
              `time ${new Date(config.opt_start_time as string).toISOString()}`
            : String(config.deliver_policy),
      replicas: replicas.rows.map((r) => ({
        replica: r.replica,
        paused: r.paused,
        current: r.generation === generation,
        seenAt: r.seen_at,
      })),
    };
  }

  /**
   * The streams on which an operator has paused `durable`, each with the pause's reason, as the
   * flags say now (not as this replica obeys them yet): what its sequenced dead letters must not
   * apply (ADR 0031).
   */
  async pausedStreams(durable: string): Promise<Map<string, string>> {
    const { rows } = await this.#o.pool.query<{ stream: string; reason: string }>({
      name: 'conveyor-controls-paused-streams',
      text: 'select stream, reason from consumer_controls where durable = $1 and paused',
      values: [durable],
    });
    return new Map(rows.map((r) => [r.stream, r.reason]));
  }

  /** Sets the flag; every replica stops pulling within a poll (this one at once). */
  async pause(stream: string, durable: string, by: string, reason: string): Promise<ConsumerStatus> {
    return this.#set(stream, durable, true, by, reason);
  }

  async resume(stream: string, durable: string, by: string): Promise<ConsumerStatus> {
    return this.#set(stream, durable, false, by, '');
  }

  async #set(
    stream: string,
    durable: string,
    paused: boolean,
    by: string,
    reason: string,
  ): Promise<ConsumerStatus> {
    this.#find(stream, durable);
    await this.#o.pool.query(
      `insert into consumer_controls as c (stream, durable, paused, generation, changed_at, changed_by, reason)
         values ($1, $2, $3, 1, now(), $4, $5)
       on conflict (stream, durable) do update
         set paused = excluded.paused, generation = c.generation + 1,
             changed_at = now(), changed_by = excluded.changed_by, reason = excluded.reason`,
      [stream, durable, paused, by, reason],
    );
    this.#o.logger.warn(
      { stream, durable, by, reason },
      paused ? 'consumer pause requested' : 'consumer resume requested',
    );
    await this.#obey();
    return this.status(stream, durable);
  }

  /**
   * Recreates the durable so it delivers again from a stream sequence or a time (a replay). Only
   * while paused with every live replica obeying, under service-managed topology, and no further
   * back than consumers' inboxes remember (INBOX_RETENTION_MS): older events could take effect
   * twice. The consumer stays paused; resuming starts the replay.
   */
  async reset(stream: string, durable: string, to: ResetTarget, by: string): Promise<ConsumerStatus> {
    const controlled = this.#find(stream, durable);
    if (!this.#o.manageTopology) {
      throw failedPrecondition(
        'NATS_MANAGE_TOPOLOGY=false: the durable is managed as infrastructure; reset it there',
      );
    }
    const now = this.#o.now?.() ?? new Date();
    const oldest = new Date(now.getTime() - INBOX_RETENTION_MS);
    const start = await this.#startOf(stream, to, now, oldest);
    await withTransaction(this.#o.pool, async (client) => {
      // One reset, pause or resume at a time.
      const { rows } = await client.query<{ paused: boolean; generation: string }>(
        'select paused, generation from consumer_controls where stream = $1 and durable = $2 for update',
        [stream, durable],
      );
      const row = rows[0];
      if (!row?.paused) {
        throw failedPrecondition(
          `consumer ${keyOf(stream, durable)} is not paused: pause it first, so no replica pulls while it is recreated`,
        );
      }
      const { rows: replicas } = await client.query<{ replica: string }>(
        `select replica from consumer_replicas
          where stream = $1 and durable = $2 and seen_at > now() - make_interval(secs => $3)
            and not (paused and generation = $4)`,
        [stream, durable, this.#liveMs / 1000, row.generation],
      );
      if (replicas.length > 0) {
        throw failedPrecondition(
          `replicas still pulling or not yet caught up with the pause: ${replicas
            .map((r) => r.replica)
            .slice(0, 5)
            .join(', ')}; they obey within ${this.#o.pollMs} ms, try again`,
        );
      }
      const config = {
        ...durableConsumerConfig(controlled.options),
        ...('sequence' in to
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.sequence }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: to.time.toISOString() }),
      };
      await this.#o.jsm.consumers.delete(stream, durable).catch((error: Error) => {
        if (!/not found/i.test(error.message)) throw error;
      });
      await this.#o.jsm.consumers.add(stream, config).catch((error: Error) => {
        // Still paused, nobody pulls: a second reset recreates it.
        throw new AppError(
          'UNAVAILABLE',
          `consumer ${keyOf(stream, durable)} was deleted but not recreated (${error.message.slice(0, 200)}); reset it again`,
        );
      });
      const described = 'sequence' in to ? `sequence ${start.sequence}` : `time ${to.time.toISOString()}`;
      await client.query(
        `update consumer_controls
            set generation = generation + 1, changed_at = now(), changed_by = $3, last_reset = $4
          where stream = $1 and durable = $2`,
        [stream, durable, by, `to ${described} at ${now.toISOString()} by ${by}`],
      );
      this.#o.logger.warn({ stream, durable, by, to: described }, 'consumer reset');
    });
    await this.#obey();
    return this.status(stream, durable);
  }

  /** Checks the target against the stream and the inbox retention; the sequence to start at. */
  async #startOf(stream: string, to: ResetTarget, now: Date, oldest: Date): Promise<{ sequence?: number }> {
    const retention = `${INBOX_RETENTION_MS / 86_400_000} days`;
    if ('time' in to) {
      if (Number.isNaN(to.time.getTime())) throw new InvalidArgument('time', 'not a time');
      if (to.time > now) throw new InvalidArgument('time', 'is in the future');
      if (to.time < oldest) {
        throw failedPrecondition(
          `time: ${to.time.toISOString()} is older than the inbox retention (${retention}): events from ` +
            'before it could take effect twice; reset to a later time',
        );
      }
      return {};
    }
    if (!Number.isSafeInteger(to.sequence) || to.sequence < 1) {
      throw new InvalidArgument('sequence', 'must be a stream sequence from 1');
    }
    const { state } = await this.#o.jsm.streams.info(stream);
    if (to.sequence > state.last_seq + 1) {
      throw new InvalidArgument('sequence', `is past the end of ${stream} (its last is ${state.last_seq})`);
    }
    if (to.sequence < state.first_seq) {
      throw failedPrecondition(
        `sequence: ${to.sequence} is no longer in ${stream} (its first is ${state.first_seq}); reset to a later one`,
      );
    }
    if (to.sequence <= state.last_seq) {
      // The message's own time; for one deleted from the stream, the stream's oldest (a bound below).
      const stored =
        (await this.#o.jsm.streams
          .getMessage(stream, { seq: to.sequence })
          .then((m) => m?.time)
          .catch(() => undefined)) ?? new Date(state.first_ts);
      if (stored < oldest) {
        throw failedPrecondition(
          `sequence: ${to.sequence} was stored ${stored.toISOString()}, older than the inbox retention ` +
            `(${retention}): it could take effect twice; reset to a later one`,
        );
      }
    }
    return { sequence: to.sequence };
  }
}
