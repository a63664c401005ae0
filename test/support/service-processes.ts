import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort, type ServiceProcess, serviceRuntimeEnv, spawnService, waitUntil } from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';
import { TEST_ADMIN_EMAIL } from './auth.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Auth settings every service process gets unless the caller sets them:
 * the test admin (see auth.ts) and one service secret, random per test run,
 * that users accepts for notifications.
 */
const testServiceSecret = randomBytes(24).toString('base64url');
export const authDefaults: Readonly<Record<string, string>> = {
  USERS_ADMIN_EMAILS: TEST_ADMIN_EMAIL,
  USERS_SERVICE_SECRETS: `notifications=${testServiceSecret}`,
  USERS_SERVICE_SECRET: testServiceSecret,
};

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
    ...serviceRuntimeEnv(),
    ...authDefaults,
    ...env,
    GRPC_PORT: String(grpcPort),
    // The gateway speaks HTTP, not gRPC: its "grpcPort" is its HTTP port.
    ...(name === 'gateway' ? { GATEWAY_PORT: String(grpcPort) } : {}),
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
  // A child that dies on start (a bad setting, a port taken) fails the wait at once.
  const diedFirst = child.exited.then((code) => {
    throw new Error(`${name} exited (code ${code}) before it became ready; its output is above`);
  });
  try {
    await Promise.race([
      diedFirst,
      waitUntil(async () => (await probeReadyz(`http://127.0.0.1:${opsPort}`)).ready, {
        timeoutMs: 20_000,
        intervalMs: 100,
        message: `${name} did not become ready`,
      }),
    ]);
  } catch (error) {
    await child.kill(); // never leave a service the caller cannot stop
    throw error;
  }
  diedFirst.catch(() => {}); // a later exit (a kill by the test) is not an error
  return { name, grpcPort, opsPort, env, process: child };
}

/** Restarts a service on the same ports, e.g. after a kill. */
export function restartServiceProcess(service: ServiceUnderTest): Promise<ServiceUnderTest> {
  return startServiceProcess(service.name, service.env, service);
}
