import { text } from 'node:stream/consumers';
import { ConfigError } from '@conveyor/platform';
import { loadUsersConfig } from './config.ts';
import { normaliseEmail } from './domain/user.ts';
import { makeFirstAdmin } from './first-admin.ts';

/**
 * Makes the first admin (issue 21: signing up never grants a role): `ADMIN_EMAIL`, `ADMIN_NAME`
 * (default "Admin") and the password from `ADMIN_PASSWORD` or, when unset, standard input, into
 * the database of `DATABASE_URL`. Refused once another admin exists (admins grant the role with
 * GrantRole); succeeds without change when that admin is `ADMIN_EMAIL` already, so a Job or a
 * compose service can run it on every start. `conveyor users bootstrap-admin` runs this.
 */
try {
  const config = loadUsersConfig();
  const email = process.env.ADMIN_EMAIL ?? '';
  if (email.trim() === '') throw new ConfigError(['ADMIN_EMAIL: required (the first admin’s address)']);
  const password = process.env.ADMIN_PASSWORD ?? (await text(process.stdin)).replace(/\r?\n$/, '');
  const outcome = await makeFirstAdmin(
    {
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      argon2: {
        memoryKiB: config.USERS_ARGON2_MEMORY_KIB,
        passes: config.USERS_ARGON2_PASSES,
        parallelism: config.USERS_ARGON2_PARALLELISM,
      },
    },
    { email, name: process.env.ADMIN_NAME ?? 'Admin', password },
  );
  switch (outcome.kind) {
    case 'created':
      console.log(`users: ${outcome.user.email} is the first admin (user ${outcome.user.id})`);
      break;
    case 'admin-exists':
      if (outcome.email === normaliseEmail(email)) {
        console.log(`users: ${outcome.email} is the first admin already; nothing to do`);
        break;
      }
      console.error(
        'users: refused: an admin exists already; an admin grants the role with `conveyor users grant-role USER_ID`',
      );
      process.exit(3);
      break;
    case 'email-taken':
      console.error(
        `users: refused: ${normaliseEmail(email)} belongs to an account already; choose an address nobody has signed up with`,
      );
      process.exit(4);
  }
} catch (error) {
  console.error(`users: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  process.exit(1);
}
