import { Streams } from './streams.ts';

/**
 * Who may do what on NATS (ADR 0025). Each service connects as its own identity (an nkey) and
 * may publish only its own events, pull and acknowledge only its own durable consumers and
 * receive replies only on its own inbox prefix. Streams are created by `admin`, used by
 * migrations and start-up, never by a running service's own connection; or, where they are
 * infrastructure (NATS_MANAGE_TOPOLOGY=false), by `nack`, the JetStream controller for Kubernetes
 * (its requests answer on the default `_INBOX.` prefix, which it cannot change); `test` is for
 * messages tests publish by hand.
 */
export type NatsIdentity = 'users' | 'orders' | 'notifications' | 'gateway' | 'admin' | 'nack' | 'test';

export const natsIdentities: readonly NatsIdentity[] = [
  'users',
  'orders',
  'notifications',
  'gateway',
  'admin',
  'nack',
  'test',
];

/** The durable consumers, named once: each is its owner's alone. */
export const Durables = {
  ordersProjections: 'orders-projections',
  notifications: 'notifications',
} as const;

/** The gateway's edge-limit counters (ADR 0023), a KV bucket it owns. */
export const GatewayLimitsBucket = 'conveyor_gateway_limits';

export interface NatsPermissions {
  publish: readonly string[];
  subscribe: readonly string[];
}

/** Replies to an identity's requests (PubAcks, API answers) come to `_INBOX_<identity>.>` only. */
export function natsInboxPrefix(identity: NatsIdentity): string {
  return `_INBOX_${identity}`;
}

const streamInfo = Object.values(Streams).map((s) => `$JS.API.STREAM.INFO.${s.name}`);

/**
 * Pull, inspect, create or update, and acknowledge one durable consumer of one stream; delete it and
 * read when a stream message was stored, for an operator's reset (ADR 0033).
 */
function ownConsumer(stream: string, durable: string): string[] {
  return [
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.DELETE.${stream}.${durable}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

function service(identity: NatsIdentity, publish: string[]): NatsPermissions {
  return {
    publish: ['$JS.API.INFO', ...streamInfo, ...publish],
    subscribe: [`${natsInboxPrefix(identity)}.>`],
  };
}

const bucketStream = `KV_${GatewayLimitsBucket}`;

export const natsPermissions: Record<NatsIdentity, NatsPermissions> = {
  users: service('users', ['user.>']),
  orders: service('orders', [
    'order.>',
    ...ownConsumer(Streams.orders.name, Durables.ordersProjections),
    `deadletter.${Durables.ordersProjections}.>`,
    // Removing a dead letter's copy when its sequence is redriven or discarded (ADR 0031).
    `$JS.API.STREAM.MSG.DELETE.${Streams.deadLetters.name}`,
  ]),
  notifications: service('notifications', [
    ...ownConsumer(Streams.users.name, Durables.notifications),
    ...ownConsumer(Streams.orders.name, Durables.notifications),
    `deadletter.${Durables.notifications}.>`,
    // Reading, removing and purging its dead letters (a purge's filter cannot be restricted).
    `$JS.API.STREAM.MSG.GET.${Streams.deadLetters.name}`,
    `$JS.API.STREAM.MSG.DELETE.${Streams.deadLetters.name}`,
    `$JS.API.STREAM.PURGE.${Streams.deadLetters.name}`,
  ]),
  gateway: {
    publish: [
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${bucketStream}`,
      `$JS.API.STREAM.CREATE.${bucketStream}`,
      `$JS.API.STREAM.UPDATE.${bucketStream}`,
      `$JS.API.STREAM.MSG.GET.${bucketStream}`,
      `$JS.API.DIRECT.GET.${bucketStream}.>`,
      `$KV.${GatewayLimitsBucket}.>`,
    ],
    subscribe: [`${natsInboxPrefix('gateway')}.>`],
  },
  admin: { publish: ['$JS.API.>'], subscribe: [`${natsInboxPrefix('admin')}.>`] },
  // Creates and updates streams and consumers from their Kubernetes resources (prod overlay).
  nack: { publish: ['$JS.API.>'], subscribe: ['_INBOX.>'] },
  test: { publish: ['>'], subscribe: ['>'] },
};
