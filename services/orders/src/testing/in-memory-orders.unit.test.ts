import { catalogContract } from './catalog.contract.ts';
import { InMemoryCatalog, InMemoryOrderReadModels } from './in-memory-orders.ts';
import { orderReadModelsContract } from './order-read-models.contract.ts';

orderReadModelsContract('in memory', async () => ({
  readModels: new InMemoryOrderReadModels(),
  teardown: async () => {},
}));

catalogContract('in memory', async () => ({ catalog: new InMemoryCatalog(), teardown: async () => {} }));
