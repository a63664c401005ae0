import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/load-config.ts';
import { grpcTransport } from './tls.ts';

describe('grpcTransport (GRPC_TLS_*)', () => {
  it('is plaintext both ways when nothing is set', () => {
    assert.equal(grpcTransport({}).describe, 'gRPC serves plaintext, calls in plaintext');
  });

  it('refuses a certificate without its key, naming both variables', () => {
    assert.throws(
      () => grpcTransport({ GRPC_TLS_CERT_FILE: '/etc/hostname' }),
      (error: Error) =>
        error instanceof ConfigError && /GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE/.test(error.message),
    );
  });

  it('fails start-up on a file it cannot read, naming the variable and the path', () => {
    assert.throws(
      () => grpcTransport({ GRPC_TLS_CA_FILE: '/nonexistent/ca.crt' }),
      (error: Error) =>
        error instanceof ConfigError &&
        /GRPC_TLS_CA_FILE: cannot read \/nonexistent\/ca.crt: ENOENT/.test(error.message),
    );
  });
});
