import type { GrpcBackends } from '../../adapters/grpc-backends.ts';
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
  const { claims } = await backends.call(
    'users',
    backends.users.verifyToken,
    { accessToken: token },
    { idempotent: true },
  );
  if (!claims) throw problem.unauthenticated('the token could not be verified');
  return { token, subject: claims.subject, role: roleOf(claims.role), expiresAt: claims.expiresAt };
}

export async function requireAdmin(backends: GrpcBackends, token: string): Promise<Caller> {
  const caller = await verifyCaller(backends, token);
  if (caller.role !== 'admin') throw problem.forbidden('only admins may do this');
  return caller;
}
