import { z } from 'zod';
import * as metrics from '../../app/metrics-summary.ts';
import * as ops from '../../app/ops-snapshot.ts';

/**
 * The JSON shapes of the public API. Requests are validated with these and
 * the OpenAPI document is generated from them, so the document cannot drift
 * from what the gateway accepts and returns.
 */

const timestamp = z.string().datetime().nullable();
const uuid = z.string().min(1).max(64);

export const Money = z.object({ amountMinor: z.number().int(), currency: z.string() }).meta({ id: 'Money' });
export const Product = z
  .object({ sku: z.string(), name: z.string(), description: z.string(), price: Money })
  .meta({ id: 'Product' });
export const OrderStatus = z.enum(['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'unknown']);
export const Order = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: OrderStatus,
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPrice: Money })),
    total: Money,
    version: z.number().int(),
    placedAt: timestamp,
    paidAt: timestamp,
    shippedAt: timestamp,
    deliveredAt: timestamp,
    cancelledAt: timestamp,
    carrier: z.string(),
    trackingNumber: z.string(),
    cancelReason: z.string(),
  })
  .meta({ id: 'Order' });
export const OrderSummary = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: OrderStatus,
    total: Money,
    itemCount: z.number().int(),
    version: z.number().int(),
    placedAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'OrderSummary' });
export const HistoryEntry = z
  .object({
    version: z.number().int(),
    eventId: z.string(),
    eventType: z.string(),
    recordedAt: timestamp,
    data: z.unknown(),
    state: Order,
  })
  .meta({ id: 'HistoryEntry' });
export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['customer', 'admin', 'service', 'unknown']),
    createdAt: timestamp,
  })
  .meta({ id: 'User' });
export const Session = z.object({ user: User, expiresAt: timestamp }).meta({ id: 'Session' });
// A union, not User.nullable(): the generator documents a nullable $ref as allOf [User, null], which no null matches.
export const MaybeSession = z
  .object({ user: z.union([User, z.null()]), expiresAt: timestamp })
  .meta({ id: 'MaybeSession' });
export const Notification = z
  .object({
    id: z.string(),
    userId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    channel: z.string(),
    recipient: z.string(),
    subject: z.string(),
    status: z.enum(['pending', 'sent', 'failed', 'cancelled', 'unknown']),
    attempts: z.number().int(),
    lastError: z.string(),
    createdAt: timestamp,
    sentAt: timestamp,
  })
  .meta({ id: 'Notification' });
export const DeadLetter = z
  .object({
    id: z.string(),
    originalSubject: z.string(),
    originalStream: z.string(),
    originalSequence: z.number().int(),
    reason: z.string(),
    deliveries: z.number().int(),
    attempts: z.number().int(),
    failedAt: timestamp,
    consumer: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    headers: z.record(z.string(), z.string()).optional(),
    payload: z.string().optional(),
  })
  .meta({ id: 'DeadLetter' });
/** The services that keep sequenced dead letters (ADR 0031); their ids are separate spaces. */
export const ConsumerBackend = z.enum(['orders', 'notifications'], {
  error: 'must be orders or notifications',
});
export const SequencedMessage = z
  .object({
    id: z.string(),
    consumer: z.string(),
    sequenceKey: z.string(),
    state: z.enum(['retrying', 'dead', 'parked', 'unknown']),
    stream: z.string(),
    streamSequence: z.number().int(),
    subject: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    reason: z.string(),
    deliveries: z.number().int(),
    parkedAt: timestamp,
    headers: z.record(z.string(), z.string()).optional(),
    payload: z.string().optional(),
  })
  .meta({ id: 'SequencedMessage' });
export const DeadLetterSequence = z
  .object({ service: ConsumerBackend, head: SequencedMessage, parkedBehind: z.number().int() })
  .meta({ id: 'DeadLetterSequence' });
export const DeadLetterSequenceDetail = z
  .object({ service: ConsumerBackend, messages: z.array(SequencedMessage), total: z.number().int() })
  .meta({ id: 'DeadLetterSequenceDetail' });
export const SequenceRelease = z
  .object({
    service: ConsumerBackend,
    id: z.string(),
    applied: z.number().int(),
    deadAgainId: z.string(),
    deadAgainReason: z.string(),
    continuing: z.boolean(),
  })
  .meta({ id: 'SequenceRelease' });
export const ConsumerReplica = z.object({
  replica: z.string(),
  paused: z.boolean(),
  current: z.boolean(),
  seenAt: z.string().nullable(),
});
/** A durable consumer under the operators' controls (ADR 0033). */
export const Consumer = z
  .object({
    service: ConsumerBackend,
    stream: z.string(),
    durable: z.string(),
    paused: z.boolean(),
    changedAt: z.string().nullable(),
    changedBy: z.string(),
    reason: z.string(),
    lastReset: z.string(),
    pending: z.number().int(),
    ackPending: z.number().int(),
    redelivered: z.number().int(),
    lag: z.number().int(),
    deliveredSequence: z.number().int(),
    ackFloorSequence: z.number().int(),
    streamLastSequence: z.number().int(),
    startsAt: z.string(),
    replicas: z.array(ConsumerReplica),
  })
  .meta({ id: 'Consumer' });
export const ConsumerList = z.object({ consumers: z.array(Consumer) });
export const Timer = z
  .object({
    service: ConsumerBackend,
    key: z.string(),
    kind: z.string(),
    dueAt: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string(),
    firing: z.boolean(),
  })
  .meta({ id: 'Timer' });
export const TimerList = z.object({
  timers: z.array(Timer),
  total: z.number().int().meta({ description: 'Timers set in all services (each counts at most 100,000)' }),
});
export const TimerLimit = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'must be a whole number from 1 to 500')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 500, 'must be a whole number from 1 to 500');
export const ServiceHealth = ops.ServiceHealth.meta({ id: 'ServiceHealth' });
export const MetricsSummary = metrics.MetricsSummary.meta({ id: 'MetricsSummary' });
export const OpsSnapshot = z
  .object({ at: z.string(), health: z.array(ServiceHealth), metrics: z.array(MetricsSummary) })
  .meta({ id: 'OpsSnapshot' });
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional(),
  })
  .meta({ id: 'Problem' });

export const page = <T extends z.ZodType>(key: string, item: T) =>
  z.object({ [key]: z.array(item), nextPageToken: z.string() });

// Requests
export const SignUpRequest = z.object({
  email: z.string().trim().email('must be an email address').max(254),
  name: z.string().trim().min(1, 'must not be empty').max(100),
  password: z.string().min(12, 'must be at least 12 characters').max(128),
});
export const SignUpAccepted = z
  .object({ accepted: z.literal(true), detail: z.string() })
  .meta({ id: 'SignUpAccepted' });
export const LogInRequest = z.object({
  email: z.string().trim().min(1, 'must not be empty').max(254),
  password: z.string().min(1, 'must not be empty').max(128),
});
export const PlaceOrderRequest = z.object({
  items: z
    .array(
      z.object({
        sku: z.string().min(1, 'must not be empty').max(64),
        quantity: z.number().int().min(1).max(1000),
      }),
    )
    .min(1, 'must have at least one line')
    .max(50),
});
export const ShipOrderRequest = z.object({
  carrier: z.string().trim().min(1, 'must not be empty').max(100),
  trackingNumber: z.string().trim().min(1, 'must not be empty').max(100),
});
export const CancelOrderRequest = z.object({ reason: z.string().trim().max(500).default('') });
export const Empty = z.object({});
export const IdempotencyKey = z.string().min(1).max(128);
export const OrderId = uuid;
/** As the services accept it: a positive decimal of at most 18 digits. */
export const DeadLetterId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a dead letter id (digits)');
/** A stream or durable name, as NATS allows and the services accept it. */
export const ConsumerPart = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a stream or consumer name');
export const PauseConsumerRequest = z.object({ reason: z.string().trim().max(200).default('') });
export const ResetConsumerRequest = z
  .object({
    startSequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    startTime: z.iso
      .datetime({ offset: true, error: 'must be an ISO-8601 time with Z or an offset' })
      .optional(),
    confirm: z.boolean({ error: "must be true: a reset replaces the consumer's position" }),
  })
  .refine((r) => (r.startSequence === undefined) !== (r.startTime === undefined), {
    error: 'exactly one of startSequence and startTime',
    path: ['startSequence'],
  });
export const DiscardDeadLetterRequest = z.object({
  confirm: z.boolean({ error: 'must be true to drop the dead letter unapplied' }),
});

// Path parameters and queries
const described = (description: string) => z.string().optional().meta({ description });
export const PageQuery = z.object({ pageToken: described('from nextPageToken') });
// Parameters arrive percent-decoded: the router refuses a malformed escape, naming the parameter.
export const OrderPath = z.object({ id: OrderId });
export const DeadLetterPath = z.object({ id: z.string() });
export const ConsumerPath = z.object({
  service: ConsumerBackend,
  stream: ConsumerPart,
  durable: ConsumerPart,
});
export const SequencePath = z.object({ service: ConsumerBackend, id: DeadLetterId });
export const OrderListQuery = PageQuery.extend({
  status: z
    .enum(['placed', 'paid', 'shipped', 'delivered', 'cancelled'])
    .optional()
    .meta({ description: 'placed | paid | shipped | delivered | cancelled' }),
});
export const OrderAtQuery = z.object({
  version: z
    .string({ error: 'is required' })
    .transform(Number)
    .pipe(
      z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be 1 or more'),
    )
    .meta({ description: 'required, 1 or more' }),
});
export const DeadLetterQuery = PageQuery.extend({ subject: described('original subject, exactly') });
export const TimerQuery = z.object({
  limit: TimerLimit.optional().meta({ description: '1 to 500 (default 20): how many of the soonest' }),
});
export const PlaceOrderHeaders = z.object({ 'Idempotency-Key': IdempotencyKey.optional() });
