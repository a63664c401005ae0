import { status } from '@grpc/grpc-js';
import { z } from 'zod';
import { accountKey, type LimitName } from '../../adapters/edge-limits.ts';
import * as S from './api-schemas.ts';
import { reads, verifyCaller } from './caller.ts';
import type { GatewayDeps } from './deps.ts';
import { problem, toProblem } from './problem.ts';
import { type ApiRoute, type RouteInput, route } from './route.ts';
import { DEVICE_COOKIE_MAX_AGE_S, deviceCookieName, sessionCookie, sessionCookieName } from './security.ts';
import { userView } from './views.ts';

const SIGNED_UP =
  'Signed up: log in with this password. If the address already had an account, nothing changed and its owner was mailed.';

type Input = Pick<RouteInput<unknown, unknown, unknown, unknown>, 'res' | 'edge' | 'cookie'>;

/** Sign-up, log-in (token in an HttpOnly cookie and in the body), log-out and who-am-I (/api/me; /api/session for maybe nobody). */
export function sessionRoutes({ backends, limits }: GatewayDeps): ApiRoute[] {
  /** The user a token belongs to, and when the token expires (401 when it is not valid). */
  const sessionOf = async (token: string) => {
    const caller = await verifyCaller(backends, token);
    const { user } = await reads(backends, 'users')(backends.users.getUser, { id: caller.subject }, token);
    return { user: userView(user), expiresAt: caller.expiresAt?.toISOString() ?? null };
  };
  /** 429 with Retry-After once `name`'s allowance for `key` is spent. */
  const limit = async ({ res }: Input, name: LimitName, key: string, what: string) => {
    const verdict = await limits.take(name, key);
    if (verdict.allowed) return;
    res.setHeader('retry-after', String(verdict.retryAfterSeconds));
    throw problem.tooManyRequests(`too many ${what}; try again in ${verdict.retryAfterSeconds} s`);
  };
  const logIn = async ({ res, cookie, edge: { secure } }: Input, email: string, password: string) => {
    // The device cookie lets this browser sign in while someone else's guesses lock the account.
    const deviceToken = cookie(deviceCookieName(secure));
    const auth = await backends.call(
      'users',
      backends.users.authenticate,
      { email, password, deviceToken: deviceToken.length <= 2048 ? deviceToken : '' },
      { idempotent: false },
    );
    const maxAge = auth.expiresAt ? (auth.expiresAt.getTime() - Date.now()) / 1000 : 900;
    const session = sessionCookie(auth.accessToken, maxAge, secure, sessionCookieName(secure));
    const device = sessionCookie(auth.deviceToken, DEVICE_COOKIE_MAX_AGE_S, secure, deviceCookieName(secure));
    res.setHeader('set-cookie', [session, device]);
    return { user: userView(auth.user), expiresAt: auth.expiresAt?.toISOString() ?? null };
  };
  return [
    route({
      method: 'POST',
      path: '/api/signup',
      tag: 'session',
      summary:
        'Sign up. The same answer whether or not the address is taken (its owner is mailed instead); log in next',
      auth: 'none',
      body: S.SignUpRequest,
      response: S.SignUpAccepted,
      status: 202,
      async handle(input) {
        await limit(input, 'signup-ip', input.edge.clientAddress, 'sign-ups from this address');
        await backends.call('users', backends.users.createUser, input.body, { idempotent: false });
        return { accepted: true as const, detail: SIGNED_UP };
      },
    }),
    route({
      method: 'POST',
      path: '/api/login',
      tag: 'session',
      summary: 'Log in: sets the HttpOnly session cookie (SameSite=Strict)',
      auth: 'none',
      body: S.LogInRequest,
      response: S.Session,
      async handle(input) {
        await limit(input, 'login-ip', input.edge.clientAddress, 'log-ins from this address');
        await limit(input, 'login-account', accountKey(input.body.email), 'log-ins to this account');
        return logIn(input, input.body.email, input.body.password);
      },
    }),
    route({
      method: 'POST',
      path: '/api/logout',
      tag: 'session',
      summary:
        "Log out: ends every session of the caller (users' SignOut: their tokens are refused from now on) and clears the session cookie",
      auth: 'none',
      body: S.Empty,
      response: z.object({ loggedOut: z.boolean() }),
      async handle({ res, edge: { secure }, token }) {
        res.setHeader('set-cookie', sessionCookie('', 0, secure, sessionCookieName(secure)));
        if (token) {
          // Refused already (expired, revoked) is logged out as well; anything else is an error.
          await backends
            .call('users', backends.users.signOut, {}, { token, idempotent: true })
            .catch((error: { code?: unknown }) => {
              if (error.code !== status.UNAUTHENTICATED) throw error;
            });
        }
        return { loggedOut: true };
      },
    }),
    route({
      method: 'GET',
      path: '/api/me',
      tag: 'session',
      summary: 'The signed-in user',
      auth: 'user',
      response: S.Session,
      handle: ({ token }) => sessionOf(token),
    }),
    route({
      method: 'GET',
      path: '/api/session',
      tag: 'session',
      summary:
        'Who is signed in, if anyone: 200 with user null when signed out or the session expired (the console asks this, so a signed-out page logs no 401)',
      auth: 'none',
      response: S.MaybeSession,
      async handle({ token }) {
        const signedOut = { user: null, expiresAt: null };
        if (!token) return signedOut;
        try {
          return await sessionOf(token);
        } catch (error) {
          // Expired, revoked or junk: nobody. Anything else (users unreachable) is the failure it is.
          if (toProblem(error).body.status === 401) return signedOut;
          throw error;
        }
      },
    }),
  ];
}
