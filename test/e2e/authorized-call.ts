import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import type { SignedIn } from '../support/auth.ts';

/**
 * `call` of independent-clients.ts with metadata, for proto-loader clients
 * of services that authenticate every call.
 */
export function callWithMetadata<Res>(
  client: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata,
  deadlineMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(
      client,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): grpc.Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** A call with the signed-in caller's access token. */
export function callAs<Res>(
  who: SignedIn,
  client: grpc.Client,
  method: string,
  request: object,
  deadlineMs = 5000,
): Promise<Res> {
  return callWithMetadata(client, method, request, who.metadata(), deadlineMs);
}
