// What use cases and their in-memory component tests need, and nothing more: the command loop,
// the event store's contract and its in-memory implementation, event envelopes and handling
// outcomes. No server, Postgres, NATS or telemetry is loaded (the whole platform takes about a
// second to import; this takes a few tens of milliseconds beyond the event catalog).

export * from './event-store/command-handler.ts';
export * from './event-store/event-store.ts';
export * from './event-store/in-memory-event-store.ts';
export * from './messaging/cloud-event.ts';
export * from './messaging/handling-outcome.ts';
export { outsideRepublishWindow } from './messaging/retention.ts';
export type { DueTimer, TimerChanges, TimerSpec } from './timers/durable-timers.ts';
