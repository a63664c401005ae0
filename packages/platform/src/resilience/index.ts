export * from './downstream.ts';
export * from './resilience-options.ts';
export * from './transient-failure.ts';
