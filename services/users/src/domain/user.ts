import { schemaParts } from '@conveyor/contracts';
import { InvalidArgument, quote } from '@conveyor/platform/errors';

/** Roles a user can hold; `service` is only ever a token's role, never a user's. */
export type UserRole = 'customer' | 'admin';

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
  role: UserRole;
  /** Moves on at sign-out and role changes: tokens of an older generation are refused. */
  tokenGeneration: number;
}

/** Personal data: what erasure removes and what events carry only sealed. */
export interface PersonalData {
  email: string;
  name: string;
  /** Only in user.password_reset_requested: the single-use code to mail with them. */
  resetToken?: string;
}

export interface NewUserInput {
  email: string;
  name: string;
}

// The event catalog's rule, so every accepted user can be announced.
// Deliverability is proven by mail, not by patterns.
const isEmail = (s: string) => schemaParts.email.safeParse(s).success;

/** Trims and lower-cases; the normal form is what uniqueness is checked on. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function validateNewUser(input: NewUserInput): NewUserInput {
  const email = normaliseEmail(input.email ?? '');
  if (email === '') throw new InvalidArgument('email', 'is required');
  if (email.length > 254) throw new InvalidArgument('email', 'must be at most 254 characters');
  if (!isEmail(email)) throw new InvalidArgument('email', `${quote(input.email)} is not an email address`);
  // RFC 5321's limits, which the pattern does not count: mail servers refuse longer parts.
  const at = email.lastIndexOf('@');
  if (at > 64) throw new InvalidArgument('email', 'must have at most 64 characters before the @');
  if (
    email
      .slice(at + 1)
      .split('.')
      .some((label) => label.length > 63)
  )
    throw new InvalidArgument('email', 'must have at most 63 characters between dots in its domain');
  const name = (input.name ?? '').trim().replace(/\s+/g, ' ');
  if (name === '') throw new InvalidArgument('name', 'is required');
  if ([...name].length > 100) throw new InvalidArgument('name', 'must be at most 100 characters');
  if (/\p{Cc}/u.test(name)) throw new InvalidArgument('name', 'must not contain control characters');
  return { email, name };
}

/**
 * A new user, always a customer: signing up never grants a role (an operator makes the first
 * admin, admins grant the role to others). Id and time are given, never read here.
 */
export function registerUser(input: NewUserInput, context: { id: string; now: Date }): User {
  const valid = validateNewUser(input);
  return {
    id: context.id,
    email: valid.email,
    name: valid.name,
    createdAt: context.now,
    role: 'customer',
    tokenGeneration: 0,
  };
}
