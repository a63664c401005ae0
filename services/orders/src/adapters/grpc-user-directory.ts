import { usersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import { AppError } from '@conveyor/platform/errors';
import { status } from '@grpc/grpc-js';
import type { UserDirectory } from '../app/user-directory.ts';

/** Asks UserService.GetUser, with a deadline on every call. */
export class GrpcUserDirectory implements UserDirectory {
  readonly #client: usersV1.UserServiceClient;
  readonly #address: string;
  readonly #deadlineMs: number;

  constructor(options: { address: string; deadlineMs: number }) {
    this.#client = new usersV1.UserServiceClient(options.address, insecure());
    this.#address = options.address;
    this.#deadlineMs = options.deadlineMs;
  }

  async exists(userId: string): Promise<boolean> {
    try {
      await callUnary(this.#client, this.#client.getUser, { id: userId }, { deadlineMs: this.#deadlineMs });
      return true;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === status.NOT_FOUND) return false;
      throw new AppError(
        'UNAVAILABLE',
        `the users service at ${this.#address} did not answer: ${(error as Error).message}`,
      );
    }
  }

  close(): void {
    this.#client.close();
  }
}
