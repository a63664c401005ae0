import type { consumersV1, notificationsV1, ordersV1, usersV1 } from '@conveyor/contracts';
import type { z } from 'zod';
import type * as S from './api-schemas.ts';

/** Protobuf messages → the API's JSON shapes (lower-case enums, ISO timestamps, null when unset). */
const iso = (date: Date | undefined) => (date ? date.toISOString() : null);
const money = (m: ordersV1.Money | undefined): z.infer<typeof S.Money> => ({
  amountMinor: m?.amountMinor ?? 0,
  currency: m?.currency ?? '',
});
const orderStatus = ['unknown', 'placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
const statusOf = (n: number): (typeof orderStatus)[number] => orderStatus[n] ?? 'unknown';

export const productView = (p: ordersV1.Product): z.infer<typeof S.Product> => ({
  sku: p.sku,
  name: p.name,
  description: p.description,
  price: money(p.price),
});

export const orderView = (o: ordersV1.Order | undefined): z.infer<typeof S.Order> => ({
  id: o?.id ?? '',
  userId: o?.userId ?? '',
  status: statusOf(o?.status ?? 0),
  items: (o?.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: money(i.unitPrice) })),
  total: money(o?.total),
  version: o?.version ?? 0,
  placedAt: iso(o?.placedAt),
  paidAt: iso(o?.paidAt),
  shippedAt: iso(o?.shippedAt),
  deliveredAt: iso(o?.deliveredAt),
  cancelledAt: iso(o?.cancelledAt),
  carrier: o?.carrier ?? '',
  trackingNumber: o?.trackingNumber ?? '',
  cancelReason: o?.cancelReason ?? '',
});

export const orderSummaryView = (o: ordersV1.OrderSummary): z.infer<typeof S.OrderSummary> => ({
  id: o.id,
  userId: o.userId,
  status: statusOf(o.status),
  total: money(o.total),
  itemCount: o.itemCount,
  version: o.version,
  placedAt: iso(o.placedAt),
  updatedAt: iso(o.updatedAt),
});

export const historyEntryView = (e: ordersV1.HistoryEntry): z.infer<typeof S.HistoryEntry> => ({
  version: e.version,
  eventId: e.eventId,
  eventType: e.eventType,
  recordedAt: iso(e.recordedAt),
  data: parseJson(e.dataJson),
  state: orderView(e.state),
});

const roles = ['unknown', 'customer', 'admin', 'service'] as const;
export const roleOf = (n: number): (typeof roles)[number] => roles[n] ?? 'unknown';

export const userView = (u: usersV1.User | undefined): z.infer<typeof S.User> => ({
  id: u?.id ?? '',
  email: u?.email ?? '',
  name: u?.name ?? '',
  role: roleOf(u?.role ?? 0),
  createdAt: iso(u?.createdAt),
});

const notificationStatus = ['unknown', 'pending', 'sent', 'failed', 'cancelled'] as const;
export const notificationView = (n: notificationsV1.Notification): z.infer<typeof S.Notification> => ({
  id: n.id,
  userId: n.userId,
  eventId: n.eventId,
  eventType: n.eventType,
  channel: n.channel,
  recipient: n.recipient,
  subject: n.subject,
  status: notificationStatus[n.status as number] ?? 'unknown',
  attempts: n.attempts,
  lastError: n.lastError,
  createdAt: iso(n.createdAt),
  sentAt: iso(n.sentAt),
});

export const deadLetterView = (
  d: notificationsV1.DeadLetter,
  full = false,
): z.infer<typeof S.DeadLetter> => ({
  id: d.id,
  originalSubject: d.originalSubject,
  originalStream: d.originalStream,
  originalSequence: d.originalSequence,
  reason: d.reason,
  deliveries: d.deliveries,
  attempts: d.attempts,
  failedAt: iso(d.failedAt),
  consumer: d.consumer,
  eventId: d.eventId,
  eventType: d.eventType,
  ...(full ? { headers: d.headers, payload: Buffer.from(d.payload).toString('utf8') } : {}),
});

const sequenceStates = ['retrying', 'dead', 'parked'] as const;
export const sequencedMessageView = (
  m: consumersV1.SequencedMessage,
  full = false,
): z.infer<typeof S.SequencedMessage> => ({
  id: m.id,
  consumer: m.consumer,
  sequenceKey: m.sequenceKey,
  state: sequenceStates.find((s) => s === m.state) ?? 'unknown',
  stream: m.stream,
  streamSequence: m.streamSequence,
  subject: m.subject,
  eventId: m.eventId,
  eventType: m.eventType,
  reason: m.reason,
  deliveries: m.deliveries,
  parkedAt: iso(m.parkedAt),
  ...(full ? { headers: m.headers, payload: Buffer.from(m.payload).toString('utf8') } : {}),
});

export const sequenceReleaseView = (
  service: z.infer<typeof S.ConsumerBackend>,
  id: string,
  r: consumersV1.RedriveDeadLetterSequenceResponse | consumersV1.DiscardDeadLetterResponse,
): z.infer<typeof S.SequenceRelease> => ({
  service,
  id,
  applied: r.applied,
  deadAgainId: r.deadAgainId,
  deadAgainReason: r.deadAgainReason,
  continuing: r.continuing,
});

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
): z.infer<typeof S.Timer> => ({
  service,
  key: t.key,
  kind: t.kind,
  dueAt: iso(t.dueAt),
  attempts: t.attempts,
  lastError: t.lastError,
  firing: t.firing,
});

export const consumerView = (
  service: z.infer<typeof S.ConsumerBackend>,
  c: consumersV1.Consumer,
): z.infer<typeof S.Consumer> => ({
  service,
  stream: c.stream,
  durable: c.durable,
  paused: c.paused,
  changedAt: iso(c.changedAt),
  changedBy: c.changedBy,
  reason: c.reason,
  lastReset: c.lastReset,
  pending: c.pending,
  ackPending: c.ackPending,
  redelivered: c.redelivered,
  lag: c.lag,
  deliveredSequence: c.deliveredSequence,
  ackFloorSequence: c.ackFloorSequence,
  streamLastSequence: c.streamLastSequence,
  startsAt: c.startsAt,
  replicas: c.replicas.map((r) => ({
    replica: r.replica,
    paused: r.paused,
    current: r.current,
    seenAt: iso(r.seenAt),
  })),
});
