import { startupFailure } from '@conveyor/platform';
import { loadNotificationsConfig } from './config.ts';
import { startNotificationsService } from './service.ts';

try {
  const service = await startNotificationsService(loadNotificationsConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(startupFailure('notifications', error));
  process.exit(1);
}
