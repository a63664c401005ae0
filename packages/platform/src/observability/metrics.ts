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
 */
export function counter<T extends string>(registry: Registry, config: Config<T>): Counter<T> {
  return (
    (registry.getSingleMetric(config.name) as Counter<T>) ?? new Counter({ ...config, registers: [registry] })
  );
}

export function gauge<T extends string>(registry: Registry, config: Config<T>): Gauge<T> {
  return (
    (registry.getSingleMetric(config.name) as Gauge<T>) ?? new Gauge({ ...config, registers: [registry] })
  );
}

export function histogram<T extends string>(
  registry: Registry,
  config: Config<T> & { buckets: number[] },
): Histogram<T> {
  return (
    (registry.getSingleMetric(config.name) as Histogram<T>) ??
    new Histogram({ ...config, registers: [registry] })
  );
}
