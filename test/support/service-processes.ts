import { fileURLToPath } from 'node:url';
import { freePort, type ServiceProcess, spawnService, waitUntil } from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceUnderTest {
  name: string;
  grpcPort: number;
  opsPort: number;
  env: Record<string, string>;
  process: ServiceProcess;
}

/** Starts `services/<name>/src/main.ts` as a child process and waits for /readyz. */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  ports?: { grpcPort: number; opsPort: number },
): Promise<ServiceUnderTest> {
  const grpcPort = ports?.grpcPort ?? (await freePort());
  const opsPort = ports?.opsPort ?? (await freePort());
  const fullEnv = {
    ...env,
    GRPC_PORT: String(grpcPort),
    OPS_PORT: String(opsPort),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };
  const child = spawnService({
    name,
    command: process.execPath,
    args: [`services/${name}/src/main.ts`],
    env: fullEnv,
    cwd: repoRoot,
  });
  try {
    await waitUntil(async () => (await probeReadyz(`http://127.0.0.1:${opsPort}`)).ready, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: `${name} did not become ready`,
    });
  } catch (error) {
    await child.kill(); // never leave a service the caller cannot stop
    throw error;
  }
  return { name, grpcPort, opsPort, env, process: child };
}

/** Restarts a service on the same ports, e.g. after a kill. */
export function restartServiceProcess(service: ServiceUnderTest): Promise<ServiceUnderTest> {
  return startServiceProcess(service.name, service.env, service);
}
