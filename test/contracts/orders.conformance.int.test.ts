import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@conveyor/stack';
import { rejectsWithCode, timestampMs } from '@conveyor/stack/testing';
import { status } from '@grpc/grpc-js';
import { type ContractSystem, type Customer, rpc, startContractSystem } from './contract-system.ts';

interface Money {
  amount_minor: string;
  currency: string;
}
interface Order {
  id: string;
  user_id: string;
  status: string;
  items: { sku: string; quantity: number; unit_price: Money }[];
  total: Money;
  version: number;
  placed_at: never;
  paid_at: never;
  carrier: string;
  tracking_number: string;
}
interface Product {
  sku: string;
  name: string;
  price: Money;
}

// The OrderService contract of proto/conveyor/orders/v1/orders.proto, through proto-loader clients.
describe('OrderService conformance (independent client)', () => {
  let system: ContractSystem;
  let admin: Customer;
  let customer: Customer;
  let products: Product[];
  before(async () => {
    system = await startContractSystem('contracts_orders');
    admin = await system.signInAdmin();
    customer = await system.signUp();
    products = (await rpc<{ products: Product[] }>(system.orders, 'ListProducts', { page_size: 500 }))
      .products;
  });
  after(async () => {
    await system?.stop();
  });
  const call = <T = { order: Order }>(
    method: string,
    request: object,
    who: Customer | undefined = customer,
  ) => rpc<T>(system.orders, method, request, who?.metadata);
  const place = (
    who: Customer,
    items = [{ sku: products[0]!.sku, quantity: 2 }],
    key: string = randomUUID(),
  ) => call<{ order: Order; replayed: boolean }>('PlaceOrder', { items, idempotency_key: key }, who);

  describe('catalog (no token needed)', () => {
    it('pages products with a token; 0 means the default size', async () => {
      assert.ok(products.length >= 2, 'the catalog has products');
      const all = await rpc<{ products: Product[]; next_page_token: string }>(system.orders, 'ListProducts', {
        page_size: 0,
      });
      assert.ok(all.products.length >= 1 && all.products.length <= 100);
      const first = await rpc<{ products: Product[]; next_page_token: string }>(
        system.orders,
        'ListProducts',
        { page_size: 1 },
      );
      assert.equal(first.products.length, 1);
      assert.notEqual(first.next_page_token, '');
      const second = await rpc<{ products: Product[] }>(system.orders, 'ListProducts', {
        page_size: 1,
        page_token: first.next_page_token,
      });
      assert.notEqual(second.products[0]!.sku, first.products[0]!.sku);
    });

    it('rejects bad paging and unknown products', async () => {
      await rejectsWithCode(
        rpc(system.orders, 'ListProducts', { page_size: 501 }),
        status.INVALID_ARGUMENT,
        /page_size/,
      );
      await rejectsWithCode(
        rpc(system.orders, 'ListProducts', { page_size: -1 }),
        status.INVALID_ARGUMENT,
        /page_size/,
      );
      await rejectsWithCode(
        rpc(system.orders, 'ListProducts', { page_token: '%%%not-a-token' }),
        status.INVALID_ARGUMENT,
        /page_token/,
      );
      await rejectsWithCode(rpc(system.orders, 'GetProduct', { sku: 'NO-SUCH-SKU' }), status.NOT_FOUND);
      await rejectsWithCode(rpc(system.orders, 'GetProduct', { sku: '' }), status.INVALID_ARGUMENT, /sku/);
    });
  });

  describe('PlaceOrder', () => {
    it('needs a token', async () => {
      await rejectsWithCode(
        rpc(system.orders, 'PlaceOrder', {
          items: [{ sku: products[0]!.sku, quantity: 1 }],
          idempotency_key: 'k',
        }),
        status.UNAUTHENTICATED,
      );
    });

    it('places for the caller, priced from the catalog; a retry with the key replays the first order', async () => {
      const key = randomUUID();
      const { order, replayed } = await place(customer, [{ sku: products[0]!.sku, quantity: 2 }], key);
      assert.equal(replayed, false);
      assert.equal(order.user_id, customer.id);
      assert.equal(order.status, 'ORDER_STATUS_PLACED');
      assert.equal(order.version, 1);
      assert.deepEqual(order.items[0]!.unit_price, products[0]!.price);
      assert.equal(BigInt(order.total.amount_minor), BigInt(products[0]!.price.amount_minor) * 2n);
      assert.ok(Math.abs(timestampMs(order.placed_at) - Date.now()) < 10_000);
      const again = await place(customer, [{ sku: products[0]!.sku, quantity: 2 }], key);
      assert.equal(again.replayed, true);
      assert.equal(again.order.id, order.id);
    });

    it('lets a customer name only themselves', async () => {
      const other = await system.signUp();
      await rejectsWithCode(
        call('PlaceOrder', {
          user_id: other.id,
          items: [{ sku: products[0]!.sku, quantity: 1 }],
          idempotency_key: randomUUID(),
        }),
        status.PERMISSION_DENIED,
      );
    });

    for (const [label, request, field] of [
      ['no items', { items: [], idempotency_key: 'k1' }, /items/],
      ['quantity 0', { items: [{ sku: 'MUG-001', quantity: 0 }], idempotency_key: 'k2' }, /quantity/],
      ['quantity 1001', { items: [{ sku: 'MUG-001', quantity: 1001 }], idempotency_key: 'k3' }, /quantity/],
      [
        'a SKU twice',
        {
          items: [
            { sku: 'MUG-001', quantity: 1 },
            { sku: 'MUG-001', quantity: 1 },
          ],
          idempotency_key: 'k4',
        },
        /sku|items/,
      ],
      [
        '51 lines',
        {
          items: Array.from({ length: 51 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })),
          idempotency_key: 'k5',
        },
        /items/,
      ],
      [
        'no idempotency key',
        { items: [{ sku: 'MUG-001', quantity: 1 }], idempotency_key: '' },
        /idempotency_key/,
      ],
      [
        'a key of 129 characters',
        { items: [{ sku: 'MUG-001', quantity: 1 }], idempotency_key: 'k'.repeat(129) },
        /idempotency_key/,
      ],
    ] as const) {
      it(`answers INVALID_ARGUMENT naming the field for ${label}`, async () => {
        await rejectsWithCode(call('PlaceOrder', request), status.INVALID_ARGUMENT, field);
      });
    }

    it('answers an admin naming a malformed user id with INVALID_ARGUMENT naming user_id', async () => {
      const request = { user_id: 'nope', items: [{ sku: 'MUG-001', quantity: 1 }], idempotency_key: 'k6' };
      await rejectsWithCode(call('PlaceOrder', request, admin), status.INVALID_ARGUMENT, /user_id/);
    });
  });

  describe('lifecycle commands', () => {
    it('pays, ships (admin), delivers (admin); illegal transitions are FAILED_PRECONDITION', async () => {
      const { order } = await place(customer);
      await rejectsWithCode(
        call('ShipOrder', { order_id: order.id, carrier: 'DHL', tracking_number: 'T1' }, admin),
        status.FAILED_PRECONDITION,
      );
      const paid = await call('PayOrder', { order_id: order.id });
      assert.equal(paid.order.status, 'ORDER_STATUS_PAID');
      assert.equal(paid.order.version, 2);
      assert.ok(timestampMs(paid.order.paid_at) >= timestampMs(paid.order.placed_at));
      await rejectsWithCode(call('PayOrder', { order_id: order.id }), status.FAILED_PRECONDITION);
      await rejectsWithCode(
        call('ShipOrder', { order_id: order.id, carrier: 'DHL', tracking_number: 'T1' }),
        status.PERMISSION_DENIED,
      );
      const shipped = await call(
        'ShipOrder',
        { order_id: order.id, carrier: 'DHL', tracking_number: 'T1' },
        admin,
      );
      assert.equal(shipped.order.status, 'ORDER_STATUS_SHIPPED');
      assert.deepEqual([shipped.order.carrier, shipped.order.tracking_number], ['DHL', 'T1']);
      await rejectsWithCode(
        call('CancelOrder', { order_id: order.id, reason: 'late' }),
        status.FAILED_PRECONDITION,
      );
      await rejectsWithCode(call('DeliverOrder', { order_id: order.id }), status.PERMISSION_DENIED);
      const delivered = await call('DeliverOrder', { order_id: order.id }, admin);
      assert.equal(delivered.order.status, 'ORDER_STATUS_DELIVERED');
    });

    it("keeps a customer away from another's order and names bad ids", async () => {
      const { order } = await place(customer);
      const other = await system.signUp();
      await rejectsWithCode(call('PayOrder', { order_id: order.id }, other), status.PERMISSION_DENIED);
      await rejectsWithCode(call('GetOrderHistory', { order_id: order.id }, other), status.PERMISSION_DENIED);
      await rejectsWithCode(call('PayOrder', { order_id: 'nope' }), status.INVALID_ARGUMENT, /order_id/);
      await rejectsWithCode(call('PayOrder', { order_id: randomUUID() }, admin), status.NOT_FOUND);
    });
  });

  describe('queries', () => {
    it('reads the order from the read model and its history, newest first and paged', async () => {
      const shopper = await system.signUp();
      const placed: Order[] = [];
      for (let i = 0; i < 3; i++) placed.push((await place(shopper)).order);
      await waitUntil(
        async () =>
          (await call<{ orders: unknown[] }>('ListOrders', { page_size: 10 }, shopper)).orders.length === 3,
        { timeoutMs: 10_000, intervalMs: 100, message: 'projection did not catch up' },
      );
      const page1 = await call<{ orders: { id: string }[]; next_page_token: string }>(
        'ListOrders',
        { page_size: 2 },
        shopper,
      );
      const page2 = await call<{ orders: { id: string }[]; next_page_token: string }>(
        'ListOrders',
        { page_size: 2, page_token: page1.next_page_token },
        shopper,
      );
      assert.deepEqual(
        [...page1.orders, ...page2.orders].map((o) => o.id),
        placed.map((o) => o.id).reverse(),
      );
      assert.equal(page2.next_page_token, '');
      const { order } = await call('GetOrder', { order_id: placed[0]!.id }, shopper);
      assert.equal(order.id, placed[0]!.id);
      const history = await call<{ entries: { version: number; event_type: string }[] }>(
        'GetOrderHistory',
        { order_id: placed[0]!.id },
        shopper,
      );
      assert.deepEqual(
        history.entries.map((e) => [e.version, e.event_type]),
        [[1, 'OrderPlaced']],
      );
    });

    it('rejects bad list requests with the field named', async () => {
      const other = await system.signUp();
      await rejectsWithCode(call('ListOrders', { page_size: 501 }), status.INVALID_ARGUMENT, /page_size/);
      await rejectsWithCode(call('ListOrders', { page_token: '%%%' }), status.INVALID_ARGUMENT, /page_token/);
      await rejectsWithCode(call('ListOrders', { user_id: other.id }), status.PERMISSION_DENIED);
      const { order } = await place(customer);
      await rejectsWithCode(
        call('GetOrderAt', { order_id: order.id, version: -1 }, admin),
        status.INVALID_ARGUMENT,
        /version/,
      );
      // protobuf's Timestamp: nanos 0 to 999,999,999, seconds from year 1 to 9999. Anything else is
      // refused, not read as some other instant.
      for (const time of [
        { seconds: 1_800_000_000, nanos: -1 },
        { seconds: 1_800_000_000, nanos: 1_000_000_000 },
        { seconds: 253_402_300_800, nanos: 0 },
        { seconds: -62_135_596_801, nanos: 0 },
      ]) {
        await rejectsWithCode(
          call('GetOrderAt', { order_id: order.id, time }, admin),
          status.INVALID_ARGUMENT,
          /Timestamp/,
        );
      }
      const at = await call<{ order: { id: string } }>(
        'GetOrderAt',
        { order_id: order.id, time: { seconds: Math.ceil(Date.now() / 1000) + 60, nanos: 999_999_999 } },
        admin,
      );
      assert.equal(at.order.id, order.id);
    });

    it('keeps republish for admins and names a bad range', async () => {
      await rejectsWithCode(call('RepublishEvents', { from_position: 1 }), status.PERMISSION_DENIED);
      await rejectsWithCode(
        call('RepublishEvents', { from_position: 0 }, admin),
        status.INVALID_ARGUMENT,
        /from_position/,
      );
    });
  });
});
