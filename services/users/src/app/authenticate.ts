import { AppError, InvalidArgument, ResourceExhausted } from '@conveyor/platform/errors';
import { normaliseEmail, type User } from '../domain/user.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { SignInAttempts } from './sign-in-attempts.ts';
import type { IssuedToken, TokenService } from './token-service.ts';
import type { UserRepository } from './user-repository.ts';

/** An account is throttled; the port maps this to RESOURCE_EXHAUSTED. */
export class TooManySignInFailures extends ResourceExhausted {
  constructor(retryAfterSeconds: number) {
    super(
      `too many failed sign-ins for this account; try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }
}

export interface AuthenticateDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  attempts: SignInAttempts;
  tokens: TokenService;
  /** A hash of a random password with the current parameters: unknown emails are checked against it. */
  dummyHash: string;
  /** The account key throttling is stored under (a digest of the normalised email). */
  accountKey: (email: string) => string;
  now: () => Date;
}

// One message for unknown email and wrong password: the answer never tells which.
const rejected = () => new AppError('UNAUTHENTICATED', 'email or password is wrong');

/**
 * Exchanges email and password for an access token. An unknown email costs
 * the same password check as a known one, and both count against the
 * account's failure budget, so neither time nor throttling reveals whether
 * an account exists.
 */
export function authenticate(deps: AuthenticateDeps) {
  return async (input: {
    email: string;
    password: string;
    deviceToken?: string;
  }): Promise<IssuedToken & { user: User; deviceToken: string }> => {
    const email = normaliseEmail(input.email ?? '');
    if (email === '') throw new InvalidArgument('email', 'is required');
    if (!input.password) throw new InvalidArgument('password', 'is required');
    // Longer than the policy allows cannot match; bounded so hashing cost is too.
    const password = input.password.slice(0, 1024);
    const accountKey = deps.accountKey(email);
    // A client that signed in to this account before is throttled on its own (OWASP's device
    // cookies): failures from elsewhere cannot lock it out, and its own failures lock only it.
    const device = input.deviceToken
      ? await deps.tokens.verifyDevice(input.deviceToken, accountKey)
      : undefined;
    const account = device ? `device:${device}` : accountKey;
    const attempt = await deps.attempts.begin(account, deps.now());
    if (!attempt.allowed) throw new TooManySignInFailures(Math.ceil(attempt.retryAfterMs / 1000));
    let found: Awaited<ReturnType<UserRepository['findCredentials']>>;
    let matches: boolean;
    try {
      found = await deps.users.findCredentials(email);
      matches = await deps.hasher.verify(found?.passwordHash ?? deps.dummyHash, password);
    } catch (error) {
      // No verdict (the hasher's queue is full, the database is gone): not a failed sign-in.
      await deps.attempts.refund(account, attempt).catch(() => {});
      throw error;
    }
    if (!found || !matches) throw rejected();
    await deps.attempts.succeeded(account);
    const issued = await deps.tokens.issue(found.user.id, found.user.role, found.user.tokenGeneration);
    return { ...issued, user: found.user, deviceToken: await deps.tokens.issueDevice(accountKey) };
  };
}
