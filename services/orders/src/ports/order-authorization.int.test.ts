import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ordersV1, usersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { waitUntil } from '@conveyor/stack';
import {
  type SignedIn,
  signInAdmin,
  signUp,
  TEST_ADMIN_EMAIL,
  TEST_ADMIN_PASSWORD,
  testDatabase,
  testNats,
} from '@conveyor/stack/testing';
import { Metadata, status } from '@grpc/grpc-js';
import { migrations as usersMigrations } from '../../../users/src/adapters/migrations.ts';
import { loadUsersConfig } from '../../../users/src/config.ts';
import { makeFirstAdmin } from '../../../users/src/first-admin.ts';
import { type RunningUsersService, startUsersService } from '../../../users/src/service.ts';
import { migrations } from '../adapters/migrations.ts';
import { loadOrdersConfig } from '../config.ts';
import { type RunningOrdersService, startOrdersService } from '../service.ts';

/** The edge of the order service with a real users service behind it. */
describe('orders service: authorisation at the edge (real users service, Postgres, NATS)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let users: RunningUsersService;
  let orders: RunningOrdersService;
  let client: ordersV1.OrderServiceClient;
  let alice: SignedIn;
  let bob: SignedIn;
  let admin: SignedIn;

  before(async () => {
    db = await testDatabase('orders_auth');
    nats = await testNats();
    await migrate({ url: db.url, schema: 'users', migrations: usersMigrations });
    await migrate({ url: db.url, schema: 'orders', migrations });
    await makeFirstAdmin(
      { databaseUrl: db.url, argon2: { memoryKiB: 8192, passes: 1, parallelism: 1 } },
      { email: TEST_ADMIN_EMAIL, name: 'Admin', password: TEST_ADMIN_PASSWORD },
    );
    const common = {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      GRPC_PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    users = await startUsersService(
      loadUsersConfig({
        ...common,
        USERS_ARGON2_MEMORY_KIB: '8192',
        USERS_ARGON2_PASSES: '1',
      }),
    );
    const usersAddress = `127.0.0.1:${users.grpcPort}`;
    orders = await startOrdersService(
      loadOrdersConfig({ ...common, DATABASE_POOL_SIZE: '4', USERS_ADDR: usersAddress }),
    );
    client = new ordersV1.OrderServiceClient(`127.0.0.1:${orders.grpcPort}`, insecure());
    [alice, bob, admin] = await Promise.all([
      signUp(usersAddress),
      signUp(usersAddress),
      signInAdmin(usersAddress),
    ]);
  });

  after(async () => {
    client?.close();
    await orders?.stop();
    await users?.stop();
    await nats?.stop();
    await db?.drop();
  });

  const opts = (who: SignedIn | undefined) => ({
    deadlineMs: 5000,
    ...(who ? { metadata: who.metadata() } : {}),
  });
  const place = (who: SignedIn, userId = '') =>
    callUnary(
      client,
      client.placeOrder,
      { userId, items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
      opts(who),
    );
  const rejects = async (call: Promise<unknown>, code: status, message?: RegExp) => {
    await assert.rejects(call, (error: { code: number; details: string }) => {
      assert.equal(error.code, code, `expected ${status[code]}, got ${status[error.code]}: ${error.details}`);
      if (message) assert.match(error.details, message);
      return true;
    });
  };

  it('places an order for the caller and lets only the owner or an admin read it', async () => {
    const { order } = await place(alice);
    assert.equal(order?.userId, alice.userId);
    const id = order?.id as string;
    const history = await callUnary(client, client.getOrderHistory, { orderId: id }, opts(alice));
    assert.equal(history.entries.length, 1);
    await rejects(
      callUnary(client, client.getOrderHistory, { orderId: id }, opts(bob)),
      status.PERMISSION_DENIED,
    );
    await rejects(
      callUnary(client, client.getOrderAt, { orderId: id, version: 1 }, opts(bob)),
      status.PERMISSION_DENIED,
    );
    await callUnary(client, client.getOrderHistory, { orderId: id }, opts(admin));
  });

  it('does not let customer B pay or cancel customer A’s order, nor read it once projected', async () => {
    const { order } = await place(alice);
    const orderId = order?.id as string;
    await rejects(
      callUnary(client, client.payOrder, { orderId }, opts(bob)),
      status.PERMISSION_DENIED,
      /another user/,
    );
    await rejects(
      callUnary(client, client.cancelOrder, { orderId, reason: 'mine now' }, opts(bob)),
      status.PERMISSION_DENIED,
    );
    const deadline = Date.now() + 10_000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      seen = await callUnary(client, client.getOrder, { orderId }, opts(alice)).then(
        () => true,
        () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
      );
    }
    assert.ok(seen, 'the order reached the read model');
    await rejects(callUnary(client, client.getOrder, { orderId }, opts(bob)), status.PERMISSION_DENIED);
    const paid = await callUnary(client, client.payOrder, { orderId }, opts(alice));
    assert.equal(paid.order?.status, ordersV1.OrderStatus.ORDER_STATUS_PAID);
  });

  it('keeps customers to their own lists and orders; admins act for anyone', async () => {
    await rejects(place(bob, alice.userId), status.PERMISSION_DENIED, /user_id/);
    await rejects(
      callUnary(
        client,
        client.listOrders,
        { userId: alice.userId, status: 0, pageSize: 10, pageToken: '' },
        opts(bob),
      ),
      status.PERMISSION_DENIED,
    );
    const { order } = await place(admin, bob.userId);
    assert.equal(order?.userId, bob.userId);
  });

  it('refuses an admin order for a user that does not exist or was erased, and stores nothing', async () => {
    const nobody = randomUUID();
    await rejects(place(admin, nobody), status.NOT_FOUND, new RegExp(`user_id: no user ${nobody}`));
    await rejects(place(admin, 'not-a-uuid'), status.INVALID_ARGUMENT, /user_id/);

    const carol = await signUp(`127.0.0.1:${users.grpcPort}`);
    await place(admin, carol.userId);
    const usersClient = new usersV1.UserServiceClient(`127.0.0.1:${users.grpcPort}`, insecure());
    try {
      await callUnary(usersClient, usersClient.eraseUser, { id: carol.userId }, opts(admin));
    } finally {
      usersClient.close();
    }
    await rejects(place(admin, carol.userId), status.NOT_FOUND, /never created, or erased/);
    const ordersOf = async (userId: string) =>
      (
        await callUnary(
          client,
          client.listOrders,
          { userId, status: 0, pageSize: 10, pageToken: '' },
          opts(admin),
        )
      ).orders;
    // Read models lag the store: once carol's order (placed after the refusals) is projected,
    // an order stored by a refused call would be too.
    await waitUntil(async () => (await ordersOf(carol.userId)).length > 0, {
      timeoutMs: 5000,
      message: "carol's first order in the read model",
    });
    assert.equal((await ordersOf(nobody)).length, 0, 'no order was stored for nobody');
    assert.equal((await ordersOf(carol.userId)).length, 1, 'none stored after the erasure');
  });

  it('lets only admins ship and deliver, and republish', async () => {
    const { order } = await place(alice);
    const orderId = order?.id as string;
    await callUnary(client, client.payOrder, { orderId }, opts(alice));
    const ship = { orderId, carrier: 'DHL', trackingNumber: 'T-1' };
    await rejects(
      callUnary(client, client.shipOrder, ship, opts(alice)),
      status.PERMISSION_DENIED,
      /admin role/,
    );
    await rejects(callUnary(client, client.deliverOrder, { orderId }, opts(alice)), status.PERMISSION_DENIED);
    await rejects(
      callUnary(client, client.republishEvents, { fromPosition: 1, toPosition: 2 }, opts(alice)),
      status.PERMISSION_DENIED,
    );
    const shipped = await callUnary(client, client.shipOrder, ship, opts(admin));
    assert.equal(shipped.order?.status, ordersV1.OrderStatus.ORDER_STATUS_SHIPPED);
    const delivered = await callUnary(client, client.deliverOrder, { orderId }, opts(admin));
    assert.equal(delivered.order?.status, ordersV1.OrderStatus.ORDER_STATUS_DELIVERED);
  });

  it('answers UNAUTHENTICATED without a token or with a forged one, and serves the catalog to anyone', async () => {
    await rejects(
      callUnary(client, client.placeOrder, { userId: '', items: [], idempotencyKey: 'k' }, opts(undefined)),
      status.UNAUTHENTICATED,
      /missing access token/,
    );
    const forged = new Metadata();
    const [h, p] = alice.token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.set(
      'authorization',
      `Bearer ${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${alice.token.split('.')[2]}`,
    );
    await rejects(
      callUnary(
        client,
        client.shipOrder,
        { orderId: randomUUID(), carrier: 'x', trackingNumber: 'y' },
        { deadlineMs: 5000, metadata: forged },
      ),
      status.UNAUTHENTICATED,
    );
    const products = await callUnary(
      client,
      client.listProducts,
      { pageSize: 2, pageToken: '' },
      opts(undefined),
    );
    assert.equal(products.products.length, 2);
  });
});
