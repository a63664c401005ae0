import { usersV1 } from '@conveyor/contracts';
import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { JWK } from 'jose';
import { callUnary, insecure, reconnectSoon } from '../grpc/client.ts';
import { unauthenticated } from './bearer-token.ts';
import type { PublicKeySet } from './local-token-verifier.ts';
import { type Principal, roleFromProto } from './principal.ts';

/**
 * The two users-service calls a token verifier needs. Both are reads, safe
 * to retry. `verifyToken` throws UNAUTHENTICATED (AppError) for a token the
 * users service rejects; transport failures are thrown as they come.
 */
export interface UsersAuthApi {
  verifyToken(token: string, deadlineMs: number): Promise<Principal>;
  publicKeys(deadlineMs: number): Promise<PublicKeySet>;
  close(): void;
}

export class GrpcUsersAuthApi implements UsersAuthApi {
  readonly #client: usersV1.UserServiceClient;

  constructor(address: string, channel: ChannelCredentials = insecure()) {
    this.#client = new usersV1.UserServiceClient(address, channel, reconnectSoon);
  }

  async verifyToken(token: string, deadlineMs: number): Promise<Principal> {
    let response: usersV1.VerifyTokenResponse;
    try {
      response = await callUnary(
        this.#client,
        this.#client.verifyToken,
        { accessToken: token },
        { deadlineMs },
      );
    } catch (error) {
      if ((error as ServiceError).code === status.UNAUTHENTICATED)
        throw unauthenticated((error as ServiceError).details || 'invalid access token');
      throw error;
    }
    const claims = response.claims;
    const role = claims ? roleFromProto(claims.role) : undefined;
    if (!claims || !role || !claims.expiresAt)
      throw new Error('users service returned incomplete token claims');
    return { subject: claims.subject, role, tokenId: claims.tokenId, expiresAt: claims.expiresAt };
  }

  async publicKeys(deadlineMs: number): Promise<PublicKeySet> {
    const response = await callUnary(this.#client, this.#client.getPublicKeys, {}, { deadlineMs });
    const keys: JWK[] = response.keys.map((k) => ({
      kid: k.kid,
      kty: k.kty,
      alg: k.alg,
      crv: k.crv,
      x: k.x,
      ...(k.y ? { y: k.y } : {}),
    }));
    return { keys, issuer: response.issuer, audience: response.audience };
  }

  close(): void {
    this.#client.close();
  }
}
