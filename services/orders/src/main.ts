import { ConfigError } from '@conveyor/platform';
import { loadOrdersConfig } from './config.ts';
import { startOrdersService } from './service.ts';

try {
  const service = await startOrdersService(loadOrdersConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(`orders: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
