import { startupFailure } from '@conveyor/platform';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './service.ts';

try {
  const gateway = await startGateway(loadGatewayConfig());
  gateway.shutdown.onSignals();
} catch (error) {
  console.error(startupFailure('gateway', error));
  process.exit(1);
}
