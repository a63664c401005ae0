import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** A registry per service instance, with process metrics; never the global one. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

type Config<T extends string> = { name: string; help: string; labelNames?: readonly T[] };

/**
 * Get-or-create helpers: components that can be instantiated more than once
 * per service (two consumers, two relays) share one metric per registry.
 * Without a registry (a component built bare, in a test) there is no metric.
 */
export function counter<T extends string>(registry: Registry, config: Config<T>): Counter<T>;
export function counter<T extends string>(
  registry: Registry | undefined,
  config: Config<T>,
): Counter<T> | undefined;
export function counter<T extends string>(registry: Registry | undefined, config: Config<T>) {
  return (
    registry && getOrCreate(registry, config.name, () => new Counter({ ...config, registers: [registry] }))
  );
}

export function gauge<T extends string>(registry: Registry, config: Config<T>): Gauge<T>;
export function gauge<T extends string>(
  registry: Registry | undefined,
  config: Config<T>,
): Gauge<T> | undefined;
export function gauge<T extends string>(registry: Registry | undefined, config: Config<T>) {
  return (
    registry && getOrCreate(registry, config.name, () => new Gauge({ ...config, registers: [registry] }))
  );
}

export function histogram<T extends string>(
  registry: Registry,
  config: Config<T> & { buckets: number[] },
): Histogram<T> {
  return getOrCreate(registry, config.name, () => new Histogram({ ...config, registers: [registry] }));
}

function getOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
