import { createHash } from 'node:crypto';

/**
 * The key throttling state is stored under: a SHA-256 of the normalised
 * email, so the table holds no address, not even of unknown accounts.
 */
export const accountKey = (normalisedEmail: string) =>
  createHash('sha256').update(`conveyor-sign-in:${normalisedEmail}`).digest('hex');
