import { ConfigError } from '@conveyor/platform';
import { loadUsersConfig } from './config.ts';
import { startUsersService } from './service.ts';

try {
  const service = await startUsersService(loadUsersConfig());
  service.shutdown.onSignals();
} catch (error) {
  console.error(`users: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
