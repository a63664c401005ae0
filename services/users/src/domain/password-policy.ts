import { InvalidArgument } from '@conveyor/platform/errors';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * Length policy (NIST SP 800-63B): 12 to 128 characters, counted as Unicode
 * code points, no composition rules. Messages never echo the password.
 */
export function validatePassword(password: string, field = 'password'): string {
  const length = [...(password ?? '')].length;
  if (length === 0) throw new InvalidArgument(field, 'is required');
  if (length < PASSWORD_MIN_LENGTH) {
    throw new InvalidArgument(field, `must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new InvalidArgument(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  return password;
}
