import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './cli-error.ts';

/** Where `login` keeps the access token: $XDG_STATE_HOME/conveyor/token, else ~/.local/state/conveyor/token. */
export function tokenPath(env: NodeJS.ProcessEnv): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'conveyor', 'token');
}

/** The token to send: CONVEYOR_TOKEN wins over the saved one; undefined when there is neither. */
export async function findAccessToken(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const fromEnv = env.CONVEYOR_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  try {
    return (await readFile(tokenPath(env), 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${tokenPath(env)}: ${(error as Error).message}`);
  }
}

export const notLoggedIn = () =>
  new CliError(
    'not logged in: run ./bin/conveyor login --email <email> --password <password> (or set CONVEYOR_TOKEN)',
  );

/** Saves a token readable by its owner only. */
async function saveSecret(path: string, token: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export const saveAccessToken = (env: NodeJS.ProcessEnv, token: string) => saveSecret(tokenPath(env), token);

/** Deletes the saved token (nothing to do when there is none). */
export async function forgetAccessToken(env: NodeJS.ProcessEnv): Promise<void> {
  await rm(tokenPath(env), { force: true });
}

/** Where `login` keeps the device token users gave for an account (mode 0600), by a digest of the address. */
function devicePath(env: NodeJS.ProcessEnv, email: string): string {
  const key = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
  return join(dirname(tokenPath(env)), 'devices', key);
}

/** The device token saved for `email`, or '' (then this is an unknown client to users). */
export async function findDeviceToken(env: NodeJS.ProcessEnv, email: string): Promise<string> {
  try {
    return (await readFile(devicePath(env, email), 'utf8')).trim();
  } catch {
    return '';
  }
}

export async function saveDeviceToken(env: NodeJS.ProcessEnv, email: string, token: string): Promise<void> {
  if (token) await saveSecret(devicePath(env, email), token);
}
