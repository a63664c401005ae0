import { ConfigError } from '@conveyor/platform';
import { loadNotificationsConfig } from './config.ts';
import { startNotificationsService } from './service.ts';

try {
  const service = await startNotificationsService(loadNotificationsConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(`notifications: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
