import { Streams } from '@conveyor/contracts';
import {
  type EventHandler,
  ensureDurableConsumer,
  type RunningConsumer,
  startEventConsumer,
} from '@conveyor/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { fromIntegrationEvent } from '../app/order-event-mapping.ts';
import type { ProjectOrderEvent } from '../app/project-order-event.ts';

/** The projections' durable consumer on ORDERS; shared by every replica (they split the work). */
export const projectionsDurable = 'orders-projections';

export interface ProjectionConsumerOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  logger: Logger;
  registry?: Registry;
  project: ProjectOrderEvent;
  concurrency: number;
  /** Attempts before a delivery is dead-lettered (the consumer's max_deliver). */
  maxDeliver: number;
  backoffMs: readonly number[];
  ackWaitMs: number;
}

/**
 * Keeps the order read model up to date from the service's own `order.*`
 * events. Deliveries may be concurrent, repeated and out of order; the
 * projector's version guards make that harmless, so no inbox is needed.
 */
export async function startProjectionConsumer(options: ProjectionConsumerOptions): Promise<RunningConsumer> {
  await ensureDurableConsumer(options.jsm, {
    stream: Streams.orders.name,
    durable: projectionsDurable,
    filterSubjects: [...Streams.orders.subjects],
    maxDeliver: options.maxDeliver,
    ackWaitMs: options.ackWaitMs,
    maxAckPending: options.concurrency * 4,
  });
  return startEventConsumer({
    nc: options.nc,
    stream: Streams.orders.name,
    durable: projectionsDurable,
    handler: projectionHandler(options.project),
    logger: options.logger,
    registry: options.registry,
    concurrency: options.concurrency,
    maxDeliver: options.maxDeliver,
    backoffMs: options.backoffMs,
  });
}

/** CloudEvent → domain event → projector. An `order.*` type the projection does not show is acknowledged. */
export function projectionHandler(project: ProjectOrderEvent): EventHandler {
  return async (event) => {
    const mapped = fromIntegrationEvent(event);
    if (!mapped) return;
    await project(mapped.orderId, mapped.version, mapped.event);
  };
}
