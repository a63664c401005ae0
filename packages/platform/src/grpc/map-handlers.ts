import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * A copy of `implementation` with every handler of `definition` replaced by
 * `wrap(method, handler)`. Handlers are found under the definition's key or
 * its `originalName` (ts-proto uses camelCase keys, proto-loader PascalCase).
 */
export function mapHandlers<H>(
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js service definitions are untyped at this level.
  definition: ServiceDefinition<any>,
  implementation: Record<string, H>,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  wrap: (method: MethodDefinition<any, any>, handler: H) => H,
): Record<string, H> {
  const wrapped: Record<string, H> = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const key = name in implementation ? name : (method.originalName ?? name);
    const original = implementation[key];
    if (typeof original === 'function') wrapped[key] = wrap(method, original);
  }
  return wrapped;
}
