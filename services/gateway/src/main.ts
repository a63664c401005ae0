import { ConfigError } from '@conveyor/platform';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './service.ts';

try {
  const gateway = await startGateway(loadGatewayConfig());
  gateway.shutdown.onSignals();
} catch (error) {
  console.error(`gateway: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
