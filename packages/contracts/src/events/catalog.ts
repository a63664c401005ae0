import type { z } from 'zod';
import type { EventDefinition } from './define-event.ts';
import {
  orderCancelledV1,
  orderCreatedV1,
  orderDeliveredV1,
  orderPaidV1,
  orderShippedV1,
} from './order-events.ts';
import {
  userCreatedV1,
  userCreatedV2,
  userErasedV1,
  userPasswordResetRequestedV1,
  userRoleChangedV1,
  userSignupAttemptedV1,
} from './user-events.ts';

/** Every integration event Conveyor publishes, every version. */
export const catalog = [
  userCreatedV1,
  userCreatedV2,
  userErasedV1,
  userSignupAttemptedV1,
  userRoleChangedV1,
  userPasswordResetRequestedV1,
  orderCreatedV1,
  orderPaidV1,
  orderShippedV1,
  orderDeliveredV1,
  orderCancelledV1,
] as const;

export type CatalogEvent = (typeof catalog)[number];
export type EventType = CatalogEvent['type'];
/** The data of the newest version of an event type. */
export type EventData<T extends EventType> = z.infer<Extract<CatalogEvent, { type: T }>['schema']>;

export function findEventDefinition(type: string, version: number): EventDefinition | undefined {
  return catalog.find((d) => d.type === type && d.version === version);
}

export function latestEventDefinition<T extends EventType>(type: T): Extract<CatalogEvent, { type: T }> {
  const versions = catalog.filter((d) => d.type === type);
  const latest = versions.reduce((a, b) => (b.version > a.version ? b : a));
  return latest as Extract<CatalogEvent, { type: T }>;
}
