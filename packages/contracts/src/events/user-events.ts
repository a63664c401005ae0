import { z } from 'zod';
import { streamEvents } from './define-event.ts';
import { email, timestamp, uuid } from './schema-parts.ts';

/** USERS events: each names its sequence by `userId`. */
const userEvent = streamEvents('USERS', 'userId');

export const userCreatedV1 = userEvent({
  type: 'user.created',
  version: 1,
  description: 'A user signed up. Carries the contact details notifications need.',
  retired:
    'it carries contact details in plaintext and users publishes v2 only, so a v1 can only be forged (issue 22)',
  schema: z.object({
    userId: uuid,
    email,
    name: z.string().min(1).max(100),
    createdAt: timestamp,
  }),
  examples: [
    {
      userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      createdAt: '2026-11-24T09:30:00.000Z',
    },
  ],
});

/**
 * v2 carries no plaintext: email and name are sealed with the user's own key
 * (AES-256-GCM, the user id as associated data) as `v1.<iv>.<ciphertext+tag>`
 * (base64url parts). Consumers open it with users' RevealPersonalData; once
 * the user is erased the key is gone and every stored copy is unreadable.
 */
/** Personal data sealed with the user's key (AES-256-GCM, `v1.<iv>.<ciphertext+tag>`). */
const sealedPersonalData = z
  .string()
  .max(4096)
  .regex(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/, 'expected v1.<iv>.<ciphertext+tag>');

export const userCreatedV2 = userEvent({
  type: 'user.created',
  version: 2,
  description:
    'A user signed up. Contact details are sealed with the per-user key (crypto-shredding); reveal them through users.',
  schema: z.object({
    userId: uuid,
    personalData: sealedPersonalData,
    createdAt: timestamp,
  }),
  examples: [
    {
      userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
      personalData: 'v1.AAECAwQFBgcICQoL.c2VhbGVkLXBlcnNvbmFsLWRhdGEtZXhhbXBsZQ',
      createdAt: '2026-11-24T09:30:00.000Z',
    },
  ],
});

export const userErasedV1 = userEvent({
  type: 'user.erased',
  version: 1,
  description: "A user's personal data was erased; consumers must drop what they keep of it.",
  schema: z.object({ userId: uuid, erasedAt: timestamp }),
  examples: [{ userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', erasedAt: '2026-12-01T10:00:00.000Z' }],
});

/**
 * Someone signed up with the address of an existing account. Sign-up answers such a request exactly
 * as it answers a new address (it must not tell whether an address is taken); this event lets
 * notifications tell the owner instead. It names the owner only: the address is theirs already.
 */
export const userSignupAttemptedV1 = userEvent({
  type: 'user.signup_attempted',
  version: 1,
  description:
    "Someone tried to sign up with an existing user's address; notifications mails the owner. Carries ids only.",
  schema: z.object({ userId: uuid, attemptedAt: timestamp }),
  examples: [{ userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', attemptedAt: '2026-12-05T10:00:00.000Z' }],
});

/**
 * A user's role changed: granted or revoked by an admin (GrantRole, RevokeRole), or the first admin
 * made by an operator (`changedBy` "operator"). The audit trail of who may administer Conveyor.
 */
export const userRoleChangedV1 = userEvent({
  type: 'user.role_changed',
  version: 1,
  description:
    "A user's role changed (customer or admin), and who changed it: an admin's user id, or operator for the first admin. Carries ids only.",
  schema: z.object({
    userId: uuid,
    role: z.enum(['customer', 'admin']),
    previousRole: z.enum(['customer', 'admin']).nullable(),
    changedBy: z.union([uuid, z.literal('operator')]),
    changedAt: timestamp,
  }),
  examples: [
    {
      userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
      role: 'admin',
      previousRole: 'customer',
      changedBy: '0192f3a0-0000-7000-8000-00000000a001',
      changedAt: '2026-12-06T10:00:00.000Z',
    },
    {
      userId: '0192f3a0-0000-7000-8000-00000000a001',
      role: 'admin',
      previousRole: null,
      changedBy: 'operator',
      changedAt: '2026-12-06T09:00:00.000Z',
    },
  ],
});

/**
 * Someone asked to reset a user's password (RequestPasswordReset): notifications mails the owner the
 * single-use code. The code travels sealed with the contact details under the user's key, like
 * user.created v2, so the stream holds no usable secret and erasure makes it unreadable.
 */
export const userPasswordResetRequestedV1 = userEvent({
  type: 'user.password_reset_requested',
  version: 1,
  description:
    "A password reset was asked for; notifications mails the code. Contact details and the code are sealed with the user's key (RevealPersonalData).",
  schema: z.object({ userId: uuid, personalData: sealedPersonalData, expiresAt: timestamp }),
  examples: [
    {
      userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
      personalData: 'v1.AAECAwQFBgcICQoL.c2VhbGVkLXJlc2V0LWNvZGUtZXhhbXBsZQ',
      expiresAt: '2026-12-06T10:30:00.000Z',
    },
  ],
});
