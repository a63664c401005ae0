import { createHash, randomBytes } from 'node:crypto';
import { newEvent } from '@conveyor/platform/core';
import { InvalidArgument } from '@conveyor/platform/errors';
import { validatePassword } from '../domain/password-policy.ts';
import { normaliseEmail } from '../domain/user.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PersonalDataSealer } from './personal-data-sealer.ts';
import type { UserRepository } from './user-repository.ts';

/** At most one reset mail a minute per account: a public request must not be a mail cannon. */
const RESET_MAIL_GAP_MS = 60_000;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * RequestPasswordReset: the same empty answer whether or not the address has an account. When it
 * has, a new single-use code (32 random bytes) replaces any earlier one; only its SHA-256 is
 * stored, and the code itself travels to notifications sealed with the user's key in
 * user.password_reset_requested.
 */
export function requestPasswordReset(deps: {
  users: UserRepository;
  sealer: PersonalDataSealer;
  now: () => Date;
  ttlMs: number;
  source: string;
}) {
  return async (input: { email: string }): Promise<void> => {
    const email = normaliseEmail(input.email ?? '');
    if (email === '') throw new InvalidArgument('email', 'is required');
    const token = randomBytes(32).toString('base64url');
    const found = await deps.users.findCredentials(email);
    const key = found && (await deps.users.findDataKey(found.user.id));
    if (!found || !key) return;
    const { user } = found;
    const at = deps.now();
    const expiresAt = new Date(at.getTime() + deps.ttlMs);
    const event = newEvent(
      'user.password_reset_requested',
      {
        userId: user.id,
        personalData: deps.sealer.seal(key, user.id, {
          email: user.email,
          name: user.name,
          resetToken: token,
        }),
        expiresAt: expiresAt.toISOString(),
      },
      { source: deps.source, subject: user.id, time: at },
    );
    await deps.users.storePasswordReset(
      user.id,
      { tokenHash: digest(token), expiresAt, at, minGapMs: RESET_MAIL_GAP_MS },
      event,
    );
  };
}

/**
 * ResetPassword: a live code sets the new password once, ends every session and forgets the
 * account's sign-in failures. One answer for a code that is unknown, used or expired.
 */
export function resetPassword(deps: { users: UserRepository; hasher: PasswordHasher; now: () => Date }) {
  return async (input: { resetToken: string; newPassword: string }): Promise<void> => {
    const password = validatePassword(input.newPassword, 'new_password');
    if (!input.resetToken || input.resetToken.length > 128) throw invalidCode();
    const hash = await deps.hasher.hash(password);
    const userId = await deps.users.resetPassword(digest(input.resetToken), hash, deps.now());
    if (!userId) throw invalidCode();
  };
}

const invalidCode = () =>
  new InvalidArgument('reset_token', 'is unknown, used or expired: ask for a new one');
