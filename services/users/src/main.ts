import { startupFailure } from '@conveyor/platform';
import { loadUsersConfig } from './config.ts';
import { startUsersService } from './service.ts';

try {
  const service = await startUsersService(loadUsersConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(startupFailure('users', error));
  process.exit(1);
}
