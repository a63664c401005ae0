import { createPool } from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { AesGcmSealer } from './adapters/aes-gcm-sealer.ts';
import { type Argon2Parameters, Argon2PasswordHasher } from './adapters/argon2-password-hasher.ts';
import { PostgresUserRepository } from './adapters/postgres-user-repository.ts';
import { bootstrapAdmin } from './app/bootstrap-admin.ts';
import type { FirstAdminOutcome } from './app/user-repository.ts';
import { USERS_EVENT_SOURCE } from './event-source.ts';

export type { FirstAdminOutcome };

/**
 * Makes the first admin straight in the users schema (an operator's action: whoever runs it holds
 * the database URL): `conveyor users bootstrap-admin`, the Kubernetes Job and compose run it
 * through src/bootstrap-admin.ts; `startSystem` calls it for the test and tour admin. Its events
 * wait in the outbox until the users service publishes them.
 */
export async function makeFirstAdmin(
  target: { databaseUrl: string; schema?: string; argon2: Argon2Parameters },
  input: { email: string; name: string; password: string },
): Promise<FirstAdminOutcome> {
  const pool = createPool({
    url: target.databaseUrl,
    schema: target.schema ?? 'users',
    max: 1,
    applicationName: 'users-bootstrap-admin',
  });
  try {
    const make = bootstrapAdmin({
      users: new PostgresUserRepository(pool),
      hasher: new Argon2PasswordHasher(target.argon2, { maxConcurrent: 1, maxQueued: 1 }),
      sealer: new AesGcmSealer(),
      newId: uuidv7,
      now: () => new Date(),
      source: USERS_EVENT_SOURCE,
    });
    return await make(input);
  } finally {
    await pool.end();
  }
}
