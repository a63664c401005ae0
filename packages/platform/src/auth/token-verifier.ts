import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { counter } from '../observability/metrics.ts';
import type { Downstream } from '../resilience/downstream.ts';
import { unauthenticated } from './bearer-token.ts';
import { type PublicKeySet, UnknownKeyError, verifyLocally } from './local-token-verifier.ts';
import type { Principal } from './principal.ts';
import { TokenCache } from './token-cache.ts';
import type { UsersAuthApi } from './users-auth-api.ts';

/** Turns an access token into a Principal or throws UNAUTHENTICATED / UNAVAILABLE. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export interface TokenVerifierOptions {
  /** How long a users-service verdict is reused; 0 disables the cache. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** How often the public keys for local verification are refetched. */
  keysRefreshMs: number;
}

const optionsSchema = z.object({
  cacheTtlMs: z.number().int().min(0).max(300_000),
  cacheMaxEntries: z.number().int().min(0).max(1_000_000),
  keysRefreshMs: z.number().int().min(1000).max(86_400_000),
});

export const defaultTokenVerifierOptions: TokenVerifierOptions = {
  cacheTtlMs: 30_000,
  cacheMaxEntries: 10_000,
  keysRefreshMs: 300_000,
};

type Outcome = 'cache' | 'remote' | 'local' | 'rejected';

/**
 * Verifies tokens with the users service (VerifyToken, retried as an
 * idempotent call through the downstream's breaker) and reuses verdicts for
 * `cacheTtlMs`, never past a token's expiry. Only while the users service is
 * UNAVAILABLE (breaker open or retries exhausted) does it verify locally
 * against the cached public keys: ADR 0012.
 */
export class UsersTokenVerifier implements TokenVerifier {
  readonly #api: UsersAuthApi;
  readonly #downstream: Downstream;
  readonly #logger: Logger;
  readonly #options: TokenVerifierOptions;
  readonly #cache: TokenCache;
  readonly #now: () => Date;
  readonly #count: (outcome: Outcome) => void;
  #keys: PublicKeySet | undefined;
  /** Tokens users refused, until they expire: an outage must not let them back in. */
  readonly #refused: LRUCache<string, number>;
  /** The newest token generation seen accepted per subject: older ones were revoked since. */
  readonly #newest: LRUCache<string, number>;
  #refresh: NodeJS.Timeout | undefined;
  #fetching: Promise<unknown> | undefined;

  constructor(
    deps: {
      api: UsersAuthApi;
      downstream: Downstream;
      logger: Logger;
      registry?: Registry;
      now?: () => Date;
    },
    options: Partial<TokenVerifierOptions> = {},
  ) {
    const parsed = optionsSchema.safeParse({ ...defaultTokenVerifierOptions, ...options });
    if (!parsed.success)
      throw new Error(
        `invalid token verifier options: ${parsed.error.issues.map((i) => `${i.path}: ${i.message}`)}`,
      );
    this.#options = parsed.data;
    this.#api = deps.api;
    this.#downstream = deps.downstream;
    this.#logger = deps.logger;
    this.#now = deps.now ?? (() => new Date());
    this.#cache = new TokenCache({
      ttlMs: this.#options.cacheTtlMs,
      maxEntries: this.#options.cacheMaxEntries,
      now: () => this.#now().getTime(),
    });
    // Both memories stay bounded like the verdict cache; the least recently used go first.
    const max = Math.max(1, this.#options.cacheMaxEntries);
    this.#refused = new LRUCache({ max });
    this.#newest = new LRUCache({ max });
    const total = counter(deps.registry, {
      name: 'conveyor_auth_verifications_total',
      help: 'Access token verifications by how they were decided',
      labelNames: ['outcome'] as const,
    });
    this.#count = (outcome) => total?.inc({ outcome });
  }

  /** Fetches the public keys if the users service answers, and refreshes them periodically. */
  async start(): Promise<void> {
    await this.refreshKeys().catch(() => undefined);
    this.#refresh = setInterval(
      () => void this.refreshKeys().catch(() => undefined),
      this.#options.keysRefreshMs,
    );
    this.#refresh.unref();
  }

  stop(): void {
    clearInterval(this.#refresh);
  }

  get hasKeys(): boolean {
    return this.#keys !== undefined;
  }

  async refreshKeys(): Promise<PublicKeySet> {
    try {
      const keys = await this.#downstream.call(
        () => this.#api.publicKeys(this.#downstream.options.deadlineMs),
        {
          idempotent: true,
        },
      );
      if (keys.keys.length === 0) throw new Error('users service returned no public keys');
      this.#keys = keys;
      this.#logger.debug({ kids: keys.keys.map((k) => k.kid) }, 'public keys refreshed');
      return keys;
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not refresh the users public keys');
      throw error;
    }
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.#cache.get(token);
    if (cached) {
      this.#count('cache');
      return cached;
    }
    try {
      const principal = await this.#downstream.call(
        () => this.#api.verifyToken(token, this.#downstream.options.deadlineMs),
        { idempotent: true },
      );
      if (principal.expiresAt.getTime() <= this.#now().getTime())
        throw unauthenticated('access token expired');
      this.#cache.set(token, principal);
      this.#remember(this.#newest, principal.subject, generationOf(token));
      this.#count('remote');
      // Users is back but we never got its keys (it was down at start): fetch them now, in the background.
      if (!this.#keys && !this.#fetching)
        this.#fetching = this.refreshKeys()
          .catch(() => undefined)
          .finally(() => {
            this.#fetching = undefined;
          });
      return principal;
    } catch (error) {
      if (error instanceof AppError && error.code === 'UNAVAILABLE') return this.#verifyLocally(token, error);
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
        this.#count('rejected');
        this.#remember(this.#refused, token, expiryOf(token));
      }
      throw error;
    }
  }

  /** Keeps `value` under `key`, the larger one when the key is known. */
  #remember(memory: LRUCache<string, number>, key: string, value: number): void {
    const known = memory.get(key);
    if (known === undefined || known < value) memory.set(key, value);
  }

  async #verifyLocally(token: string, outage: AppError): Promise<Principal> {
    const keys = this.#keys;
    if (!keys)
      throw new AppError('UNAVAILABLE', `${outage.message}; no public keys cached to verify locally`);
    try {
      // What users refused, or a generation older than one it accepted since, stays refused: the
      // revocations this process has seen hold through an outage (ADR 0022).
      const refusedUntil = this.#refused.get(token);
      if (refusedUntil !== undefined && refusedUntil > this.#now().getTime()) {
        throw unauthenticated('access token refused by users before; sign in again');
      }
      const principal = await this.#verifyWithRefetch(token, keys);
      if (generationOf(token) < (this.#newest.get(principal.subject) ?? 0)) {
        throw unauthenticated('access token revoked: a later sign-out or role change ended it');
      }
      this.#count('local');
      this.#logger.debug({ subject: principal.subject }, 'token verified locally: users service unavailable');
      return principal;
    } catch (error) {
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED') this.#count('rejected');
      throw error;
    }
  }

  async #verifyWithRefetch(token: string, keys: PublicKeySet): Promise<Principal> {
    try {
      return await verifyLocally(token, keys, this.#now());
    } catch (error) {
      if (!(error instanceof UnknownKeyError)) throw error;
    }
    const fresh = await this.refreshKeys().catch(() => undefined);
    if (!fresh)
      throw new AppError('UNAVAILABLE', 'token signed by a key not cached; users service unavailable');
    try {
      return await verifyLocally(token, fresh, this.#now());
    } catch (error) {
      if (error instanceof UnknownKeyError) throw unauthenticated('access token signed by an unknown key');
      throw error;
    }
  }
}

/** The token generation a users token carries (`gen`, 0 when absent), read without verifying. */
function generationOf(token: string): number {
  try {
    const gen = decodeJwt(token).gen;
    return typeof gen === 'number' && Number.isSafeInteger(gen) && gen >= 0 ? gen : 0;
  } catch {
    return 0;
  }
}

/** When a token expires (ms), read without verifying; an unreadable one is kept for 15 minutes. */
function expiryOf(token: string): number {
  try {
    const exp = decodeJwt(token).exp;
    if (typeof exp === 'number') return exp * 1000;
  } catch {
    // not a JWT: kept for the longest token lifetime
  }
  return Date.now() + 15 * 60_000;
}
