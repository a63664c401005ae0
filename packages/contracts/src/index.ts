export * from './events/index.ts';
export * from './grpc.ts';
