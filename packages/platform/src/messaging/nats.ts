import { type NatsIdentity, natsInboxPrefix } from '@conveyor/contracts';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { nkeyAuthenticator } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { ConnectFailure } from '../dependency-errors.ts';

export type { NatsConnection } from '@nats-io/transport-node';

/**
 * Connects with unlimited reconnects: a NATS outage must pause the service,
 * not kill it (the outbox holds events until NATS is back). The first
 * connection is still bounded, so a wrong URL fails start-up clearly.
 */
export async function connectNats(options: {
  url: string;
  name: string;
  logger: Logger;
  /** Who connects (ADR 0025): its nkey seed, and the identity whose inbox prefix replies use. */
  identity?: { name: NatsIdentity; seed: string } | undefined;
  /** TLS to the servers (NATS_TLS_*): required once a CA is given. */
  tls?: NatsTlsConfig | undefined;
}): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      ...natsCredentials(options.identity),
      ...natsTls(options.tls),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
      waitOnFirstConnect: false,
    });
  } catch (error) {
    throw new ConnectFailure(`cannot connect to NATS at ${options.url}: ${(error as Error).message}`);
  }
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        options.logger.warn({ nats: status.type }, `nats ${status.type}`);
      }
    }
  })();
  return nc;
}

/** The NATS_TLS_* variables of natsEnv (load-config.ts). */
export interface NatsTlsConfig {
  NATS_TLS_CA_FILE?: string | undefined;
  NATS_TLS_CERT_FILE?: string | undefined;
  NATS_TLS_KEY_FILE?: string | undefined;
}

/** Connection options for TLS: the CA to trust and, when given, a client certificate. */
export function natsTls(config: NatsTlsConfig | undefined) {
  if (!config?.NATS_TLS_CA_FILE) return {};
  return {
    tls: {
      caFile: config.NATS_TLS_CA_FILE,
      ...(config.NATS_TLS_CERT_FILE ? { certFile: config.NATS_TLS_CERT_FILE } : {}),
      ...(config.NATS_TLS_KEY_FILE ? { keyFile: config.NATS_TLS_KEY_FILE } : {}),
    },
  };
}

/** Connection options that authenticate as an identity (nothing when there is none). */
export function natsCredentials(identity: { name: NatsIdentity; seed: string } | undefined) {
  if (!identity) return {};
  return {
    authenticator: nkeyAuthenticator(new TextEncoder().encode(identity.seed)),
    inboxPrefix: natsInboxPrefix(identity.name),
  };
}

export async function pingNats(nc: NatsConnection): Promise<boolean> {
  if (nc.isClosed()) return false;
  await nc.flush();
  return true;
}

export async function manager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc, { timeout: 5000 });
}
