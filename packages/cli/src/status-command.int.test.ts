import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { grpcHealth } from './status-command.ts';

/**
 * `status` codes grpc.health.v1's Check itself (status-command.ts); this holds it to the answers of
 * grpc-health-check's server, the one every service runs.
 */
describe('status: grpc.health.v1 Check', () => {
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  const server = new Server();
  let address = '';

  before(async () => {
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  it('reads each serving status the server answers', async () => {
    assert.equal(await grpcHealth({ grpc: address }), 'NOT_SERVING');
    health.setStatus('', 'SERVING');
    assert.equal(await grpcHealth({ grpc: address }), 'SERVING');
    health.setStatus('', 'UNKNOWN');
    assert.equal(await grpcHealth({ grpc: address }), 'UNKNOWN');
  });

  it('says unreachable when nothing listens', async () => {
    server.forceShutdown();
    assert.equal(await grpcHealth({ grpc: address }), 'unreachable');
  });
});
