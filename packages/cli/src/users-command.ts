import { usersV1 } from '@conveyor/contracts/grpc';
import { callUnary } from '@conveyor/platform';
import type { Endpoints } from './addresses.ts';
import type { Outcome } from './cli-error.ts';
import { formatUser } from './format.ts';
import { DEADLINE_MS, usersClient } from './grpc-clients.ts';
import { callService } from './grpc-failure.ts';

function show(user: usersV1.User | undefined, json: boolean, heading: string): Outcome {
  if (!user) return { text: json ? 'null' : 'the service returned no user' };
  if (json) return { text: JSON.stringify(usersV1.User.toJSON(user), null, 2) };
  return { text: `${heading}${formatUser(user)}` };
}

export async function createUser(
  endpoints: Endpoints,
  input: { email: string; name: string; json: boolean },
): Promise<Outcome> {
  const { grpc } = endpoints.target('users');
  const response = await callService('users', grpc, usersClient(grpc), (client) =>
    callUnary(
      client,
      client.createUser,
      { email: input.email, name: input.name },
      { deadlineMs: DEADLINE_MS },
    ),
  );
  return show(response.user, input.json, 'created user\n');
}

export async function getUser(endpoints: Endpoints, input: { id: string; json: boolean }): Promise<Outcome> {
  const { grpc } = endpoints.target('users');
  const response = await callService('users', grpc, usersClient(grpc), (client) =>
    callUnary(client, client.getUser, { id: input.id }, { deadlineMs: DEADLINE_MS }),
  );
  return show(response.user, input.json, '');
}
