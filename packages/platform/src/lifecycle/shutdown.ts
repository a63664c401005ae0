import type { Logger } from 'pino';

/**
 * Steps run phase by phase, so wiring code can register them as it creates
 * things: stop taking work (`intake`: gRPC, consumers) → finish background
 * work (`work`: relays) → close connections (`connections`) → `final`.
 */
export const shutdownPhases = ['unready', 'intake', 'work', 'connections', 'final'] as const;
export type ShutdownPhase = (typeof shutdownPhases)[number];

export interface ShutdownStep {
  name: string;
  phase: ShutdownPhase;
  run: () => Promise<void> | void;
}

/**
 * Runs steps in order, each bounded by what is left of the grace period, so
 * a stuck step cannot keep the process past it. Steps run once even when
 * shutdown is requested twice.
 */
export function createShutdown(options: { logger: Logger; graceMs: number }) {
  const steps: ShutdownStep[] = [];
  let running: Promise<void> | undefined;

  async function run(reason: string): Promise<void> {
    running ??= (async () => {
      const deadline = Date.now() + options.graceMs;
      options.logger.info({ reason, graceMs: options.graceMs }, 'shutting down');
      const ordered = shutdownPhases.flatMap((phase) => steps.filter((s) => s.phase === phase));
      for (const step of ordered) {
        const left = Math.max(deadline - Date.now(), 1);
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(step.run),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`did not finish within ${left} ms`)), left);
            }),
          ]);
        } catch (error) {
          options.logger.error({ err: error, step: step.name }, 'shutdown step failed');
        } finally {
          clearTimeout(timer);
        }
      }
      options.logger.info('stopped');
    })();
    return running;
  }

  return {
    /** Adds a step; within a phase, steps run in the order they were added. */
    add(phase: ShutdownPhase, name: string, run: ShutdownStep['run']): void {
      steps.push({ phase, name, run });
    },
    run,
    /** Runs the steps on SIGTERM / SIGINT, then exits. */
    onSignals(): void {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void run(signal).finally(() => process.exit(0));
        });
      }
    },
  };
}

export type Shutdown = ReturnType<typeof createShutdown>;
