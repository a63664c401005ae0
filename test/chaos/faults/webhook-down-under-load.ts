import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@conveyor/notifications/testing';
import { waitUntil } from '@conveyor/stack';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';
import { apiClient, callAs, countOf, signInChaosAdmin, withDatabase } from './chaos-clients.ts';

/** The outage of the full run; CHAOS_WEBHOOK_OUTAGE_MS shortens (or lengthens) it, CI's short run takes 5 s. */
const FULL_OUTAGE_MS = 60_000;

function outageMs(short: boolean): number {
  if (short) return 5000;
  const set = Number(process.env.CHAOS_WEBHOOK_OUTAGE_MS);
  return Number.isFinite(set) && set >= 1000 && set <= 600_000 ? set : FULL_OUTAGE_MS;
}

/**
 * A customer's webhook endpoint down under load: a global webhook (every event) to a receiver on
 * loopback that answers 503 for half the outage and is closed (connection refused) for the other
 * half. Mail must keep flowing meanwhile (the webhook is a bulkhead of its own), and once the
 * receiver is back every event recorded during the outage must reach it exactly once (by event id
 * and Idempotency-Key), signed. The webhook is deleted at the end.
 */
export const webhookDownUnderLoad: Experiment = {
  name: 'webhook-down-under-load',
  fault: `a global webhook's receiver answers 503, then refuses connections, for ${outageMs(false) / 1000} s (CHAOS_WEBHOOK_OUTAGE_MS; 5 s in CI's short run), while mail flows; deleted after`,
  async run(system, note, options) {
    const problems: string[] = [];
    const details: string[] = [];
    const admin = await signInChaosAdmin(system);
    const client = apiClient(system, 'notifications');
    const earlier: ReceivedWebhook[] = [];
    let receiver: WebhookReceiver = await startWebhookReceiver();
    const port = Number(new URL(receiver.url).port);
    const all = () => [...earlier, ...receiver.received()];
    let webhookId: string | undefined;
    try {
      const registered = await callAs<{ webhook: { id: string }; secret: string }>(
        admin,
        client,
        'RegisterWebhook',
        {
          global: true,
          url: `${receiver.url}/chaos`,
        },
      );
      webhookId = registered.webhook.id;
      await receiver.waitFor(
        (r) => r.some((w) => w.status < 300),
        15_000,
        'no webhook was delivered before the outage',
      );
      const outage = { ms: outageMs(options.short), from: new Date(), to: new Date() };
      receiver.respondWith(503);
      await sleep(outage.ms / 2);
      earlier.push(...receiver.received());
      await receiver.close();
      await sleep(outage.ms / 2);
      receiver = await startWebhookReceiver({ port });
      outage.to = new Date();
      const back = Date.now();
      const mailed = system.smtp
        .messages()
        .filter((m) => new Date(m.receivedAt) >= outage.from && new Date(m.receivedAt) < outage.to).length;
      if (mailed === 0) problems.push(`no mail was received during the ${outage.ms / 1000} s webhook outage`);
      const refused = all().filter((w) => w.receivedAt >= outage.from.getTime() && w.status >= 500).length;
      const during = await eventsRecordedBetween(system, webhookId, outage.from, outage.to);
      const undelivered = () => {
        const reached = new Set(receiver.delivered().map((w) => w.eventId));
        return during.filter((id) => !reached.has(id));
      };
      // The backlog drains while the load goes on adding to it: allow three outages' time and more.
      await waitUntil(() => undelivered().length === 0, {
        timeoutMs: 3 * outage.ms + 30_000,
        intervalMs: 500,
        message: 'undelivered',
      }).catch(() =>
        problems.push(
          `${undelivered().length} of ${during.length} events recorded during the outage never reached the receiver`,
        ),
      );
      const outageDrained = (Date.now() - back) / 1000;
      problems.push(...deliveredOnce(all(), during, registered.secret, receiver));
      const caughtUp = await caughtUpAfter(system, webhookId, 2 * outage.ms + 30_000);
      details.push(
        `outage ${outage.ms / 1000} s: ${mailed} mails meanwhile; ${refused} posts answered 503 (the rest refused); ` +
          `${during.length} events recorded during it, all delivered ${outageDrained.toFixed(1)} s after the receiver was back; ` +
          (caughtUp ? 'the webhook caught up with the load' : 'still behind the load') +
          ` ${((Date.now() - back) / 1000).toFixed(1)} s after`,
      );
      note(details.at(-1)!);
    } finally {
      if (webhookId) {
        // Under load some deliveries are always pending: deleting cancels them (an end state).
        await callAs<{ cancelled_deliveries: number }>(admin, client, 'DeleteWebhook', {
          id: webhookId,
        }).then(
          (deleted) =>
            details.push(`deleting it cancelled ${deleted.cancelled_deliveries} pending deliveries`),
          (error: Error) => problems.push(`deleting the webhook failed: ${error.message}`),
        );
      }
      await receiver.close();
      client.close();
    }
    return { problems, details };
  },
};

/**
 * Whether the webhook caught up with the load within `timeoutMs`: no delivery to it recorded over a
 * second ago still pending (the load goes on, so some are always in flight).
 */
async function caughtUpAfter(system: ChaosSystem, webhookId: string, timeoutMs: number): Promise<boolean> {
  return withDatabase(system, (sql) =>
    waitUntil(
      async () =>
        (await countOf(
          sql,
          `select count(*) as n from notifications.notifications
            where webhook_id = $1 and status = 'pending' and created_at < now() - interval '1 second'`,
          [webhookId],
        )) === 0,
      { timeoutMs, intervalMs: 500, message: 'behind' },
    ).then(
      () => true,
      () => false,
    ),
  );
}

/** Event ids whose webhook notification was recorded within [from, to). */
async function eventsRecordedBetween(system: ChaosSystem, webhookId: string, from: Date, to: Date) {
  return withDatabase(system, async (sql) => {
    const { rows } = await sql.query<{ event_id: string }>(
      `select event_id::text from notifications.notifications
        where webhook_id = $1 and created_at >= $2 and created_at < $3`,
      [webhookId, from, to],
    );
    return rows.map((r) => r.event_id);
  });
}

/** Problems: an event delivered more than once or under two keys, or a delivery not signed with the secret. */
function deliveredOnce(
  all: readonly ReceivedWebhook[],
  events: readonly string[],
  secret: string,
  receiver: WebhookReceiver,
): string[] {
  const delivered = all.filter((w) => w.status >= 200 && w.status < 300);
  const wanted = new Set(events);
  const byEvent = new Map<string, ReceivedWebhook[]>();
  for (const w of delivered)
    if (wanted.has(w.eventId)) byEvent.set(w.eventId, [...(byEvent.get(w.eventId) ?? []), w]);
  const twice = [...byEvent.values()].filter((ws) => ws.length > 1);
  const keys = [...byEvent.values()].filter((ws) => new Set(ws.map((w) => w.idempotencyKey)).size > 1);
  const unsigned = [...byEvent.values()].flat().filter((w) => !receiver.verify(w, secret));
  return [
    ...(twice.length
      ? [`${twice.length} events delivered more than once (e.g. ${twice[0]![0]!.eventId})`]
      : []),
    ...(keys.length ? [`${keys.length} events delivered under two Idempotency-Keys`] : []),
    ...(unsigned.length ? [`${unsigned.length} deliveries not signed with the webhook's secret`] : []),
  ];
}
