import type { BackendName, GrpcBackends, Unary } from '../../adapters/grpc-backends.ts';
import { problem } from './problem.ts';
import { roleOf } from './views.ts';

export interface Caller {
  token: string;
  subject: string;
  role: ReturnType<typeof roleOf>;
  expiresAt: Date | undefined;
}

/** Who the token speaks for, as the users service verifies it (401 otherwise). */
export async function verifyCaller(backends: GrpcBackends, token: string): Promise<Caller> {
  const { claims } = await reads(backends, 'users')(backends.users.verifyToken, { accessToken: token });
  if (!claims) throw problem.unauthenticated('the token could not be verified');
  return { token, subject: claims.subject, role: roleOf(claims.role), expiresAt: claims.expiresAt };
}

export async function requireAdmin(backends: GrpcBackends, token: string): Promise<Caller> {
  const caller = await verifyCaller(backends, token);
  if (caller.role !== 'admin') throw problem.forbidden('only admins may do this');
  return caller;
}

/** Reads of `backend` as the caller (`token`): retried after a transient failure, since they change nothing. */
export const reads =
  (backends: GrpcBackends, backend: BackendName) =>
  <Req, Res>(rpc: Unary<Req, Res>, request: Req, token?: string) =>
    backends.call(backend, rpc, request, { token, idempotent: true });
