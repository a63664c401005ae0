import { catalogContract } from '../testing/catalog.contract.ts';
import { ordersDb } from '../testing/order-streams.ts';
import { PostgresCatalog } from './postgres-catalog.ts';

catalogContract('Postgres', async () => {
  const t = await ordersDb('orders_catalog');
  return { catalog: new PostgresCatalog(t.pool), teardown: () => t.close() };
});
