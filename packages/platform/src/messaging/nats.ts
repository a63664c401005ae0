import { type NatsIdentity, natsInboxPrefix } from '@conveyor/contracts';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { nkeyAuthenticator } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

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
}): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      ...natsCredentials(options.identity),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
      waitOnFirstConnect: false,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${(error as Error).message}`);
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
