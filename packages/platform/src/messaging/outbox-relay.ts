import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../observability/metrics.ts';
import {
  contextFromTraceparent,
  linkTo,
  recordFailure,
  traceparentOf,
  tracer,
} from '../observability/telemetry.ts';
import { originTraceparentHeader } from './outbox.ts';

export interface OutboxRelayOptions {
  url: string;
  schema: string;
  nc: NatsConnection;
  logger: Logger;
  registry?: Registry;
  batchSize?: number;
  /** Safety net when a notification is missed (e.g. while reconnecting). */
  idlePollMs?: number;
  /** How often a standby replica tries to become the active relay. */
  standbyRetryMs?: number;
  maxBackoffMs?: number;
  /**
   * Called after a batch's PubAcks and before its rows are deleted: the
   * window where a crash republishes. For fault-injection tests; a throw
   * here behaves like a crash at that point.
   */
  afterPublish?: (eventIds: readonly string[]) => Promise<void> | void;
}

/** Defaults of the relay's options (the benchmark's raw ceiling reads the batch size from here). */
export const outboxRelayDefaults = {
  batchSize: 256,
  idlePollMs: 2000,
  standbyRetryMs: 2000,
  maxBackoffMs: 5000,
};

interface OutboxRow {
  position: string;
  event_id: string;
  subject: string;
  headers: Record<string, string>;
  payload: Buffer;
  created_at: Date;
}

/**
 * Publishes outbox rows to JetStream and deletes them after their PubAck.
 *
 * Contract:
 * - At least once: a row is deleted only after JetStream acknowledged it, so
 *   a crash between publish and delete republishes it; `Nats-Msg-Id` (the
 *   event id) lets JetStream drop that duplicate, consumers' inboxes catch
 *   any that slip past the duplicate window.
 * - Nothing skipped: it reads every remaining row, never "rows after the last
 *   position", so a transaction that commits late with a lower position is
 *   still published.
 * - One active relay per schema: a session advisory lock elects it; other
 *   replicas stand by and take over when its connection drops.
 * - Low latency: LISTEN on `<schema>_outbox` wakes it on every commit; the
 *   idle poll only covers missed notifications.
 * - NATS down: publishes fail, rows stay, retries back off up to maxBackoffMs.
 */
export class OutboxRelay {
  readonly #o: Required<Omit<OutboxRelayOptions, 'registry' | 'afterPublish'>> &
    Pick<OutboxRelayOptions, 'registry' | 'afterPublish'>;
  readonly #js: JetStreamClient;
  #client: pg.Client | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #active = false;
  readonly #metrics:
    | { published: Counter; sent: Counter; latency: Histogram; backlog: Gauge; active: Gauge }
    | undefined;

  constructor(options: OutboxRelayOptions) {
    this.#o = { ...outboxRelayDefaults, ...options };
    this.#js = jetstream(options.nc, { timeout: 5000 });
    const registry = options.registry;
    this.#metrics = registry && {
      published: counter(registry, {
        name: 'conveyor_outbox_published_total',
        help: 'Events published from the outbox and acknowledged by JetStream.',
        labelNames: ['subject'],
      }),
      sent: counter(registry, {
        name: 'messaging_client_sent_messages_total',
        help: 'Messages published to NATS and acknowledged (OTel messaging.client.sent.messages).',
        labelNames: ['messaging_system', 'messaging_destination_name'],
      }),
      latency: histogram(registry, {
        name: 'conveyor_outbox_commit_to_puback_seconds',
        help: 'Time from an outbox row being written to its JetStream PubAck.',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
      backlog: gauge(registry, {
        name: 'conveyor_outbox_backlog',
        help: 'Outbox rows read but not yet published in the last batch (0 when drained).',
      }),
      active: gauge(registry, {
        name: 'conveyor_outbox_relay_active',
        help: '1 when this replica holds the relay lock.',
      }),
    };
  }

  get active(): boolean {
    return this.#active;
  }

  /**
   * Tells the relay that an outbox write committed. On the replica holding
   * the relay this is an in-process wake-up; a standby's loop sends a NOTIFY
   * (in its own tiny transaction) so the active relay, on another replica,
   * hears it: one for all the commits signalled since its last, sent between
   * the loop's own statements, because a pg connection runs one query at a
   * time (pg 8 queues queries sent meanwhile and warns that pg 9 will not).
   * Writers call this after commit instead of a trigger NOTIFY inside their
   * transaction: Postgres serialises the commits of notifying transactions,
   * which halved append throughput at 8 writers (measured; ADR 0002).
   */
  signalCommitted(): void {
    if (this.#active) this.#notified = true;
    else this.#unannounced = true;
    this.#wake?.();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Finishes the batch in flight, releases the lock and stops. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    while (this.#running) {
      try {
        await this.#connect();
        if (!this.#active) {
          await this.#announceCommits();
          this.#notified = false;
          await this.#sleep(this.#o.standbyRetryMs);
          continue;
        }
        const published = await this.#drainOnce();
        backoff = 100;
        // A short batch read everything committed before it; a later commit wakes the relay (a
        // sleep returns at once if one did meanwhile), so no empty read follows every batch.
        if (published < this.#o.batchSize) {
          // Woken already: the next read deletes the published rows. Idle: delete them now.
          if (!this.#notified) await this.#deleteAcked();
          await this.#sleep(this.#o.idlePollMs);
        }
      } catch (error) {
        this.#o.logger.warn({ err: error, retryInMs: backoff }, 'outbox relay failed; retrying');
        await this.#disconnectIfBroken();
        this.#notified = false;
        // Not woken by writers while backing off: during an outage every
        // commit would otherwise trigger an immediate, failing retry.
        await this.#sleep(backoff, false);
        backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
      }
    }
    await this.#deleteAcked().catch(() => {});
    await this.#disconnect();
  }

  async #connect(): Promise<void> {
    if (!this.#client) {
      const client = new pg.Client({
        connectionString: this.#o.url,
        application_name: `${this.#o.schema}-relay`,
      });
      client.on('error', () => {
        this.#broken = true;
        this.#wake?.();
      });
      client.on('notification', () => {
        this.#notified = true;
        this.#wake?.();
      });
      await client.connect();
      await client.query(`set search_path to ${this.#o.schema}, public`);
      await client.query(`listen ${this.#o.schema}_outbox`);
      this.#client = client;
      this.#broken = false;
    }
    if (!this.#active) {
      const { rows } = await this.#client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock(hashtext($1)) as locked',
        [`conveyor.outbox.${this.#o.schema}`],
      );
      this.#active = rows[0]?.locked === true;
      this.#metrics?.active.set(this.#active ? 1 : 0);
      if (this.#active) {
        // Its first read, next, takes what those commits wrote: no one else needs telling.
        this.#unannounced = false;
        this.#o.logger.info({ schema: this.#o.schema }, 'outbox relay active');
      }
    }
  }

  /** A standby's NOTIFY to the active relay for the commits signalled since its last one. */
  async #announceCommits(): Promise<void> {
    if (!this.#unannounced) return;
    this.#unannounced = false;
    await this.#client!.query('select pg_notify($1, $2)', [`${this.#o.schema}_outbox`, '']);
  }

  #broken = false;
  /** Set by a notification; a drain clears it, a sleep returns at once while it is set. */
  #notified = false;
  /** Set on a standby by signalCommitted; its loop's NOTIFY clears it, a sleep returns at once while it is set. */
  #unannounced = false;

  async #disconnectIfBroken(): Promise<void> {
    if (this.#broken) await this.#disconnect();
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (this.#active) this.#o.logger.info('outbox relay released');
    this.#active = false;
    this.#metrics?.active.set(0);
    await client?.end().catch(() => {});
  }

  /** Rows published and acknowledged, not deleted yet: the next read deletes them in the same round trip. */
  #acked: string[] = [];

  /**
   * Deletes what the last batch published and reads the next batch, in one statement (the read
   * skips the rows it deletes: both see the same snapshot), then publishes it. Rows are deleted
   * only after their PubAck, so a crash republishes at most the last batch (deduplicated by
   * Nats-Msg-Id, then by the consumers' inboxes). Returns how many rows it published.
   */
  async #drainOnce(): Promise<number> {
    const client = this.#client!;
    this.#notified = false;
    const { rows } = await client.query<OutboxRow>({
      name: 'conveyor-outbox-batch',
      text: `with gone as (delete from outbox where position = any($2::bigint[]))
             select position, event_id, subject, headers, payload, created_at from outbox
             where position <> all($2::bigint[]) order by position limit $1`,
      values: [this.#o.batchSize, this.#acked],
    });
    this.#acked = [];
    if (rows.length === 0) {
      this.#metrics?.backlog.set(0);
      return 0;
    }
    this.#metrics?.backlog.set(rows.length);
    // Publish the whole batch before awaiting: one connection keeps the
    // order on the wire, and the PubAcks arrive in a single round trip.
    const acks = await Promise.all(rows.map((row) => this.#publish(row)));
    const now = Date.now();
    for (const [i, row] of rows.entries()) {
      this.#metrics?.published.inc({ subject: row.subject });
      this.#metrics?.sent.inc({ messaging_system: 'nats', messaging_destination_name: row.subject });
      this.#metrics?.latency.observe((now - row.created_at.getTime()) / 1000);
      if (acks[i]) this.#o.logger.debug({ eventId: row.event_id, seq: acks[i] }, 'published');
    }
    await this.#o.afterPublish?.(rows.map((r) => r.event_id));
    this.#acked = rows.map((r) => r.position);
    return rows.length;
  }

  /** Deletes what was published when no read follows soon (idle, stopping). */
  async #deleteAcked(): Promise<void> {
    if (this.#acked.length === 0 || !this.#client) return;
    await this.#client.query({
      name: 'conveyor-outbox-delete',
      text: 'delete from outbox where position = any($1::bigint[])',
      values: [this.#acked],
    });
    this.#acked = [];
  }

  /**
   * One PRODUCER span per event (messaging semconv), a child of the context
   * stored with the row, so the publish continues the trace of the command
   * that wrote it; the span's own context goes out in `traceparent`, so
   * consumers' process spans are its children.
   */
  async #publish(row: OutboxRow): Promise<number> {
    const origin = row.headers[originTraceparentHeader];
    const span = tracer().startSpan(
      `publish ${row.subject}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': row.subject,
          'messaging.message.id': row.event_id,
          'messaging.message.body.size': row.payload.length,
        },
        links: linkTo(origin),
      },
      contextFromTraceparent(row.headers.traceparent, row.headers.tracestate),
    );
    const h = natsHeaders();
    for (const [key, value] of Object.entries(row.headers)) {
      if (key !== 'Nats-Msg-Id' && key !== 'traceparent') h.set(key, value);
    }
    const traceparent = traceparentOf(trace.setSpan(ROOT_CONTEXT, span)) ?? row.headers.traceparent;
    if (traceparent) h.set('traceparent', traceparent);
    try {
      const ack = await this.#js.publish(row.subject, row.payload, { msgID: row.event_id, headers: h });
      span.setAttribute('messaging.nats.stream.sequence', ack.seq);
      if (ack.duplicate) span.setAttribute('messaging.nats.duplicate', true);
      return ack.seq;
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  #sleep(ms: number, wakeable = true): Promise<void> {
    if ((wakeable && (this.#notified || this.#unannounced)) || !this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const stop = () => {
        if (!this.#running) done();
      };
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wakeable ? done : stop;
    });
  }
}
