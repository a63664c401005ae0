export * from './authorize.ts';
export * from './bearer-token.ts';
export * from './local-token-verifier.ts';
export * from './principal.ts';
export * from './token-cache.ts';
export * from './token-verifier.ts';
export * from './users-auth-api.ts';
export * from './users-token-verifier.ts';
