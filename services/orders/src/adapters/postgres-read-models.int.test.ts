import { orderReadModelsContract } from '../testing/order-read-models.contract.ts';
import { type OrdersDb, ordersDb } from '../testing/order-streams.ts';
import { PostgresOrderReadModels } from './postgres-read-models.ts';

orderReadModelsContract('Postgres', async () => {
  const t: OrdersDb = await ordersDb('order_read_models');
  return { readModels: new PostgresOrderReadModels(t.pool), teardown: () => t.close() };
});
