import { randomUUID } from 'node:crypto';
import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { bearerMetadata } from '@conveyor/platform/auth';
import * as grpc from '@grpc/grpc-js';
import { TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD } from '../system.ts';

/** The first admin startSystem makes by default. */
export { TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD };

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
 * Signs in the admin the system's operator made (startSystem makes it; signing up never grants a
 * role): `auth` is the system's `auth`, the test admin by default.
 */
export async function signInAdmin(
  usersAddress: string,
  auth: { adminEmail: string; adminPassword: string } = {
    adminEmail: TEST_ADMIN_EMAIL,
    adminPassword: TEST_ADMIN_PASSWORD,
  },
): Promise<SignedIn> {
  const client = new usersV1.UserServiceClient(usersAddress, insecure());
  try {
    return await signIn(client, auth.adminEmail, auth.adminPassword);
  } finally {
    client.close();
  }
}

/** Signs an existing user in again: a fresh token. */
export async function logIn(usersAddress: string, email: string, password: string): Promise<SignedIn> {
  const client = new usersV1.UserServiceClient(usersAddress, insecure());
  try {
    return await signIn(client, email, password);
  } finally {
    client.close();
  }
}

async function signIn(client: usersV1.UserServiceClient, email: string, password: string): Promise<SignedIn> {
  const response = await callUnary(
    client,
    client.authenticate,
    { email, password, deviceToken: '' },
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
