import { usersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform';
import { saveAccessToken } from './access-token.ts';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatUser, roleLabel } from './format.ts';
import { DEADLINE_MS, usersClient } from './grpc-clients.ts';
import { callService } from './grpc-failure.ts';

function show(user: usersV1.User | undefined, json: boolean, heading: string): Outcome {
  if (!user) return { text: json ? 'null' : 'the service returned no user' };
  if (json) return { text: JSON.stringify(usersV1.User.toJSON(user), null, 2) };
  return { text: `${heading}${formatUser(user)}` };
}

export async function createUser(
  endpoints: Endpoints,
  input: { email: string; name: string; password: string; json: boolean },
): Promise<Outcome> {
  const { grpc } = endpoints.target('users');
  await callService('users', grpc, usersClient(grpc), (client) =>
    callUnary(
      client,
      client.createUser,
      { email: input.email, name: input.name, password: input.password },
      { deadlineMs: DEADLINE_MS },
    ),
  );
  // The service answers the same for a taken address, so this can say no more than it does.
  const email = input.email.trim().toLowerCase();
  if (input.json) return { text: JSON.stringify({ signedUp: email }) };
  return {
    text: [
      `signed up ${email}: log in with ./bin/conveyor login`,
      '(if the address already had an account, nothing changed and its owner was mailed)',
    ].join('\n'),
  };
}

export async function getUser(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  const { grpc } = endpoints.target('users');
  const response = await callService('users', grpc, usersClient(grpc, endpoints.accessToken()), (client) =>
    callUnary(client, client.getUser, { id: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  return show(response.user, input.json, '');
}

/** Authenticate, then save the token for the other commands. */
export async function login(
  endpoints: Endpoints,
  input: { email: string; password: string; json: boolean },
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  const { grpc } = endpoints.target('users');
  const response = await callService('users', grpc, usersClient(grpc), (client) =>
    callUnary(
      client,
      client.authenticate,
      { email: input.email, password: input.password },
      { deadlineMs: DEADLINE_MS },
    ),
  );
  const path = await saveAccessToken(env, response.accessToken);
  const until = response.expiresAt?.toISOString() ?? 'unknown';
  const role = response.user ? roleLabel(response.user.role) : 'unknown';
  if (input.json)
    return {
      text: JSON.stringify({ userId: response.user?.id, role, expiresAt: until, tokenPath: path }, null, 2),
    };
  return {
    text: `logged in as ${response.user?.email ?? input.email} (${role}) until ${until}\ntoken saved to ${path}`,
  };
}
