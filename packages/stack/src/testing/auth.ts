import { randomUUID } from 'node:crypto';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { bearerMetadata } from '@conveyor/platform/auth';
import * as grpc from '@grpc/grpc-js';
import { TEST_ADMIN_EMAIL } from '../system.ts';

/** The admin address startSystem passes in USERS_ADMIN_EMAILS by default. */
export { TEST_ADMIN_EMAIL };

/** A signed-up user with a fresh access token. */
export interface SignedIn {
  userId: string;
  email: string;
  password: string;
  token: string;
  /** New metadata carrying `authorization: Bearer <token>` for each call. */
  metadata(): grpc.Metadata;
}

const DEADLINE_MS = 10_000;

/**
 * Signs a new user up through the users service at `usersAddress` (host:port)
 * and authenticates them. Email defaults to a unique address, so tests stay
 * parallel-safe; the password meets the 12-character policy.
 */
export async function signUp(
  usersAddress: string,
  options: { email?: string; name?: string; password?: string } = {},
): Promise<SignedIn> {
  const email = options.email ?? `user-${randomUUID()}@conveyor.test`;
  const name = options.name ?? 'Test User';
  const password = options.password ?? `pw-${randomUUID()}`;
  const client = new usersV1.UserServiceClient(usersAddress, insecure());
  try {
    await callUnary(client, client.createUser, { email, name, password }, { deadlineMs: DEADLINE_MS });
    return await signIn(client, email, password);
  } finally {
    client.close();
  }
}

/**
 * Signs up (a no-op when the address is already taken) and signs in the admin whose
 * email is in the users service's USERS_ADMIN_EMAILS.
 */
export async function signUpAdmin(usersAddress: string, adminEmail = TEST_ADMIN_EMAIL): Promise<SignedIn> {
  const password = 'admin-password-for-tests';
  const client = new usersV1.UserServiceClient(usersAddress, insecure());
  try {
    // A second sign-up with the same address changes nothing (and answers the same).
    await callUnary(
      client,
      client.createUser,
      { email: adminEmail, name: 'Test Admin', password },
      { deadlineMs: DEADLINE_MS },
    );
    return await signIn(client, adminEmail, password);
  } finally {
    client.close();
  }
}

async function signIn(client: usersV1.UserServiceClient, email: string, password: string): Promise<SignedIn> {
  const response = await callUnary(
    client,
    client.authenticate,
    { email, password },
    { deadlineMs: DEADLINE_MS },
  );
  const token = response.accessToken;
  const userId = response.user?.id ?? '';
  return {
    userId,
    email: response.user?.email ?? email.trim().toLowerCase(),
    password,
    token,
    metadata: () => bearerMetadata(new grpc.Metadata(), token),
  };
}
