import type { Logger } from 'pino';
import { type DeliveryPolicy, decideDelivery, type SendOutcome } from '../domain/delivery-decision.ts';
import type { DeadLetterQueue } from './dead-letter-queue.ts';
import type {
  ClaimedDelivery,
  ClaimRequest,
  DeliveryHandOff,
  DeliveryQueue,
  HandOff,
  Settlement,
} from './delivery-queue.ts';
import { GroupFlush } from './group-flush.ts';
import type { Mailer } from './mailer.ts';
import type { Notification } from './notification-store.ts';
import type { SendGuard } from './send-guard.ts';
import type { WebhookPoster } from './webhook-poster.ts';

export interface DeliverNotificationsDeps {
  queue: DeliveryQueue;
  mailer: Mailer;
  webhooks: WebhookPoster;
  guard: SendGuard;
  deadLetters: Pick<DeadLetterQueue, 'addDelivery'>;
  mailDomain: string;
  policy: DeliveryPolicy & {
    /** A delivery not sent within this long after it was recorded is given up. */
    maxAgeMs: number;
  };
  /** Sends at once per bulkhead: the SMTP pool; each webhook target. */
  concurrency: { smtp: number; webhook: number };
  /** How long a claim holds a delivery; longer than a send can take with the ones queued before it. */
  leaseMs: number;
  /** How often to look for due work nobody woke this replica for (retries, other replicas' records). */
  pollMs: number;
  now: () => Date;
  /** In [0, 1): spreads retries so deliveries held by one outage do not return in one burst. */
  random: () => number;
  /** A new unique token per claim (the lease's fence). */
  newClaim: () => string;
  logger: Logger;
  /** Runs a send inside the trace it continues (telemetry; the identity when there is none). */
  inTrace: <T>(traceparent: string | undefined, send: () => Promise<T>) => Promise<T>;
  /** The active trace context, when there is one (telemetry). */
  currentTrace: () => string | undefined;
  /** Called once per send outcome (metrics). */
  onOutcome?: (channel: Notification['channel'], outcome: SendOutcome['kind']) => void;
}

interface Bulkhead {
  key: string;
  concurrency: number;
  /** Claimed and not yet settled at most: sends in flight plus those waiting for a slot. */
  inHandCap: number;
  waiting: ClaimedDelivery[];
  inFlight: number;
}

/** Deliveries claimed per statement at most, and held by one replica at most. */
const claimBatch = 64;
const maxInHand = 256;

/**
 * Delivers recorded notifications (issue 16: record, acknowledge, then deliver). Due deliveries
 * are claimed from Postgres under a lease, sent outside any transaction, and their outcomes settled
 * in groups. Each bulkhead (the SMTP server, each webhook target) has its own breaker, concurrency
 * and share of the claims: a dead or slow target is not claimed for while its breaker is open, and
 * never holds more than a few sends' worth in hand, so it delays no other target and no event.
 * A crash leaves claims that expire with their lease: those deliveries are claimed again (and may
 * be resent with the same Message-ID or Idempotency-Key).
 */
export class DeliveryScheduler implements DeliveryHandOff {
  readonly #deps: DeliverNotificationsDeps;
  readonly #bulkheads = new Map<string, Bulkhead>();
  readonly #settles: GroupFlush<Settlement>;
  /** Bulkheads whose last claim got all it asked for: more may be due once a slot frees. */
  readonly #saturated = new Set<string>();
  #inHand = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  #woken = false;
  #wake: (() => void) | undefined;
  readonly #sends = new Set<Promise<void>>();

  constructor(deps: DeliverNotificationsDeps) {
    this.#deps = deps;
    this.#settles = new GroupFlush((items) => this.#settle(items), {
      maxBatch: 500,
      // Outcomes are bookkeeping (the mail is out already): wait a little to settle them together.
      lingerMs: 5,
      onError: (error, items) =>
        deps.logger.warn({ err: error, items }, 'settling deliveries failed; retrying'),
    });
  }

  #settledSinceCompact = 0;
  #lastCompact = 0;

  /** Settles a group; now and then (every 1,000 rows left, at most once a second) compacts the schedule. */
  async #settle(items: Settlement[]): Promise<void> {
    await this.#deps.queue.settle(items);
    this.#settledSinceCompact += items.length;
    const now = performance.now();
    if (this.#settledSinceCompact >= 1000 && now - this.#lastCompact >= 1000) {
      this.#settledSinceCompact = 0;
      this.#lastCompact = now;
      await this.#deps.queue
        .compact()
        .catch((error) => this.#deps.logger.warn({ err: error }, 'compacting the schedule failed'));
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /**
   * A claim for deliveries about to be recorded on `bulkhead`, while this replica can send them
   * soon: its breaker takes sends and it holds less than four times its in-hand cap (a few
   * hundred milliseconds of sends for SMTP, far inside the lease).
   */
  reserve(bulkhead: string): HandOff | undefined {
    if (!this.#running || this.#deps.guard.admits(bulkhead) !== Number.POSITIVE_INFINITY) return undefined;
    const b = this.#bulkhead(bulkhead);
    if (b.waiting.length + b.inFlight >= 4 * b.inHandCap || this.#inHand >= maxInHand) return undefined;
    return { bulkhead, claim: this.#deps.newClaim(), leaseMs: this.#deps.leaseMs };
  }

  /** Deliveries recorded under a reserved claim: sent from here, no claim query needed. */
  accept(deliveries: readonly ClaimedDelivery[]): void {
    // Each continues the trace of the handling that recorded it (the caller's).
    const traceparent = this.#deps.currentTrace();
    for (const c of deliveries) this.#hold({ ...c, traceparent: c.traceparent ?? traceparent });
  }

  /** New deliveries were recorded (or slots freed): claim now rather than at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops claiming, lets the sends in flight finish (each bounded by its channel's timeout),
   * gives back what was claimed but not sent, and settles everything.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const now = this.#deps.now();
    for (const b of this.#bulkheads.values()) {
      for (const c of b.waiting.splice(0)) this.#settles.push(release(c, now));
    }
    await Promise.allSettled([...this.#sends]);
    await this.#settles.drained();
  }

  async #run(): Promise<void> {
    let backoffMs = 100;
    while (this.#running) {
      this.#woken = false;
      try {
        const request = this.#claimRequest();
        const claimed = request.total > 0 ? await this.#deps.queue.claim(request) : [];
        backoffMs = 100;
        this.#saturated.clear();
        const counts = new Map<string, number>();
        for (const c of claimed) {
          counts.set(c.bulkhead, (counts.get(c.bulkhead) ?? 0) + 1);
          this.#hold(c);
        }
        // Got all it could take (a full one takes 0): more may be due as soon as a slot frees.
        for (const [key, limit] of request.perBulkhead)
          if ((counts.get(key) ?? 0) >= limit) this.#saturated.add(key);
        for (const [key, n] of counts) if (n >= request.defaultPerBulkhead) this.#saturated.add(key);
        // Everything due was taken, or this replica has enough in hand: wait for news.
        if (claimed.length < request.total || request.total === 0) await this.#sleep(this.#deps.pollMs);
      } catch (error) {
        this.#deps.logger.warn({ err: error, retryInMs: backoffMs }, 'claiming deliveries failed; retrying');
        await this.#sleep(backoffMs, false);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  #bulkhead(key: string): Bulkhead {
    let b = this.#bulkheads.get(key);
    if (!b) {
      const concurrency = key === 'smtp' ? this.#deps.concurrency.smtp : this.#deps.concurrency.webhook;
      b = { key, concurrency, inHandCap: inHandCap(key, concurrency), waiting: [], inFlight: 0 };
      this.#bulkheads.set(key, b);
    }
    return b;
  }

  /** What to claim: up to each bulkhead's in-hand cap, nothing for an open breaker, one for a trial. */
  #claimRequest(): ClaimRequest {
    const perBulkhead = new Map<string, number>();
    this.#bulkhead('smtp');
    for (const [key, b] of this.#bulkheads) {
      const inHand = b.waiting.length + b.inFlight;
      const admits = this.#deps.guard.admits(key);
      // Forget idle, healthy targets (a breaker that is not closed keeps its entry).
      if (inHand === 0 && admits === Number.POSITIVE_INFINITY && key !== 'smtp') {
        this.#bulkheads.delete(key);
        continue;
      }
      perBulkhead.set(key, Math.max(0, Math.min(b.inHandCap - inHand, admits - inHand)));
    }
    return {
      claim: this.#deps.newClaim(),
      total: Math.max(0, Math.min(claimBatch, maxInHand - this.#inHand)),
      perBulkhead,
      defaultPerBulkhead: inHandCap('webhook:', this.#deps.concurrency.webhook),
      leaseMs: this.#deps.leaseMs,
    };
  }

  #hold(c: ClaimedDelivery): void {
    const b = this.#bulkhead(c.bulkhead);
    b.waiting.push(c);
    this.#inHand++;
    this.#pump(b);
  }

  #pump(b: Bulkhead): void {
    while (b.inFlight < b.concurrency && b.waiting.length > 0) {
      const c = b.waiting.shift()!;
      b.inFlight++;
      const send: Promise<void> = this.#deliver(c)
        .catch((error) => {
          // #deliver settles every outcome itself; this is a bug's safety net: give the claim back.
          this.#deps.logger.error(
            { err: error, notification: c.notification.id },
            'delivery failed unexpectedly',
          );
          this.#settles.push(release(c, this.#deps.now()));
        })
        .finally(() => {
          this.#sends.delete(send);
          b.inFlight--;
          this.#inHand--;
          if (this.#running) this.#pump(b);
          // Refill in groups: once a bulkhead that had more due has sent what was waiting.
          if (this.#saturated.has(b.key) && b.waiting.length === 0) this.wake();
        });
      this.#sends.add(send);
    }
  }

  async #deliver(c: ClaimedDelivery): Promise<void> {
    const n = c.notification;
    const ageMs = this.#deps.now().getTime() - n.createdAt.getTime();
    const outcome: SendOutcome =
      ageMs >= this.#deps.policy.maxAgeMs
        ? {
            kind: 'expired',
            reason: `not delivered within ${Math.round(this.#deps.policy.maxAgeMs / 60_000)} min${n.lastError ? `: ${n.lastError}` : ''}`,
          }
        : await this.#deps.inTrace(c.traceparent, () => this.#sendThroughGuard(c));
    this.#deps.onOutcome?.(n.channel, outcome.kind);
    const decision = decideDelivery(n.failures, outcome, this.#deps.policy);
    const at = this.#deps.now();
    let settlement: Settlement = {
      id: n.id,
      claim: c.claim,
      ...decision,
      at,
      retryAt:
        decision.retryInMs === undefined
          ? undefined
          : new Date(at.getTime() + jittered(decision.retryInMs, this.#deps.random)),
    };
    if (decision.status === 'failed') {
      const attempts = n.attempts + (decision.attempted ? 1 : 0);
      const reason = `gave up: ${label(n)} after ${attempts} attempt(s): ${decision.lastError ?? n.lastError ?? 'unknown error'}`;
      try {
        await this.#deps.deadLetters.addDelivery({ notification: { ...n, attempts }, reason });
      } catch (error) {
        // Not in the dead letters: keep it pending and decide again later, rather than lose it.
        this.#deps.logger.warn(
          { err: error, notification: n.id },
          'dead-lettering a delivery failed; retrying later',
        );
        settlement = { ...settlement, status: 'pending', retryAt: new Date(at.getTime() + 5000) };
      }
    }
    this.#settles.push(settlement);
  }

  /** Sends one delivery to its channel (a mail, or a signed webhook POST) through its bulkhead's breaker. */
  #sendThroughGuard(c: ClaimedDelivery): Promise<SendOutcome> {
    const n = c.notification;
    if (n.channel === 'email') {
      return this.#deps.guard.run(c.bulkhead, () =>
        this.#deps.mailer.send({
          messageId: `<${n.eventId}.email@${this.#deps.mailDomain}>`,
          to: n.recipient,
          ...n.message,
        }),
      );
    }
    const webhook = c.webhook;
    if (!webhook || !n.webhookId) return Promise.resolve({ kind: 'target-gone', reason: 'webhook deleted' });
    const webhookId = n.webhookId;
    return this.#deps.guard.run(c.bulkhead, () =>
      this.#deps.webhooks.post({
        url: webhook.url,
        secret: webhook.secret,
        body: n.message.text,
        idempotencyKey: `${n.eventId}.${webhookId}`,
        eventId: n.eventId,
        eventType: n.eventType,
        webhookId,
      }),
    );
  }

  #sleep(ms: number, wakeable = true): Promise<void> {
    if ((wakeable && this.#woken) || !this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#wake = undefined;
        resolve();
      }
      this.#wake = wakeable ? done : () => (this.#running ? undefined : done());
    });
  }
}

/**
 * How many deliveries of a bulkhead one replica holds at most. The SMTP server is shared by every
 * mail and fast: four sends' worth each, so claims come in groups. A webhook target may be slow
 * (its timeout is the lease's concern): two sends' worth, so little of its backlog waits here.
 */
function inHandCap(key: string, concurrency: number): number {
  return (key === 'smtp' ? 4 : 2) * concurrency;
}

/** Gives a claim back untried: due again at once, nothing counted. */
function release(c: ClaimedDelivery, at: Date): Settlement {
  return {
    id: c.notification.id,
    claim: c.claim,
    status: 'pending',
    attempted: false,
    counted: false,
    lastError: undefined,
    at,
    retryAt: undefined,
  };
}

/** ±20%, so deliveries failed by one outage come back spread out. */
function jittered(ms: number, random: () => number): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

/** Names a notification in logs and dead-letter reasons without personal data. */
function label(n: Notification): string {
  return n.channel === 'email' ? `email ${n.id}` : `webhook ${n.webhookId} (${n.id})`;
}
