import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, type ServiceProcess, serviceRuntimeEnv, spawnService } from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';
import { authEnvFor, repoRoot } from '../support/service-processes.ts';

/** One replica of a service as a process, on its own ports, that can be killed and started again. */
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
  /** Starts it again on the same ports and waits for /readyz. */
  restart(): Promise<void>;
}

const START_ATTEMPTS = 6;
const READY_TIMEOUT_MS = 20_000;

async function ready(opsPort: number): Promise<boolean> {
  return (await probeReadyz(`http://127.0.0.1:${opsPort}`)).ready;
}

/**
 * Starts `services/<service>/src/main.ts` and waits for /readyz. A process that exits
 * before it is ready (e.g. JetStream still electing a leader) is started again after a
 * pause, like a restarting pod; bounded in attempts and time.
 */
async function startProcess(
  service: string,
  label: string,
  env: Record<string, string>,
  ports: { grpcPort: number; opsPort: number },
  onCrash: () => void,
): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const child = spawnService({
      name: label,
      command: process.execPath,
      args: [`services/${service}/src/main.ts`],
      env: {
        ...serviceRuntimeEnv(),
        ...authEnvFor(service),
        ...env,
        GRPC_PORT: String(ports.grpcPort),
        OPS_PORT: String(ports.opsPort),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      },
      cwd: repoRoot,
    });
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!exited && Date.now() < deadline && !(await ready(ports.opsPort))) await sleep(100);
    if (!exited && (await ready(ports.opsPort))) return child;
    await child.kill();
    onCrash();
    if (attempt >= START_ATTEMPTS) throw new Error(`${label} did not become ready in ${attempt} attempts`);
    await sleep(1000 * attempt);
  }
}

/** `env` is read at every start, so a restart can be pointed at the NATS nodes that are up. */
export async function startReplica(
  service: string,
  label: string,
  env: () => Record<string, string>,
): Promise<Replica> {
  const ports = { grpcPort: await freePort(), opsPort: await freePort() };
  let crashes = 0;
  const start = () =>
    startProcess(service, label, env(), ports, () => {
      crashes++;
    });
  let current = await start();
  let up = true;
  return {
    label,
    service,
    ...ports,
    get up() {
      return up;
    },
    get crashedAtStart() {
      return crashes;
    },
    async kill() {
      up = false;
      await current.kill();
    },
    async terminate(graceMs) {
      up = false;
      const began = Date.now();
      // The service's own grace period applies first; the harness only forces a hung process.
      await current.stop(graceMs + 5000);
      return { code: await current.exited, ms: Date.now() - began };
    },
    async restart() {
      current = await start();
      up = true;
    },
  };
}
