import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure, migrate } from '@conveyor/platform';
import { testDatabase, testNats } from '@conveyor/stack/testing';
import { status } from '@grpc/grpc-js';
import { migrations } from './adapters/migrations.ts';
import { loadOrdersConfig } from './config.ts';
import { type RunningOrdersService, startOrdersService } from './service.ts';

describe('orders service: catalog (real Postgres and NATS)', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let nats: Awaited<ReturnType<typeof testNats>>;
  let service: RunningOrdersService;
  let client: ordersV1.OrderServiceClient;

  before(async () => {
    db = await testDatabase('orders');
    nats = await testNats();
    await migrate({ url: db.url, schema: 'orders', migrations });
    service = await startOrdersService(
      loadOrdersConfig({
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        GRPC_PORT: '0',
        OPS_PORT: '0',
        LOG_LEVEL: 'warn',
      }),
    );
    client = new ordersV1.OrderServiceClient(`127.0.0.1:${service.grpcPort}`, insecure());
  });

  after(async () => {
    client?.close();
    await service?.stop();
    await nats?.stop();
    await db?.drop();
  });

  const list = (pageSize: number, pageToken = '') =>
    callUnary(client, client.listProducts, { pageSize, pageToken }, { deadlineMs: 5000 });

  it('pages through the demo catalog in SKU order with server-side prices', async () => {
    const first = await list(4);
    assert.equal(first.products.length, 4);
    const second = await list(4, first.nextPageToken);
    assert.equal(second.nextPageToken, '');
    const skus = [...first.products, ...second.products].map((p) => p.sku);
    assert.deepEqual(skus, [...skus].sort());
    assert.equal(skus.length, 6);
    const mug = first.products.find((p) => p.sku === 'MUG-001');
    assert.deepEqual(mug?.price, { amountMinor: 1250, currency: 'EUR' });
  });

  it('finds a product by SKU, case-insensitively', async () => {
    const { product } = await callUnary(
      client,
      client.getProduct,
      { sku: ' mug-001 ' },
      { deadlineMs: 5000 },
    );
    assert.equal(product?.name, 'Conveyor mug');
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT with the field named', async () => {
    await assert.rejects(callUnary(client, client.getProduct, { sku: 'NOPE-1' }, { deadlineMs: 5000 }), {
      code: status.NOT_FOUND,
      details: 'product NOPE-1 not found',
    });
    await assert.rejects(callUnary(client, client.getProduct, { sku: 'bad sku!' }, { deadlineMs: 5000 }), {
      code: status.INVALID_ARGUMENT,
    });
    await assert.rejects(list(501), {
      code: status.INVALID_ARGUMENT,
      details: 'page_size: must be between 0 and 500',
    });
    await assert.rejects(list(1, '!!'), { code: status.INVALID_ARGUMENT });
  });
});
