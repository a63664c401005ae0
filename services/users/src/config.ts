import { availableParallelism } from 'node:os';
import { env, loadConfig, natsEnv, serviceEnv } from '@conveyor/platform';
import { z } from 'zod';

// `name=secret,name2=secret2`; values never appear in error messages.
const serviceSecrets = z
  .string()
  .default('')
  .refine(
    (s) => s.trim() === '' || s.split(',').every((pair) => /^[a-z][a-z0-9-]{0,62}=.{16,}$/.test(pair.trim())),
    { message: 'expected name=secret pairs, comma-separated, each secret at least 16 characters' },
  )
  .transform(
    (s) =>
      new Map(
        s.trim() === ''
          ? []
          : s.split(',').map((pair) => {
              const at = pair.trim().indexOf('=');
              return [pair.trim().slice(0, at), pair.trim().slice(at + 1)] as const;
            }),
      ),
  );

/** Every variable users reads (names checked against the manifests: test/deploy). */
export const usersConfigShape = {
  ...serviceEnv,
  NODE_ENV: z.string().default('development'),
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_SCHEMA: env.identifier('users'),
  // The role the service connects as; migrate.ts grants it this schema (ADR 0026).
  DATABASE_SERVICE_ROLE: env.role(),
  ...natsEnv,
  GRPC_PORT: env.port(50051),
  OPS_PORT: env.port(9101),
  // Checked when the service starts (loadSigningKey), so a bad key is never echoed here.
  USERS_JWT_PRIVATE_KEY: z.string().optional(),
  USERS_JWT_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1 to 64 of A-Z a-z 0-9 . _ -')
    .optional(),
  // After a rotation: the key that signed before, as a public key (ADR 0022); checked at start.
  USERS_JWT_PREVIOUS_PUBLIC_KEY: z.string().optional(),
  USERS_JWT_PREVIOUS_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1 to 64 of A-Z a-z 0-9 . _ -')
    .optional(),
  USERS_TOKEN_TTL: z.coerce.number().int().min(30).max(86_400).default(900),
  // Removed (issue 21): signing up never grants a role. A stale setting is refused, not ignored,
  // so nobody believes it still makes admins.
  USERS_ADMIN_EMAILS: z
    .string()
    .max(
      0,
      'was removed: signing up never makes an admin; run `conveyor users bootstrap-admin` (docs/security.md)',
    )
    .optional(),
  USERS_SERVICE_SECRETS: serviceSecrets,
  // Argon2id cost; stored in every hash, so changing it only affects new hashes.
  USERS_ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).max(1_048_576).default(19_456),
  USERS_ARGON2_PASSES: z.coerce.number().int().min(1).max(10).default(2),
  USERS_ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(8).default(1),
  // Hashing is CPU-bound: more at once than cores only holds more memory (USERS_ARGON2_MEMORY_KIB each) while queueing.
  USERS_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(Math.min(4, availableParallelism())),
  // Sign-ins and sign-ups in flight at once (running or waiting for Argon2), apart from
  // GRPC_MAX_IN_FLIGHT: a flood of them is refused without crowding out VerifyToken and the rest.
  USERS_PASSWORD_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1024).default(16),
  // How long a mailed password-reset code works.
  USERS_PASSWORD_RESET_TTL_MS: env.durationMs(30 * 60_000),
  USERS_SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  USERS_SIGN_IN_WINDOW_MS: env.durationMs(15 * 60_000),
  USERS_SIGN_IN_LOCK_MS: env.durationMs(30_000),
};

export function loadUsersConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(usersConfigShape, source);
}

export type UsersConfig = ReturnType<typeof loadUsersConfig>;
