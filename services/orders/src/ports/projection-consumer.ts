import { Durables, Streams } from '@conveyor/contracts';
import {
  type BatchHandler,
  type HandlingOutcome,
  type RunningSequencedConsumers,
  type SequencedConsumersOptions,
  startSequencedConsumers,
} from '@conveyor/platform';
import { fromIntegrationEvent } from '../app/order-event-mapping.ts';
import type { OrderEventDelivery, ProjectOrderEvents } from '../app/project-order-event.ts';

/** The projections' durable consumer on ORDERS; shared by every replica (they split the work). */
export const projectionsDurable = Durables.ordersProjections;

export interface ProjectionConsumerOptions
  extends Omit<SequencedConsumersOptions, 'consumer' | 'streams' | 'handler'> {
  project: ProjectOrderEvents;
}

/**
 * Keeps the order read model up to date from the service's own `order.*`
 * events. Deliveries may be concurrent, repeated and out of order; the
 * projector's version guards make that harmless, so no inbox is needed.
 * An event that keeps failing parks the later events of its order (ADR 0031).
 */
export function startProjectionConsumer({
  project,
  ...options
}: ProjectionConsumerOptions): Promise<RunningSequencedConsumers> {
  return startSequencedConsumers({
    ...options,
    consumer: projectionsDurable,
    streams: [Streams.orders],
    handler: projectionHandler(project),
  });
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
