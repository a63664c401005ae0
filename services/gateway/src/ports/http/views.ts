import { type consumersV1, type notificationsV1, ordersV1, usersV1 } from '@conveyor/contracts';
import type { z } from 'zod';
import * as S from './api-schemas.ts';

/**
 * Protobuf messages → the API's JSON shapes (lower-case enums, ISO timestamps, null when unset).
 * A field the API passes on as the contract has it is listed once, in its schema (api-schemas.ts):
 * `same` copies those; each view writes only the fields it converts.
 */
function same<M extends object, T extends z.ZodObject>(message: M, schema: T) {
  const copied: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) copied[key] = (message as Record<string, unknown>)[key];
  return copied as Pick<M, Extract<keyof z.infer<T>, keyof M>>;
}

const iso = (date: Date | undefined) => (date ? date.toISOString() : null);
const money = (m: ordersV1.Money | undefined): z.infer<typeof S.Money> => ({
  amountMinor: m?.amountMinor ?? 0,
  currency: m?.currency ?? '',
});
const orderStatus = ['unknown', 'placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
const statusOf = (n: number): (typeof orderStatus)[number] => orderStatus[n] ?? 'unknown';
const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

export const productView = (p: ordersV1.Product): z.infer<typeof S.Product> => ({
  ...same(p, S.Product),
  price: money(p.price),
});

/** An order; unset (a message field the service left empty) is the empty order. */
export const orderView = (o: ordersV1.Order = ordersV1.Order.create()): z.infer<typeof S.Order> => ({
  ...same(o, S.Order),
  status: statusOf(o.status),
  items: o.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: money(i.unitPrice) })),
  total: money(o.total),
  placedAt: iso(o.placedAt),
  paidAt: iso(o.paidAt),
  shippedAt: iso(o.shippedAt),
  deliveredAt: iso(o.deliveredAt),
  cancelledAt: iso(o.cancelledAt),
});

export const orderSummaryView = (o: ordersV1.OrderSummary): z.infer<typeof S.OrderSummary> => ({
  ...same(o, S.OrderSummary),
  status: statusOf(o.status),
  total: money(o.total),
  placedAt: iso(o.placedAt),
  updatedAt: iso(o.updatedAt),
});

export const historyEntryView = (e: ordersV1.HistoryEntry): z.infer<typeof S.HistoryEntry> => ({
  ...same(e, S.HistoryEntry),
  recordedAt: iso(e.recordedAt),
  data: parseJson(e.dataJson),
  state: orderView(e.state),
});

const roles = ['unknown', 'customer', 'admin', 'service'] as const;
export const roleOf = (n: number): (typeof roles)[number] => roles[n] ?? 'unknown';

export const userView = (u: usersV1.User = usersV1.User.create()): z.infer<typeof S.User> => ({
  ...same(u, S.User),
  role: roleOf(u.role),
  createdAt: iso(u.createdAt),
});

const notificationStatus = ['unknown', 'pending', 'sent', 'failed', 'cancelled'] as const;
export const notificationView = (n: notificationsV1.Notification): z.infer<typeof S.Notification> => ({
  ...same(n, S.Notification),
  status: notificationStatus[n.status as number] ?? 'unknown',
  createdAt: iso(n.createdAt),
  sentAt: iso(n.sentAt),
});

/** Headers and payload are sent only for one message asked for in `full`. */
const listedDeadLetter = S.DeadLetter.omit({ headers: true, payload: true });
export const deadLetterView = (
  d: notificationsV1.DeadLetter,
  full = false,
): z.infer<typeof S.DeadLetter> => ({
  ...same(d, listedDeadLetter),
  failedAt: iso(d.failedAt),
  ...(full ? { headers: d.headers, payload: utf8(d.payload) } : {}),
});

const sequenceStates = ['retrying', 'dead', 'parked'] as const;
const listedMessage = S.SequencedMessage.omit({ headers: true, payload: true });
export const sequencedMessageView = (
  m: consumersV1.SequencedMessage,
  full = false,
): z.infer<typeof S.SequencedMessage> => ({
  ...same(m, listedMessage),
  state: sequenceStates.find((s) => s === m.state) ?? 'unknown',
  parkedAt: iso(m.parkedAt),
  ...(full ? { headers: m.headers, payload: utf8(m.payload) } : {}),
});

export const sequenceReleaseView = (
  service: z.infer<typeof S.ConsumerBackend>,
  id: string,
  r: consumersV1.RedriveDeadLetterSequenceResponse | consumersV1.DiscardDeadLetterResponse,
): z.infer<typeof S.SequenceRelease> => ({ ...same(r, S.SequenceRelease), service, id });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const timerView = (
  service: z.infer<typeof S.ConsumerBackend>,
  t: consumersV1.Timer,
): z.infer<typeof S.Timer> => ({ ...same(t, S.Timer), service, dueAt: iso(t.dueAt) });

export const consumerView = (
  service: z.infer<typeof S.ConsumerBackend>,
  c: consumersV1.Consumer,
): z.infer<typeof S.Consumer> => ({
  ...same(c, S.Consumer),
  service,
  changedAt: iso(c.changedAt),
  replicas: c.replicas.map((r) => ({ ...same(r, S.ConsumerReplica), seenAt: iso(r.seenAt) })),
});
