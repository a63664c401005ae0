import { notificationsV1, Streams } from '@conveyor/contracts';
import {
  type CloudEvent,
  callUnary,
  encodeData,
  insecure,
  migrate,
  newEvent,
  toHeaders,
} from '@conveyor/platform';
import { type SmtpSink, startSystem } from '@conveyor/stack';
import {
  publishedEvent,
  type SignedIn,
  signInAdmin,
  signUp,
  testDatabase,
  testNats,
  testSmtpSink,
} from '@conveyor/stack/testing';
import type { CallOptions, Metadata, ServiceError } from '@grpc/grpc-js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { migrations } from '../adapters/migrations.ts';
import { loadNotificationsConfig } from '../config.ts';
import { type RunningNotificationsService, startNotificationsService } from '../service.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

export { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/**
 * For integration tests: a real Postgres database, NATS, SMTP sink and
 * webhook receiver, and the notification service started in-process on them.
 */
export interface NotificationsHarness {
  db: Awaited<ReturnType<typeof testDatabase>>;
  nats: Awaited<ReturnType<typeof testNats>>;
  smtp: SmtpSink;
  receiver: WebhookReceiver;
  service: RunningNotificationsService;
  nc: NatsConnection;
  sql: pg.Pool;
  client: notificationsV1.NotificationServiceClient;
  /** Publishes like the relay does; another `msgId` bypasses JetStream's dedupe (a forced redelivery). */
  publish(event: CloudEvent, msgId?: string): Promise<void>;
  /** The users service the tokens come from, and an admin signed in there. */
  users: TokenIssuer;
  /**
   * A user signed up at `users`, and the user.created v2 it published for them (sealed contact
   * details, revealed through users), to publish here as notifications receives it.
   */
  userCreated(email: string, name?: string): Promise<CloudEvent>;
  /** Calls a NotificationService method as the admin, with a 10 s deadline. */
  call<Req, Res>(
    method: (
      request: Req,
      metadata: Metadata,
      options: Partial<CallOptions>,
      callback: (error: ServiceError | null, response: Res) => void,
    ) => unknown,
    request: Req,
  ): Promise<Res>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A real users service (a process, on its own NATS so its user.created events
 * stay out of the test's streams) that issues the tokens notifications' edge
 * checks, with an admin signed in.
 */
export interface TokenIssuer {
  address: string;
  admin: SignedIn;
  /** Env for a notifications service that verifies tokens here. */
  env: Record<string, string>;
  /** Signs a user up here; answers the user.created v2 users published for them. */
  createUser(email: string, name?: string): Promise<CloudEvent>;
  stop(): Promise<void>;
}

export async function startTokenIssuer(databaseUrl: string): Promise<TokenIssuer> {
  const system = await startSystem({
    name: 'token_issuer',
    services: ['users'],
    // Cheap password hashes: tests sign many users up.
    env: { users: { DATABASE_POOL_SIZE: '2', USERS_ARGON2_MEMORY_KIB: '8192', USERS_ARGON2_PASSES: '1' } },
    infra: { databaseUrl, smtp: false },
  });
  let nc: NatsConnection | undefined;
  try {
    const address = system.address('users');
    nc = await connect(system.natsOptions());
    const jsm = await jetstreamManager(nc);
    return {
      address,
      admin: await signInAdmin(address, system.auth),
      env: { USERS_ADDR: address, USERS_SERVICE_SECRET: system.auth.serviceSecret },
      async createUser(email, name = 'Test User') {
        const { userId } = await signUp(address, { email, name });
        return publishedEvent(jsm, { stream: Streams.users.name, type: 'user.created', subject: userId });
      },
      async stop() {
        await nc?.close();
        await system.stop();
      },
    };
  } catch (error) {
    await nc?.close();
    await system.stop();
    throw error;
  }
}

export async function startHarness(
  prefix: string,
  env: Record<string, string> = {},
): Promise<NotificationsHarness> {
  const db = await testDatabase(prefix);
  const nats = await testNats();
  const smtp = await testSmtpSink();
  const receiver = await startWebhookReceiver();
  await migrate({ url: db.url, schema: 'notifications', migrations });
  const users = await startTokenIssuer(db.url);
  const service = await startNotificationsService(
    loadNotificationsConfig({
      ...users.env,
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}?tls=off`,
      GRPC_PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      CONSUMER_BACKOFF_MS: '200,400',
      CONSUMER_MAX_DELIVER: '4',
      DELIVERY_BACKOFF_MS: '200,400',
      DELIVERY_POLL_MS: '100',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      ...env,
    }),
  );
  const nc = await connect({ servers: nats.url });
  const sql = new pg.Pool({ connectionString: db.url, options: '-c search_path=notifications' });
  const client = new notificationsV1.NotificationServiceClient(`127.0.0.1:${service.grpcPort}`, insecure());
  return {
    db,
    nats,
    smtp,
    receiver,
    service,
    users,
    userCreated: (email, name) => users.createUser(email, name),
    nc,
    sql,
    client,
    async publish(event, msgId = event.id) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(toHeaders(event))) if (k !== 'Nats-Msg-Id') h.set(k, v);
      await jetstream(nc).publish(event.type, encodeData(event), { msgID: msgId, headers: h });
    },
    call: (method, request) =>
      callUnary(client, method, request, { deadlineMs: 10_000, metadata: users.admin.metadata() }),
    async metric(name, labels = {}) {
      const metric = await service.registry.getSingleMetric(name)?.get();
      const match = metric?.values.find((v) =>
        Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value),
      );
      return match?.value ?? 0;
    },
    async stop() {
      client.close();
      await sql.end();
      await nc.close();
      await service.stop();
      await users.stop();
      await receiver.close();
      await smtp.close();
      await nats.stop();
      await db.drop();
    },
  };
}

/**
 * user.created v1 (plaintext contact details), which older producers wrote
 * and notifications still reads; newEvent would build the newest, sealed v2.
 */
/**
 * A user.created v1: plaintext contact details, retired (consumers dead-letter it). What a forger
 * would publish; real users come from `userCreated` of the harness, through users.
 */
export function plaintextUserCreated(
  email: string,
  name = 'Test User',
  userId: string = uuidv7(),
): CloudEvent {
  const data = { userId, email, name, createdAt: new Date().toISOString() };
  return newEvent('user.created', data, { source: 'conveyor/users', subject: userId, version: 1 });
}

export function orderPaid(userId: string): CloudEvent {
  const orderId = uuidv7();
  return newEvent(
    'order.paid',
    { orderId, userId, amount: { amountMinor: 2500, currency: 'EUR' }, paidAt: new Date().toISOString() },
    { source: 'conveyor/orders', subject: orderId },
  );
}

export function userErased(userId: string): CloudEvent {
  return newEvent(
    'user.erased',
    { userId, erasedAt: new Date().toISOString() },
    { source: 'conveyor/users', subject: userId },
  );
}

/**
 * True once nothing is left to do: both consumers have nothing pending or unacknowledged and no
 * delivery is scheduled, so no send can still be on its way (a late duplicate would show after).
 */
export async function settled(h: Pick<NotificationsHarness, 'nc' | 'sql'>): Promise<boolean> {
  if (!(await drained(h.nc))) return false;
  const { rowCount } = await h.sql.query('select 1 from delivery_queue limit 1');
  return rowCount === 0;
}

/** Waits until the consumers on both streams have nothing pending or unacknowledged. */
export async function drained(nc: NatsConnection): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  for (const stream of ['USERS', 'ORDERS']) {
    const info = await jsm.consumers.info(stream, 'notifications');
    if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
  }
  return true;
}
