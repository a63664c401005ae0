import { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from '@conveyor/stack';

/** The chaos run's embedded Postgres, which experiments stop, kill and start again on its data. */
export interface ChaosPostgres {
  /** The superuser's URL (the same across restarts: same port). */
  readonly url: string;
  /** Fast shutdown, then start again. */
  restart(): Promise<void>;
  /** SIGKILL to the postmaster, its backends gone, then start again (crash recovery). */
  kill(): Promise<void>;
  /** Starts it again when its postmaster exited by itself; true when it did. */
  startIfDown(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startChaosPostgres(options: EmbeddedPostgresOptions): Promise<ChaosPostgres> {
  let current: EmbeddedPostgres;
  let exited = false;
  const start = async () => {
    const started = await startEmbeddedPostgres(options);
    current = started;
    exited = false;
    void started.exited.then(() => {
      if (current === started) exited = true;
    });
  };
  await start();
  return {
    url: current!.url,
    async restart() {
      await current.stop();
      await start();
    },
    async kill() {
      await current.kill();
      await start();
    },
    async startIfDown() {
      if (!exited) return false;
      await current.stop(); // waits for the last of its backends
      await start();
      return true;
    },
    stop: () => current.stop(),
  };
}
