import { findEventDefinition, parseDataSchemaUri } from '@conveyor/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import { DelegateBackoff, handleWhenResult, type IRetryBackoffContext, retry } from 'cockatiel';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import { gauge } from '../observability/metrics.ts';
import { withoutAddresses } from '../observability/personal-data.ts';
import { type Pool, type PoolClient, withTransaction } from '../postgres/pool.ts';
import type { CloudEvent } from './cloud-event.ts';
import { bounded } from './consumer-telemetry.ts';
import { deleteDeadLetter } from './dead-letters.ts';
import { type BatchHandler, backoffStep, type HandlingOutcome, handleAgain } from './handling-outcome.ts';

/**
 * The sequence an event belongs to, as the catalog declares it (`orderId:<uuid>`, `userId:<uuid>`).
 * Only a decoded event has one: a message that failed decoding or validation is dead-lettered
 * under its own id (`ownSequenceKey`), so a forged message cannot park a victim's key.
 */
export function sequenceKeyOf(event: CloudEvent): string | undefined {
  const schema = parseDataSchemaUri(event.dataschema);
  const definition = schema && findEventDefinition(schema.type, schema.version);
  if (!definition) return undefined;
  const value = (event.data as Record<string, unknown>)[definition.sequenceKey];
  return typeof value === 'string' ? `${definition.sequenceKey}:${value}` : undefined;
}

/** The sequence of one message alone. */
export function ownSequenceKey(stream: string, streamSequence: number): string {
  return `message:${stream}:${streamSequence}`;
}

/**
 * What the table holds for a key: `retrying` (the head, failing; JetStream still redelivers it),
 * `dead` (the head, given up: a dead letter) and `parked` (acknowledged in JetStream, waiting
 * behind the head).
 */
export type ParkedState = 'retrying' | 'dead' | 'parked';

/** A message as JetStream delivered it, stored to be applied later. */
export interface StoredMessage {
  stream: string;
  streamSequence: number;
  subject: string;
  headers: ReadonlyMap<string, string>;
  payload: Uint8Array;
  deliveries: number;
}

export interface ParkedMessage {
  id: string;
  consumer: string;
  sequenceKey: string;
  state: ParkedState;
  stream: string;
  streamSequence: number;
  subject: string;
  eventId: string | undefined;
  eventType: string | undefined;
  reason: string;
  deliveries: number;
  attempts: number | undefined;
  parkedAt: Date;
  /** The sequence of its copy in DEADLETTERS, when it is a dead head. */
  deadLetterSeq: number | undefined;
  headers: ReadonlyMap<string, string>;
  payload: Uint8Array;
}

/** One blocked sequence: its head (the dead letter) and how many messages wait behind it. */
export interface DeadLetterSequence {
  head: ParkedMessage;
  parkedBehind: number;
}

export interface SequencedDeadLettersOptions {
  pool: Pool;
  /** The durable consumer (and inbox) name these sequences belong to. */
  consumer: string;
  /** The consumer's own handler: released and redriven messages are applied through it. */
  handler: BatchHandler;
  logger: Logger;
  /** Attempts for a released message before it becomes the new dead head (the consumer's max_deliver). */
  maxDeliver: number;
  backoffMs: readonly number[];
  /**
   * Where copies of the dead heads are published (DEADLETTERS); removed with their sequence. The
   * sweeper also reads the durable's ack floor through it (retrying heads handled elsewhere).
   */
  jsm?: JetStreamManager | undefined;
  /** How often the sweeper looks for sequences nothing else would release (startSweeping); default 5 s. */
  sweepMs?: number;
  /**
   * The streams on which an operator has paused this consumer (ADR 0033), each with the pause's
   * reason. A paused consumer applies nothing: a release stops before a message of a paused
   * stream (the sweeper finishes it once resumed) and redrive and discard are refused. Without
   * it, the consumer is never paused.
   */
  pausedStreams?: () => Promise<ReadonlyMap<string, string>>;
  /** Exposes `conveyor_parked_messages{consumer,state}`, counted on scrape. */
  registry?: Registry | undefined;
}

/** Messages applied at most by one redrive or discard call; the rest are released in the background. */
const applyPerCall = 1000;

/**
 * Axon-style sequenced dead letters in Postgres (ADR 0031). Once a message of key K fails
 * (retrying, or dead), the later messages of K are acknowledged in JetStream and parked here
 * behind it; other keys flow. When the head succeeds, is redriven or is discarded, the parked
 * messages are applied in stream order through the consumer's handler, one releaser per key
 * (a session advisory lock), so two replicas never apply one sequence twice at once.
 */
export class SequencedDeadLetters {
  readonly consumer: string;
  readonly #options: SequencedDeadLettersOptions;
  /** Background releases, one at a time: each holds a connection while it applies messages. */
  #queue: Promise<unknown> = Promise.resolve();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #stopping = new AbortController();

  constructor(options: SequencedDeadLettersOptions) {
    this.#options = options;
    this.consumer = options.consumer;
    if (options.registry) this.#measure(options.registry);
  }

  #measure(registry: Registry): void {
    const parked = gauge(registry, {
      name: 'conveyor_parked_messages',
      help: 'Heads (retrying, dead) and messages parked behind them, by consumer (ADR 0031); read on scrape.',
      labelNames: ['consumer', 'state'],
    });
    // A scrape never waits on an unreachable Postgres: after 1 s the last values stay.
    (parked as unknown as { collect: () => Promise<void> }).collect = async () => {
      const counted = await bounded(
        this.#options.pool.query<{ state: ParkedState; n: string }>(
          'select state, count(*) as n from parked_messages where consumer = $1 group by state',
          [this.consumer],
        ),
      ).catch(() => undefined);
      if (!counted) return;
      const { rows } = counted;
      for (const state of ['retrying', 'dead', 'parked'] as const) {
        parked.set({ consumer: this.consumer, state }, Number(rows.find((r) => r.state === state)?.n ?? 0));
      }
    };
  }

  /** For each key that has parked messages: its head's position. */
  async heads(keys: readonly string[]): Promise<Map<string, { stream: string; streamSequence: number }>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.#options.pool.query<{
      sequence_key: string;
      stream: string;
      stream_sequence: string;
    }>({
      name: 'conveyor-parking-heads',
      text: `select distinct on (sequence_key) sequence_key, stream, stream_sequence from parked_messages
             where consumer = $1 and sequence_key = any($2::text[]) order by sequence_key, stream_sequence, id`,
      values: [this.consumer, keys],
    });
    return new Map(
      rows.map((r) => [r.sequence_key, { stream: r.stream, streamSequence: Number(r.stream_sequence) }]),
    );
  }

  /**
   * Parks a message behind its key's head. false when the key has no head any more (released
   * meanwhile): the caller then lets the message come again and handles it.
   */
  async park(key: string, message: StoredMessage, reason: string): Promise<boolean> {
    return this.#inSequenceLock(key, async (client) => {
      // Stored before (a redelivery of a parked message): counts as parked, its state kept; a
      // retrying message that is not its key's head any more waits behind it now.
      const { rowCount } = await client.query({
        name: 'conveyor-parking-park',
        text: `insert into parked_messages
                 (consumer, sequence_key, state, stream, stream_sequence, subject, headers, payload, reason, deliveries)
               select $1, $2, 'parked', $3, $4, $5, $6, $7, $8, $9
               where exists (select 1 from parked_messages where consumer = $1 and sequence_key = $2)
               on conflict (consumer, stream, stream_sequence) do update
                 set state = case when parked_messages.state = 'retrying' then 'parked' else parked_messages.state end`,
        values: [this.consumer, key, ...messageValues(message), reason, message.deliveries],
      });
      return rowCount === 1;
    });
  }

  /**
   * Makes a failing message the head of its key (or records that it is dead now). A retry from
   * an earlier delivery than the row's (one that outlived its ack wait, JetStream having given
   * the message to another replica since) changes nothing: that replica parked it or made it dead.
   */
  async hold(
    key: string,
    message: StoredMessage,
    failure: {
      state: 'retrying' | 'dead';
      reason: string;
      attempts?: number | undefined;
      /** Its copy's sequence in DEADLETTERS, removed with it. */
      copySeq?: number | undefined;
    },
  ): Promise<void> {
    await this.#inSequenceLock(key, (client) =>
      client.query({
        name: 'conveyor-parking-hold',
        text: `insert into parked_messages
                 (consumer, sequence_key, state, stream, stream_sequence, subject, headers, payload, reason, deliveries,
                  attempts, dead_letter_seq)
               values ($1, $2, $10, $3, $4, $5, $6, $7, $8, $9, $11, $12)
               on conflict (consumer, stream, stream_sequence) do update
                 set state = excluded.state, reason = excluded.reason, deliveries = excluded.deliveries,
                     attempts = excluded.attempts,
                     dead_letter_seq = coalesce(excluded.dead_letter_seq, parked_messages.dead_letter_seq)
               where excluded.state = 'dead' or parked_messages.deliveries <= excluded.deliveries`,
        values: [
          this.consumer,
          key,
          ...messageValues(message),
          cleanReason(failure.reason),
          message.deliveries,
          failure.state,
          failure.attempts ?? null,
          failure.copySeq ?? null,
        ],
      }),
    );
  }

  /** The head of `key` was handled after all: it is done, and what waited behind it is released. */
  resolved(key: string, message: { stream: string; streamSequence: number }): void {
    this.#background(async () => {
      await this.#options.pool.query(
        'delete from parked_messages where consumer = $1 and stream = $2 and stream_sequence = $3',
        [this.consumer, message.stream, message.streamSequence],
      );
      await this.#release(key, { head: 'stop' });
    });
  }

  /** A dead letter's copy in DEADLETTERS was redriven elsewhere: its sequence row goes, and the key is released. */
  async copyRedriven(message: { stream: string; streamSequence: number }): Promise<void> {
    const { rows } = await this.#options.pool.query<{ sequence_key: string }>(
      'select sequence_key from parked_messages where consumer = $1 and stream = $2 and stream_sequence = $3',
      [this.consumer, message.stream, message.streamSequence],
    );
    if (rows[0]) this.resolved(rows[0].sequence_key, message);
  }

  /**
   * Dead letters' copies were purged from DEADLETTERS (`dlq purge`): their messages are dropped
   * as a discard drops a head, never applied, and what waited behind a dropped head is released
   * in the background (once the consumer is not paused; the sweeper finishes what is cut short).
   * `purged`: the originals' positions, or every dead message whose copy was at or below
   * `through` in DEADLETTERS, of one original subject or of all. Returns how many were dropped.
   */
  async purged(purged: PurgedCopies): Promise<number> {
    const { rows } = await this.#options.pool.query<{ sequence_key: string }>(
      'positions' in purged
        ? {
            text: `delete from parked_messages p
                   using unnest($2::text[], $3::bigint[]) as purged(stream, stream_sequence)
                   where p.consumer = $1 and p.state = 'dead'
                     and p.stream = purged.stream and p.stream_sequence = purged.stream_sequence
                   returning p.sequence_key`,
            values: [
              this.consumer,
              purged.positions.map((p) => p.stream),
              purged.positions.map((p) => p.streamSequence),
            ],
          }
        : {
            text: `delete from parked_messages
                   where consumer = $1 and state = 'dead' and dead_letter_seq <= $2
                     and ($3::text is null or subject = $3)
                   returning sequence_key`,
            values: [this.consumer, purged.through, purged.subject ?? null],
          },
    );
    const keys = new Set(rows.map((r) => r.sequence_key));
    if (keys.size > 0) {
      this.#options.logger.warn(
        { consumer: this.consumer, dropped: rows.length, sequences: keys.size },
        'purged dead letters dropped from their sequences; releasing what waited behind them',
      );
    }
    for (const key of keys) this.#background(() => this.#release(key, { head: 'stop' }));
    return rows.length;
  }

  /**
   * Now and then finishes what nothing else would: keys whose head is a parked message (a release
   * cut short by a crash, or one that waited for a paused consumer), and keys whose retrying head
   * JetStream will not deliver again. Keys whose head is on a paused stream wait.
   */
  startSweeping(): void {
    const sweep = async () => {
      const paused = await this.#pausedStreams();
      const { rows } = await this.#options.pool.query<SweptHead>({
        name: 'conveyor-parking-orphans',
        text: `select sequence_key, state, stream, stream_sequence from (
                 select distinct on (sequence_key) sequence_key, state, stream, stream_sequence, deliveries
                 from parked_messages where consumer = $1 order by sequence_key, stream_sequence, id) heads
               where (state = 'parked' or (state = 'retrying' and deliveries < $2))
                 and stream <> all($3::text[])
               limit 100`,
        values: [this.consumer, this.#options.maxDeliver - 1, [...paused.keys()]],
      });
      const handled = await this.#handledElsewhere(rows.filter((r) => r.state === 'retrying'));
      for (const head of handled) await this.#dropHandledHead(head);
      for (const head of [...rows.filter((r) => r.state === 'parked'), ...handled]) {
        await this.#release(head.sequence_key, { head: 'stop' });
      }
    };
    const tick = () => {
      if (this.#stopping.signal.aborted) return;
      this.#background(sweep);
      this.#sweeper = setTimeout(tick, this.#options.sweepMs ?? 5000);
      this.#sweeper.unref();
    };
    tick();
  }

  /**
   * The retrying heads JetStream is done with: at or below the durable's ack floor. A replica
   * whose delivery outlived its ack wait (a Postgres blackholed, a pause) records its failure
   * late, when JetStream may have given the message to another replica that handled it: that
   * head would wait for a redelivery that never comes, and park its key for good. A head with
   * fewer deliveries than max_deliver - 1 had a later delivery that failed nowhere, so it was
   * acknowledged; one past that (its last delivery may have crashed) is left to the operator.
   */
  async #handledElsewhere(retrying: readonly SweptHead[]): Promise<SweptHead[]> {
    const jsm = this.#options.jsm;
    const handled: SweptHead[] = [];
    if (!jsm) return handled;
    const floors = new Map<string, Promise<number | undefined>>();
    for (const head of retrying) {
      if (!floors.has(head.stream)) {
        floors.set(
          head.stream,
          jsm.consumers.info(head.stream, this.consumer).then(
            (info) => info.ack_floor.stream_seq,
            () => undefined,
          ),
        );
      }
      const floor = await floors.get(head.stream);
      if (floor !== undefined && Number(head.stream_sequence) <= floor) handled.push(head);
    }
    return handled;
  }

  async #dropHandledHead(head: SweptHead): Promise<void> {
    const { rowCount } = await this.#options.pool.query(
      `delete from parked_messages
       where consumer = $1 and stream = $2 and stream_sequence = $3 and state = 'retrying'`,
      [this.consumer, head.stream, head.stream_sequence],
    );
    if (rowCount) {
      this.#options.logger.warn(
        {
          consumer: this.consumer,
          key: head.sequence_key,
          stream: head.stream,
          seq: Number(head.stream_sequence),
        },
        'a retrying head was acknowledged by another delivery; releasing its sequence',
      );
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#sweeper);
    let seen: Promise<unknown> | undefined;
    while (seen !== this.#queue) {
      seen = this.#queue;
      await seen;
    }
  }

  /** The blocked sequences, oldest head first, paged by head id. */
  async list(
    afterId: string | undefined,
    limit: number,
  ): Promise<{ items: DeadLetterSequence[]; next?: string }> {
    const { rows } = await this.#options.pool.query<Row & { parked_behind: string }>({
      name: 'conveyor-parking-list',
      text: `select * from (
               select p.*, count(*) over (partition by sequence_key) - 1 as parked_behind,
                      row_number() over (partition by sequence_key order by stream_sequence, id) as rank
               from parked_messages p where consumer = $1) ranked
             where rank = 1 and id > $2 order by id limit $3`,
      values: [this.consumer, afterId ?? '0', limit + 1],
    });
    const items = rows
      .slice(0, limit)
      .map((r) => ({ head: fromRow(r), parkedBehind: Number(r.parked_behind) }));
    return rows.length > limit ? { items, next: items.at(-1)?.head.id } : { items };
  }

  /** One message by id with its sequence: the head first, then what is parked (the first `limit`). */
  async show(id: string, limit: number): Promise<{ sequence: ParkedMessage[]; total: number } | undefined> {
    const key = await this.#keyOf(id);
    if (key === undefined) return undefined;
    const { rows } = await this.#options.pool.query<Row & { total: string }>(
      `select *, count(*) over () as total from parked_messages where consumer = $1 and sequence_key = $2
       order by stream_sequence, id limit $3`,
      [this.consumer, key, limit],
    );
    return { sequence: rows.map(fromRow), total: Number(rows[0]?.total ?? 0) };
  }

  /**
   * Applies the head `id` of a sequence and then its parked messages, in order. Idempotent: a
   * head that is gone (redriven, discarded) is NOT_FOUND, and the handlers' inbox or version
   * guards make a message applied twice (a crash before its row was deleted) harmless.
   */
  async redrive(id: string): Promise<ReleaseResult> {
    const key = await this.#headKey(id, 'redrive');
    return this.#releaseNow(key, { head: 'apply', id });
  }

  /** Drops the head `id` without applying it and releases what waited behind it. */
  async discard(id: string): Promise<ReleaseResult> {
    const key = await this.#headKey(id, 'discard');
    return this.#releaseNow(key, { head: 'drop', id });
  }

  async #releaseNow(key: string, start: ReleaseStart): Promise<ReleaseResult> {
    const result = await this.#release(key, start);
    if (result === 'busy') {
      throw new AppError('ABORTED', `sequence ${key} is being released by another replica; try again`);
    }
    return result;
  }

  /**
   * The key `id` heads. Refused while the consumer is paused on the head's stream: a redrive or
   * discard applies what waited behind the head, and a paused consumer applies nothing.
   */
  async #headKey(id: string, action: 'redrive' | 'discard'): Promise<string> {
    const found = await this.#find(id);
    if (!found) throw new AppError('NOT_FOUND', `dead letter ${id} not found`);
    if (!found.isHead) {
      throw new AppError(
        'FAILED_PRECONDITION',
        `message ${id} waits behind the head of ${found.key}: redrive or discard the head`,
      );
    }
    const reason = (await this.#pausedStreams()).get(found.stream);
    if (reason !== undefined) throw this.#pausedError(found.stream, reason, action, id);
    return found.key;
  }

  #pausedError(stream: string, reason: string, action: 'redrive' | 'discard', id: string): AppError {
    return new AppError(
      'FAILED_PRECONDITION',
      `consumer ${stream}/${this.consumer} is paused${reason ? ` (${reason.slice(0, 200)})` : ''}: ` +
        `resume it to ${action} ${id}; a paused consumer applies nothing`,
    );
  }

  async #pausedStreams(): Promise<ReadonlyMap<string, string>> {
    return (await this.#options.pausedStreams?.()) ?? new Map();
  }

  /** Whether this consumer holds the dead letter or parked message `id`. */
  async holds(id: string): Promise<boolean> {
    return (await this.#find(id)) !== undefined;
  }

  async #keyOf(id: string): Promise<string | undefined> {
    return (await this.#find(id))?.key;
  }

  /** The sequence of message `id`, its stream and whether it heads it, in one query. */
  async #find(id: string): Promise<{ key: string; stream: string; isHead: boolean } | undefined> {
    if (!/^[1-9][0-9]{0,17}$/.test(id))
      throw new AppError('INVALID_ARGUMENT', 'id: must be a dead letter id');
    const { rows } = await this.#options.pool.query<{
      sequence_key: string;
      stream: string;
      is_head: boolean;
    }>(
      `select p.sequence_key, p.stream,
              p.id = (select q.id from parked_messages q
                       where q.consumer = p.consumer and q.sequence_key = p.sequence_key
                       order by q.stream_sequence, q.id limit 1) as is_head
       from parked_messages p where p.id = $1 and p.consumer = $2`,
      [id, this.consumer],
    );
    const row = rows[0];
    return row && { key: row.sequence_key, stream: row.stream, isHead: row.is_head };
  }

  /**
   * Applies the messages of `key` in order while this process holds the key's release lock.
   * `head`: what to do with the first row when it is not a parked one: stop (it is still
   * failing), apply it (redrive) or drop it (discard). A message that fails again becomes the
   * new dead head and the release stops there; so does one of a stream the consumer is paused
   * on (left to the sweeper once resumed).
   */
  async #release(key: string, start: ReleaseStart | { head: 'stop' }): Promise<ReleaseResult | 'busy'> {
    const client = await this.#options.pool.connect();
    let locked = false;
    try {
      locked = (
        await client.query('select pg_try_advisory_lock(hashtext($1), hashtext($2)) as ok', [
          this.consumer,
          key,
        ])
      ).rows[0].ok;
      if (!locked) return 'busy';
      const result: ReleaseResult = { applied: 0, remaining: 0 };
      for (let first = true; ; first = false) {
        const next = await this.#next(key);
        if (!next) break;
        if (first && 'id' in start && next.id !== start.id) {
          throw new AppError('ABORTED', `the head of ${key} changed; look at it again`);
        }
        if (next.state !== 'parked' && !(first && start.head !== 'stop')) break;
        if (first && start.head === 'drop') {
          await this.#remove(next);
          result.discarded = next.id;
          continue;
        }
        if (result.applied >= applyPerCall) {
          result.remaining = 1;
          this.#background(() => this.#release(key, { head: 'stop' }));
          break;
        }
        const pausedFor = (await this.#pausedStreams()).get(next.stream);
        if (pausedFor !== undefined) {
          // Paused since the redrive was asked: its head stays as it was.
          if (next.state !== 'parked') throw this.#pausedError(next.stream, pausedFor, 'redrive', next.id);
          result.remaining = 1;
          break;
        }
        const outcome = await this.#apply(next);
        if (outcome.kind !== 'ack') {
          await this.#options.pool.query(
            `update parked_messages set state = 'dead', reason = $2 where id = $1`,
            [next.id, cleanReason(`failed when released: ${outcome.reason}`)],
          );
          result.deadAgain = { id: next.id, reason: cleanReason(outcome.reason) };
          break;
        }
        await this.#remove(next);
        result.applied++;
      }
      return result;
    } finally {
      if (locked) {
        await client
          .query('select pg_advisory_unlock(hashtext($1), hashtext($2))', [this.consumer, key])
          .catch(() => {});
      }
      client.release();
    }
  }

  /** The first row of `key`, read under the sequence lock so a park cannot slip in behind a finished release. */
  #next(key: string): Promise<ParkedMessage | undefined> {
    return this.#inSequenceLock(key, async (client) => {
      const { rows } = await client.query<Row>(
        `select * from parked_messages where consumer = $1 and sequence_key = $2
         order by stream_sequence, id limit 1`,
        [this.consumer, key],
      );
      return rows[0] && fromRow(rows[0]);
    });
  }

  async #remove(message: ParkedMessage): Promise<void> {
    await this.#options.pool.query('delete from parked_messages where id = $1', [message.id]);
    const copy = message.deadLetterSeq;
    if (this.#options.jsm && copy !== undefined) {
      await deleteDeadLetter(this.#options.jsm, copy).catch((error) =>
        this.#options.logger.warn({ err: error, seq: copy }, 'could not remove the dead letter copy'),
      );
    }
  }

  /** One message through the handler; a retry is tried again (the consumer's attempts and backoff). */
  #apply(message: ParkedMessage): Promise<HandlingOutcome> {
    const redelivery = retry(
      handleWhenResult((outcome) => (outcome as HandlingOutcome).kind === 'retry'),
      {
        maxAttempts: this.#options.maxDeliver - 1,
        backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => {
          const last = 'value' in context.result ? (context.result.value as HandlingOutcome) : undefined;
          return (
            (last?.kind === 'retry' ? last.delayMs : undefined) ??
            backoffStep(this.#options.backoffMs, context.attempt)
          );
        }),
      },
    );
    // Stopping ends the redeliveries: the last outcome (a retry) leaves the message parked.
    return redelivery.execute(
      ({ attempt }) =>
        handleAgain(this.#options.handler, {
          headers: message.headers,
          payload: message.payload,
          delivery: {
            subject: message.subject,
            stream: message.stream,
            streamSequence: message.streamSequence,
            deliveryCount: attempt + 1,
          },
        }),
      this.#stopping.signal,
    );
  }

  #inSequenceLock<T>(key: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.#options.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        `${this.consumer}/sequence`,
        key,
      ]);
      return work(client);
    });
  }

  #background(work: () => Promise<unknown>): void {
    this.#queue = this.#queue
      .then(work)
      .catch((error) =>
        this.#options.logger.error({ err: error, consumer: this.consumer }, 'releasing a sequence failed'),
      );
  }
}

type ReleaseStart = { head: 'apply' | 'drop'; id: string };

/** Which dead letters a `dlq purge` removed from DEADLETTERS (see `purged`). */
export type PurgedCopies =
  | { positions: readonly { stream: string; streamSequence: number }[] }
  | { through: number; subject: string | undefined };

interface SweptHead {
  sequence_key: string;
  state: 'parked' | 'retrying';
  stream: string;
  stream_sequence: string;
}

export interface ReleaseResult {
  /** Messages applied (the head too, when redriven). */
  applied: number;
  /** The head's id when it was discarded. */
  discarded?: string;
  /** A message that failed again: the sequence's new dead head. */
  deadAgain?: { id: string; reason: string };
  /**
   * 1 when more were left to a background release (over 1000 in one call, or the consumer was
   * paused meanwhile: then they wait for its resume).
   */
  remaining: number;
}

interface Row {
  id: string;
  consumer: string;
  sequence_key: string;
  state: ParkedState;
  stream: string;
  stream_sequence: string;
  subject: string;
  headers: Record<string, string>;
  payload: Buffer;
  reason: string;
  deliveries: number;
  attempts: number | null;
  parked_at: Date;
  dead_letter_seq: string | null;
}

function fromRow(row: Row): ParkedMessage {
  const headers = new Map(Object.entries(row.headers));
  return {
    id: String(row.id),
    consumer: row.consumer,
    sequenceKey: row.sequence_key,
    state: row.state,
    stream: row.stream,
    streamSequence: Number(row.stream_sequence),
    subject: row.subject,
    eventId: headers.get('ce-id'),
    eventType: headers.get('ce-type'),
    reason: row.reason,
    deliveries: row.deliveries,
    attempts: row.attempts ?? undefined,
    parkedAt: row.parked_at,
    deadLetterSeq: row.dead_letter_seq === null ? undefined : Number(row.dead_letter_seq),
    headers,
    payload: new Uint8Array(row.payload),
  };
}

function messageValues(message: StoredMessage): unknown[] {
  return [
    message.stream,
    message.streamSequence,
    message.subject,
    JSON.stringify(Object.fromEntries(message.headers)),
    Buffer.from(message.payload),
  ];
}

/** Kept for days, past any erasure: the reason names no address. */
function cleanReason(reason: string): string {
  return withoutAddresses(reason)
    .slice(0, 2000)
    .replace(/[\r\n]+/g, ' ');
}
