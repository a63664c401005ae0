import type { ServiceUnderTest, System } from '@conveyor/stack';

/** One replica of a service of the rehearsal's system, that can be killed and started again. */
export interface Replica {
  /** e.g. `orders-a`. */
  label: string;
  service: string;
  grpcPort: number;
  opsPort: number;
  readonly up: boolean;
  /** Processes that exited during start-up and were started again (as a kubelet would). */
  readonly crashedAtStart: number;
  /** SIGKILL: no shutdown steps run (a crashed pod). */
  kill(): Promise<void>;
  /** SIGTERM, as Kubernetes sends; resolves with the exit code and how long the exit took. */
  terminate(graceMs: number): Promise<{ code: number | null; ms: number }>;
  /** Starts it again on the same ports and waits until it is ready. */
  restart(): Promise<void>;
}

export const replicaLabel = (service: ServiceUnderTest) => `${service.name}-${'abcdefgh'[service.replica]}`;

/**
 * A replica of `system` whose restarts read `env()` again (so a restart can be pointed at the NATS
 * nodes that are up); `crashes` counts its failed starts (the system retries them).
 */
export function replicaOf(
  system: System,
  first: ServiceUnderTest,
  env: () => Record<string, string>,
  crashes: () => number,
): Replica {
  let current = first;
  let up = true;
  return {
    label: replicaLabel(first),
    service: first.name,
    grpcPort: first.grpcPort,
    opsPort: first.opsPort,
    get up() {
      return up;
    },
    get crashedAtStart() {
      return crashes();
    },
    async kill() {
      up = false;
      await current.process.kill();
    },
    async terminate(graceMs) {
      up = false;
      const began = Date.now();
      // The service's own grace period applies first; the harness only forces a hung process.
      await current.process.stop(graceMs + 5000);
      return { code: await current.process.exited, ms: Date.now() - began };
    },
    async restart() {
      current = await system.restart(current, env());
      up = true;
    },
  };
}
