import { readFileSync } from 'node:fs';
import { type ChannelCredentials, credentials, ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '../config/config-error.ts';

/** The GRPC_TLS_* variables of serviceEnv (load-config.ts). */
export interface GrpcTlsConfig {
  GRPC_TLS_CERT_FILE?: string | undefined;
  GRPC_TLS_KEY_FILE?: string | undefined;
  GRPC_TLS_CA_FILE?: string | undefined;
}

/** How this process serves and calls gRPC; files are read once, now, so a bad path fails start-up. */
export interface GrpcTransport {
  server: ServerCredentials;
  client: ChannelCredentials;
  /** What the log says at start-up. */
  describe: string;
}

export function grpcTransport(config: GrpcTlsConfig): GrpcTransport {
  const read = (name: keyof GrpcTlsConfig) => {
    const file = config[name];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError([
        `${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      ]);
    }
  };
  const cert = read('GRPC_TLS_CERT_FILE');
  const key = read('GRPC_TLS_KEY_FILE');
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(['GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together: set both or neither']);
  }
  const ca = read('GRPC_TLS_CA_FILE');
  return {
    server:
      cert && key
        ? ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false)
        : ServerCredentials.createInsecure(),
    client: ca ? credentials.createSsl(ca) : credentials.createInsecure(),
    describe: `gRPC ${cert ? 'serves TLS' : 'serves plaintext'}, ${ca ? 'calls with TLS' : 'calls in plaintext'}`,
  };
}
