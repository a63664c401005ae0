// What a gRPC client needs and nothing more (the CLI starts in milliseconds on it): calls with
// deadlines and a client span, and the transport (plaintext or TLS) from configuration.

export { ConfigError } from '../config/config-error.ts';
export { callUnary } from './client.ts';
export { type GrpcTransport, grpcTransport } from './tls.ts';
