import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts/grpc';
import { freePort } from '@conveyor/stack';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { cli } from './cli-process.ts';

const prices: Record<string, number> = { 'MUG-001': 1250, 'STICKER-PACK': 500 };

/**
 * An order service stand-in: places orders priced from two SKUs (key "used-key" is a
 * replay; user "u-crash" fails with INTERNAL), refuses to pay anything (the order is cancelled), and streams a rebuild
 * (RebuildProjections fails after one report once `failRebuild` is set).
 */
async function fakeOrders() {
  const seen = { keys: [] as string[], authorization: [] as string[], failRebuild: false };
  const unimplemented = (_call: unknown, callback: (error: { code: number; details: string }) => void) =>
    callback({ code: status.UNIMPLEMENTED, details: 'not in this fake' });
  const implementation: ordersV1.OrderServiceServer = {
    placeOrder(call, callback) {
      const { userId, items, idempotencyKey } = call.request;
      seen.keys.push(idempotencyKey);
      seen.authorization.push(String(call.metadata.get('authorization')[0] ?? ''));
      if (userId === 'u-crash') {
        callback({ code: status.INTERNAL, details: 'internal error' });
        return;
      }
      const lines = items.map((item) => ({
        sku: item.sku,
        quantity: item.quantity,
        unitPrice: { amountMinor: prices[item.sku] ?? 100, currency: 'EUR' },
      }));
      const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amountMinor, 0);
      const order = ordersV1.Order.fromPartial({
        id: 'o-1',
        userId,
        status: ordersV1.OrderStatus.ORDER_STATUS_PLACED,
        items: lines,
        total: { amountMinor: total, currency: 'EUR' },
        version: 1,
        placedAt: new Date(),
      });
      callback(null, { order, replayed: idempotencyKey === 'used-key' });
    },
    payOrder(_call, callback) {
      callback({ code: status.FAILED_PRECONDITION, details: 'order is cancelled; cannot pay' });
    },
    rebuildProjections(call) {
      const reports = [
        { phase: 'copying', processed: 0, total: 5000 },
        { phase: 'copying', processed: 1200, total: 5000 },
        { phase: 'copying', processed: 5000, total: 5000 },
        { phase: 'catching-up', processed: 3, total: 0 },
        { phase: 'swapping', processed: 0, total: 0 },
        { phase: 'done', processed: 5003, total: 5003 },
      ];
      if (seen.failRebuild) {
        call.write({ phase: 'copying', processed: 1200, total: 5000 });
        // emit('error'), not destroy(error): a destroyed stream never sends its status.
        call.emit('error', { code: status.INTERNAL, details: 'internal error' });
        return;
      }
      for (const report of reports) call.write(report);
      call.end();
    },
    listProducts: unimplemented,
    getProduct: unimplemented,
    shipOrder: unimplemented,
    deliverOrder: unimplemented,
    cancelOrder: unimplemented,
    getOrder: unimplemented,
    listOrders: unimplemented,
    getOrderHistory: unimplemented,
    getOrderAt: unimplemented,
    republishEvents: unimplemented,
  };
  const server = new Server();
  server.addService(ordersV1.OrderServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, seen, stop: () => server.forceShutdown() };
}

describe('conveyor orders and projections (child process)', () => {
  let home: string;
  let env: Record<string, string>;
  let orders: Awaited<ReturnType<typeof fakeOrders>>;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'conveyor-cli-orders-'));
    orders = await fakeOrders();
    env = { CONVEYOR_HOME: home, XDG_STATE_HOME: home, ORDERS_ADDR: orders.address, CONVEYOR_TOKEN: 'h.p.s' };
  });

  after(async () => {
    orders.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('places an order with a new idempotency key and prints the key', async () => {
    const run = await cli(
      ['orders', 'place', '--user', 'u-1', '--item', 'MUG-001:2', '--item', 'STICKER-PACK:1'],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const key = orders.seen.keys.at(-1) ?? '';
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(orders.seen.authorization.at(-1), 'Bearer h.p.s', 'the CLI sends its access token');
    assert.match(
      run.stdout,
      /^placed order\nid +o-1\nuser +u-1\nstatus +placed\ntotal +30\.00 EUR\nversion +1\n/,
    );
    assert.match(run.stdout, /^sku +qty +unit price +amount$/m);
    assert.match(run.stdout, /^MUG-001 +2 +12\.50 EUR +25\.00 EUR$/m);
    assert.match(run.stdout, /^STICKER-PACK +1 +5\.00 EUR +5\.00 EUR$/m);
    assert.ok(
      run.stdout.endsWith(`\nidempotency key: ${key} (placing again with this --key returns this order)\n`),
      run.stdout,
    );
  });

  it('says when a key was used before, and in JSON', async () => {
    const args = ['orders', 'place', '--user', 'u-1', '--item', 'MUG-001:1', '--key', 'used-key'];
    const run = await cli(args, env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\(replayed: an order with this key already existed\)\nid +o-1\n/);
    const json = await cli([...args, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as {
      order: { status: string };
      replayed: boolean;
      idempotencyKey: string;
    };
    assert.equal(parsed.order.status, 'ORDER_STATUS_PLACED');
    assert.equal(parsed.replayed, true);
    assert.equal(parsed.idempotencyKey, 'used-key');
  });

  it('prints the status name and the message of a refused command (exit 2)', async () => {
    const run = await cli(['orders', 'pay', 'o-1'], env);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'conveyor: FAILED_PRECONDITION: order is cancelled; cannot pay\n');
    assert.equal(run.stdout, '');
  });

  it('tells which key to retry with when placing failed after reaching the service (exit 1)', async () => {
    const run = await cli(['orders', 'place', '--user', 'u-crash', '--item', 'MUG-001:1'], env);
    const key = orders.seen.keys.at(-1) ?? '';
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `conveyor: INTERNAL: internal error\nthe order may have been placed: retry with --key ${key} to get it rather than a second one\n`,
    );
  });

  it('says the service is not reachable (exit 1)', async () => {
    const port = await freePort();
    const run = await cli(['orders', 'place', '--user', 'u-1', '--item', 'MUG-001:1'], {
      ...env,
      ORDERS_ADDR: `127.0.0.1:${port}`,
    });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `conveyor: the orders service is not reachable at 127.0.0.1:${port} — start the stack with ./bin/conveyor up\n`,
    );
  });

  it('prints rebuild progress as plain lines when stdout is not a terminal, then done', async () => {
    const run = await cli(['projections', 'rebuild'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'copying  0/5000  0%',
        'copying  1200/5000  24%',
        'copying  5000/5000  100%',
        'catching-up  3',
        'swapping',
        'done',
        '',
      ].join('\n'),
    );
    const json = await cli(['projections', 'rebuild', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { phase: string });
    assert.deepEqual(
      lines.map((line) => line.phase),
      ['copying', 'copying', 'copying', 'catching-up', 'swapping', 'done'],
    );
  });

  it('reports a rebuild that fails midway (exit 1) after the progress so far', async () => {
    orders.seen.failRebuild = true;
    try {
      const run = await cli(['projections', 'rebuild'], env);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, 'copying  1200/5000  24%\n');
      assert.equal(run.stderr, 'conveyor: INTERNAL: internal error\n');
    } finally {
      orders.seen.failRebuild = false;
    }
  });
});
