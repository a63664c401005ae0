import type { Metadata } from '@grpc/grpc-js';
import { AppError } from '../errors.ts';

export const unauthenticated = (why: string) => new AppError('UNAUTHENTICATED', why);

/**
 * The token of `authorization: Bearer <jwt>` metadata; UNAUTHENTICATED when
 * it is missing or malformed. The token itself never appears in a message.
 */
export function bearerToken(metadata: Metadata): string {
  const values = metadata.get('authorization');
  if (values.length === 0)
    throw unauthenticated('missing access token: send metadata "authorization: Bearer <token>"');
  if (values.length > 1) throw unauthenticated('more than one authorization header');
  const match = /^Bearer[ ]+([A-Za-z0-9_\-.]+)$/i.exec(String(values[0]).trim());
  if (!match?.[1]) throw unauthenticated('authorization metadata must be "Bearer <token>"');
  if (match[1].length > 8192) throw unauthenticated('access token too long');
  return match[1];
}

/** Metadata carrying `authorization: Bearer <token>`, for clients. */
export function bearerMetadata<M extends Metadata>(metadata: M, token: string): M {
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
