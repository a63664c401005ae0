import { usersV1 } from '@conveyor/contracts';
import { callUnary, PoisonMessageError, RetryLater, reconnectSoon } from '@conveyor/platform';
import { bearerMetadata } from '@conveyor/platform/auth';
import { type ChannelCredentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { PersonalDataRevealer } from '../app/personal-data-revealer.ts';

/** A cached token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

/**
 * Reveals personal data through users' RevealPersonalData with a service
 * token (IssueServiceToken with this service's secret), cached until shortly
 * before it expires. Every call has a deadline; anything but a definite
 * answer becomes RetryLater, so JetStream redelivers the event later.
 */
export class GrpcPersonalDataRevealer implements PersonalDataRevealer {
  readonly #client: usersV1.UserServiceClient;
  readonly #secret: string;
  readonly #deadlineMs: number;
  readonly #retryDelayMs: number;
  readonly #now: () => number;
  #token: { value: string; renewAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: {
    address: string;
    secret: string;
    deadlineMs: number;
    retryDelayMs: number;
    now?: () => number;
    credentials: ChannelCredentials;
  }) {
    this.#client = new usersV1.UserServiceClient(options.address, options.credentials, reconnectSoon);
    this.#secret = options.secret;
    this.#deadlineMs = options.deadlineMs;
    this.#retryDelayMs = options.retryDelayMs;
    this.#now = options.now ?? Date.now;
  }

  async reveal(
    userId: string,
    sealed: string,
  ): Promise<{ email: string; name: string; resetToken?: string } | 'erased'> {
    try {
      const metadata = bearerMetadata(new Metadata(), await this.#serviceToken());
      const data = await callUnary(
        this.#client,
        this.#client.revealPersonalData,
        { userId, sealed },
        { deadlineMs: this.#deadlineMs, metadata },
      );
      return {
        email: data.email,
        name: data.name,
        ...(data.resetToken ? { resetToken: data.resetToken } : {}),
      };
    } catch (error) {
      const code = (error as ServiceError).code;
      if (code === status.NOT_FOUND) return 'erased';
      if (code === status.INVALID_ARGUMENT) {
        throw new PoisonMessageError(
          `users cannot open this personal data: ${(error as ServiceError).details}`,
        );
      }
      if (code === status.UNAUTHENTICATED) this.#token = undefined;
      const why = (error as ServiceError).details ?? (error as Error).message;
      throw new RetryLater(`users unavailable for RevealPersonalData: ${why}`, this.#retryDelayMs);
    }
  }

  close(): void {
    this.#client.close();
  }

  #serviceToken(): Promise<string> {
    if (this.#token && this.#now() < this.#token.renewAt) return Promise.resolve(this.#token.value);
    // One issue call at a time, shared by concurrent reveals.
    this.#pending ??= callUnary(
      this.#client,
      this.#client.issueServiceToken,
      { service: 'notifications', secret: this.#secret },
      { deadlineMs: this.#deadlineMs },
    )
      .then((issued) => {
        const expiresAt = issued.expiresAt?.getTime() ?? this.#now();
        this.#token = { value: issued.accessToken, renewAt: expiresAt - RENEW_BEFORE_MS };
        return issued.accessToken;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}
