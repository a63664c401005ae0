import { spawnSync } from 'node:child_process';
import * as usersV1 from '@conveyor/contracts/grpc/users';
import { serviceSource } from '@conveyor/stack/service-table';
import { findDeviceToken, forgetAccessToken, saveAccessToken, saveDeviceToken } from './access-token.ts';
import type { Endpoints } from './addresses.ts';
import { CliError, exitCodes, type Outcome, shown, UsageError } from './cli-error.ts';
import { anonymously, asUser } from './service-calls.ts';
import { formatUser, roleLabel } from './user-format.ts';

function show(user: usersV1.User | undefined, json: boolean, heading: string): Outcome {
  if (!user) return { text: json ? 'null' : 'the service returned no user' };
  return shown(json, usersV1.User.toJSON(user), () => `${heading}${formatUser(user)}`);
}

export async function createUser(
  endpoints: Endpoints,
  input: { email: string; name: string; password: string; json: boolean },
): Promise<Outcome> {
  const { json, ...user } = input;
  await anonymously(endpoints, 'users', 'createUser', user);
  // The service answers the same for a taken address, so this can say no more than it does.
  const email = input.email.trim().toLowerCase();
  if (json) return { text: JSON.stringify({ signedUp: email }) };
  return {
    text: [
      `signed up ${email}: log in with ./bin/conveyor login`,
      '(if the address already had an account, nothing changed and its owner was mailed)',
    ].join('\n'),
  };
}

export async function getUser(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  const response = await asUser(endpoints, 'users', 'getUser', { id: input.id });
  return show(response.user, input.json, '');
}

/** Authenticate, then save the token for the other commands. */
export async function login(
  endpoints: Endpoints,
  input: { email: string; password: string; json: boolean },
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  // This client signed in to the account before: users throttles it on its own (device token).
  const deviceToken = await findDeviceToken(env, input.email);
  const { email, password } = input;
  const response = await anonymously(endpoints, 'users', 'authenticate', { email, password, deviceToken });
  const path = await saveAccessToken(env, response.accessToken);
  await saveDeviceToken(env, input.email, response.deviceToken);
  const until = response.expiresAt?.toISOString() ?? 'unknown';
  const role = response.user ? roleLabel(response.user.role) : 'unknown';
  return shown(
    input.json,
    { userId: response.user?.id, role, expiresAt: until, tokenPath: path },
    () =>
      `logged in as ${response.user?.email ?? input.email} (${role}) until ${until}\ntoken saved to ${path}`,
  );
}

/** GrantRole or RevokeRole of the admin role, as the logged-in admin. */
export async function changeRole(
  endpoints: Endpoints,
  input: { id: string; grant: boolean; json: boolean },
): Promise<Outcome> {
  const request = { userId: input.id, role: usersV1.Role.ROLE_ADMIN };
  const response = await asUser(endpoints, 'users', input.grant ? 'grantRole' : 'revokeRole', request);
  const tokens = '(tokens issued before keep their role until they expire)';
  return show(response.user, input.json, `${input.grant ? 'granted' : 'revoked'} admin\n${tokens}\n`);
}

/**
 * The first admin, made as an operator: users' bootstrap-admin against the database (the
 * password goes on its standard input, not in its environment).
 */
export async function bootstrapAdmin(
  input: { email: string; name: string; password: string; databaseUrl: string | undefined; json: boolean },
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  const databaseUrl = input.databaseUrl ?? env.DATABASE_URL;
  if (!databaseUrl) throw new UsageError('users bootstrap-admin needs --database-url or DATABASE_URL');
  const child = spawnSync(process.execPath, [serviceSource('users', 'bootstrap-admin.ts')], {
    // Node leaves undefined variables out: the password is not inherited.
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      ADMIN_EMAIL: input.email,
      ADMIN_NAME: input.name,
      ADMIN_PASSWORD: undefined,
    },
    input: `${input.password}\n`,
    encoding: 'utf8',
  });
  const code = child.status;
  const said = (code === 0 ? child.stdout : child.stderr || child.error?.message || '').trim();
  if (code === 0)
    return {
      text: input.json ? JSON.stringify({ firstAdmin: input.email.trim().toLowerCase(), said }) : said,
    };
  // 3: another admin exists; 4: the address belongs to an account.
  throw new CliError(
    said || `bootstrap-admin exited with ${code}`,
    code === 3 || code === 4 ? exitCodes.rejected : exitCodes.failure,
  );
}

/** SignOut with the saved token (every session of that user ends), then forget the token. */
export async function logout(
  endpoints: Endpoints,
  input: { json: boolean },
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  await asUser(endpoints, 'users', 'signOut', {});
  await forgetAccessToken(env);
  return {
    text: input.json
      ? JSON.stringify({ loggedOut: true })
      : 'logged out: every session of this user has ended',
  };
}

/** ChangePassword as the logged-in user; saves the fresh token (the old one is refused now). */
export async function changePassword(
  endpoints: Endpoints,
  input: { current: string; new: string; json: boolean },
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  const request = { currentPassword: input.current, newPassword: input.new };
  const response = await asUser(endpoints, 'users', 'changePassword', request);
  const path = await saveAccessToken(env, response.accessToken);
  if (input.json) return { text: JSON.stringify({ changed: true, tokenPath: path }) };
  return { text: `password changed; every other session has ended\nnew token saved to ${path}` };
}

/** RequestPasswordReset: one answer whether or not the address has an account. */
export async function requestReset(
  endpoints: Endpoints,
  input: { email: string; json: boolean },
): Promise<Outcome> {
  await anonymously(endpoints, 'users', 'requestPasswordReset', { email: input.email });
  if (input.json) return { text: JSON.stringify({ requested: true }) };
  return {
    text: 'if the address has an account, a code is on its way to it (see ./bin/conveyor mail locally)',
  };
}

/** ResetPassword with a mailed code. */
export async function resetPassword(
  endpoints: Endpoints,
  input: { token: string; password: string; json: boolean },
): Promise<Outcome> {
  await anonymously(endpoints, 'users', 'resetPassword', {
    resetToken: input.token,
    newPassword: input.password,
  });
  if (input.json) return { text: JSON.stringify({ reset: true }) };
  return { text: 'password reset; every session has ended: log in with the new password' };
}
