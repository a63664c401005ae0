import { usersV1 } from '@conveyor/contracts';
import { callUnary, reconnectSoon } from '@conveyor/platform';
import { bearerMetadata } from '@conveyor/platform/auth';
import type { Downstream } from '@conveyor/platform/resilience';
import { type ChannelCredentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { UserDirectory } from '../app/user-directory.ts';

/**
 * Whether a user exists (and is not erased), asked of the users service with the caller's own
 * token, so users applies its own access rule (admins may read anyone). Through the `users`
 * downstream the token verifier already protects: one breaker for one dependency.
 */
export class GrpcUserDirectory implements UserDirectory {
  readonly #client: usersV1.UserServiceClient;
  readonly #downstream: Downstream;

  constructor(address: string, downstream: Downstream, channel: ChannelCredentials) {
    this.#client = new usersV1.UserServiceClient(address, channel, reconnectSoon);
    this.#downstream = downstream;
  }

  async exists(userId: string, token: string): Promise<boolean> {
    const metadata = bearerMetadata(new Metadata(), token);
    try {
      await this.#downstream.call(
        ({ deadline }) =>
          callUnary(
            this.#client,
            this.#client.getUser,
            { id: userId },
            {
              deadlineMs: Math.max(1, deadline.getTime() - Date.now()),
              metadata,
            },
          ),
        { idempotent: true },
      );
      return true;
    } catch (error) {
      if ((error as ServiceError).code === status.NOT_FOUND) return false;
      throw error;
    }
  }

  close(): void {
    this.#client.close();
  }
}
