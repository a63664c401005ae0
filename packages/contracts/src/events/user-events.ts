import { z } from 'zod';
import { defineEvent } from './define-event.ts';
import { email, timestamp, uuid } from './schema-parts.ts';

export const userCreatedV1 = defineEvent({
  type: 'user.created',
  version: 1,
  stream: 'USERS',
  description: 'A user signed up. Carries the contact details notifications need.',
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

export const userErasedV1 = defineEvent({
  type: 'user.erased',
  version: 1,
  stream: 'USERS',
  description: "A user's personal data was erased; consumers must drop what they keep of it.",
  schema: z.object({ userId: uuid, erasedAt: timestamp }),
  examples: [{ userId: '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e', erasedAt: '2026-12-01T10:00:00.000Z' }],
});
