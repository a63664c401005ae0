// What use cases and their in-memory component tests need, and nothing more: the command loop,
// the event store's contract and its in-memory implementation, event envelopes, handling
// outcomes and access checks on a verified caller. No server, Postgres, NATS or telemetry is
// loaded (the whole platform takes about a second to import; this, tens of milliseconds beyond
// the event catalog).

export { type Caller, isAdmin, requireOwnerOrAdmin, requireRole } from './auth/authorize.ts';
export type { Role } from './auth/principal.ts';
export * from './event-store/command-handler.ts';
export * from './event-store/event-store.ts';
export * from './event-store/in-memory-event-store.ts';
export * from './messaging/cloud-event.ts';
export * from './messaging/handling-outcome.ts';
export { outsideRepublishWindow } from './messaging/retention.ts';
export type { DueTimer, TimerChanges, TimerSpec } from './timers/durable-timers.ts';
