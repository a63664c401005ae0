import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort, type ServiceProcess, serviceRuntimeEnv, spawnService, waitUntil } from '@conveyor/stack';
import { probeReadyz } from '@conveyor/stack/readyz';
import { TEST_ADMIN_EMAIL } from './auth.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface TestAuth {
  /** Signs up as an admin (users' USERS_ADMIN_EMAILS). */
  adminEmail: string;
  /** The secret notifications presents to users (ADR 0011). */
  serviceSecret: string;
}

/** The test admin (see auth.ts) and a service secret, random per test run. */
export const testAuth: TestAuth = {
  adminEmail: TEST_ADMIN_EMAIL,
  serviceSecret: randomBytes(24).toString('base64url'),
};

/**
 * The auth settings service `name` gets, as deployed (ADR 0011, least privilege): users the admin
 * list and the secrets of its callers, notifications its own secret, every other service none.
 */
export function authEnvFor(name: string, auth: TestAuth = testAuth): Record<string, string> {
  if (name === 'users') {
    return {
      USERS_ADMIN_EMAILS: auth.adminEmail,
      USERS_SERVICE_SECRETS: `notifications=${auth.serviceSecret}`,
    };
  }
  if (name === 'notifications') return { USERS_SERVICE_SECRET: auth.serviceSecret };
  return {};
}

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
    ...authEnvFor(name),
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
  // A child that dies on start (a bad setting, a port taken) fails the wait at once. (The race
  // handles diedFirst, so its rejection at a later kill by the test is not unhandled.)
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
  return { name, grpcPort, opsPort, env, process: child };
}

/** Restarts a service on the same ports, e.g. after a kill. */
export function restartServiceProcess(service: ServiceUnderTest): Promise<ServiceUnderTest> {
  return startServiceProcess(service.name, service.env, service);
}
