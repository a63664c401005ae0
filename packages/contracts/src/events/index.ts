export * from './catalog.ts';
export * from './define-event.ts';
export * from './nats-identities.ts';
export * from './order-events.ts';
export * as schemaParts from './schema-parts.ts';
export * from './streams.ts';
export * from './user-events.ts';
