import { Durables, Streams } from '@conveyor/contracts';
import {
  type BatchHandler,
  type ConsumerControls,
  type HandlingOutcome,
  type Pool,
  type RunningConsumer,
  SequencedDeadLetters,
} from '@conveyor/platform';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { fromIntegrationEvent } from '../app/order-event-mapping.ts';
import type { OrderEventDelivery, ProjectOrderEvents } from '../app/project-order-event.ts';

/** The projections' durable consumer on ORDERS; shared by every replica (they split the work). */
export const projectionsDurable = Durables.ordersProjections;

export interface ProjectionConsumerOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** Where the sequenced dead letters of the projections are kept (ADR 0031). */
  pool: Pool;
  logger: Logger;
  registry?: Registry;
  project: ProjectOrderEvents;
  /** Events handled together at most. */
  batchSize: number;
  /** Attempts before a delivery is dead-lettered (the consumer's max_deliver). */
  maxDeliver: number;
  backoffMs: readonly number[];
  ackWaitMs: number;
  /** An operator's pause, resume and reset (ADR 0033); also whether the durable is only checked. */
  controls: ConsumerControls;
}

/**
 * Keeps the order read model up to date from the service's own `order.*`
 * events. Deliveries may be concurrent, repeated and out of order; the
 * projector's version guards make that harmless, so no inbox is needed.
 * An event that keeps failing parks the later events of its order (ADR 0031).
 */
export async function startProjectionConsumer(
  options: ProjectionConsumerOptions,
): Promise<RunningConsumer & { sequences: SequencedDeadLetters }> {
  const handler = projectionHandler(options.project);
  const sequences = new SequencedDeadLetters({
    pool: options.pool,
    consumer: projectionsDurable,
    handler,
    logger: options.logger,
    maxDeliver: options.maxDeliver,
    backoffMs: options.backoffMs,
    jsm: options.jsm,
    registry: options.registry,
  });
  sequences.startSweeping();
  const consumer = await options.controls.startConsumer(
    {
      stream: Streams.orders.name,
      durable: projectionsDurable,
      filterSubjects: [...Streams.orders.subjects],
      maxDeliver: options.maxDeliver,
      ackWaitMs: options.ackWaitMs,
      maxAckPending: options.batchSize * 4,
    },
    {
      nc: options.nc,
      handler: { batch: handler },
      logger: options.logger,
      registry: options.registry,
      batchSize: options.batchSize,
      backoffMs: options.backoffMs,
      sequences,
    },
  );
  return {
    sequences,
    async stop() {
      await consumer.stop();
      await sequences.stop();
    },
  };
}

/**
 * CloudEvents → domain events → the batch projector. An `order.*` type the projection does not
 * show is acknowledged; one without a usable stream version is poison.
 */
export function projectionHandler(project: ProjectOrderEvents): BatchHandler {
  return async (batch) => {
    const mapped = batch.map(({ event }) => fromIntegrationEvent(event));
    const deliveries: OrderEventDelivery[] = mapped.filter((m) => m !== undefined);
    const results = await project(deliveries);
    let next = 0;
    return mapped.map((m): HandlingOutcome => {
      if (!m) return { kind: 'ack' };
      return results[next++] === 'poison'
        ? {
            kind: 'dead-letter',
            reason: `poison: order ${m.orderId}: ${m.event.type} has no valid streamversion (${m.version})`,
          }
        : { kind: 'ack' };
    });
  };
}
