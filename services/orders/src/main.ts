import { startupFailure } from '@conveyor/platform';
import { loadOrdersConfig } from './config.ts';
import { startOrdersService } from './service.ts';

try {
  const service = await startOrdersService(loadOrdersConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(startupFailure('orders', error));
  process.exit(1);
}
