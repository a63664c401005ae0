import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServiceName, type System, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD } from '@conveyor/stack';
import { envPrefix } from '@conveyor/stack/service-table';

/** For tests: the CLI run as a child process (`node main.ts ...`), stdout a pipe. */
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** For tests: the CLI logged in as a test system's first admin, with a home of its own. */
export interface AdminCli {
  env: Record<string, string>;
  /** The login's output (`… (admin)`). */
  login: CliRun;
  run(args: string[]): Promise<CliRun>;
  /** Deletes the home (the saved token). */
  close(): Promise<void>;
}

/** Logs the CLI in as the system's first admin, pointed at `services` of the system. */
export async function adminCli(
  system: Pick<System, 'address'>,
  services: readonly ServiceName[],
): Promise<AdminCli> {
  const home = await mkdtemp(join(tmpdir(), 'conveyor-cli-'));
  const env: Record<string, string> = { CONVEYOR_HOME: home, XDG_STATE_HOME: home };
  for (const service of services) env[`${envPrefix(service)}_ADDR`] = system.address(service);
  const login = await cli(['login', '--email', TEST_ADMIN_EMAIL, '--password', TEST_ADMIN_PASSWORD], env);
  if (login.code !== 0) {
    await rm(home, { recursive: true, force: true });
    throw new Error(`the admin's login failed (exit ${login.code}): ${login.stderr}`);
  }
  return {
    env,
    login,
    run: (args) => cli(args, env),
    close: () => rm(home, { recursive: true, force: true }),
  };
}
