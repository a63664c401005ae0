import { usersV1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import { authenticated, type TokenVerifier } from '@conveyor/platform/auth';
import { InvalidArgument } from '@conveyor/platform/errors';
import type { Logger } from 'pino';
import type { UserApp } from '../app/build-app.ts';
import type { TokenRole } from '../domain/token-claims.ts';
import type { User, UserRole } from '../domain/user.ts';

/**
 * The public methods that hash a password (Argon2) or that anyone can flood (a reset request): they
 * are admitted apart from the rest, so VerifyToken and the service calls keep their capacity.
 */
export const PASSWORD_METHODS = [
  'Authenticate',
  'CreateUser',
  'ChangePassword',
  'ResetPassword',
  'RequestPasswordReset',
] as const;

const roleToProto: Record<TokenRole, usersV1.Role> = {
  customer: usersV1.Role.ROLE_CUSTOMER,
  admin: usersV1.Role.ROLE_ADMIN,
  service: usersV1.Role.ROLE_SERVICE,
};

const toProto = (user: User): usersV1.User => ({
  id: user.id,
  email: user.email,
  name: user.name,
  createdAt: user.createdAt,
  role: roleToProto[user.role],
});

/** Admin is the one role granted and revoked: customer is what is left, service never a user's. */
function requireAdminRole(role: usersV1.Role): void {
  if (role !== usersV1.Role.ROLE_ADMIN) throw new InvalidArgument('role', 'must be ROLE_ADMIN');
}

/**
 * Maps protobuf to use cases and back; a verified token becomes the use case's caller, and who may
 * call what is the use cases' rule.
 */
export function userGrpcService(app: UserApp, logger: Logger): GrpcService {
  // This service's callers are checked like every other service's (issue 21): signature and
  // claims, that the user still exists, and the token generation, not the signature alone.
  const verifier: TokenVerifier = { verify: (token) => app.verifyToken(token) };
  /** GrantRole and RevokeRole: the admin role is the one granted or taken back. */
  const setRole = (to: UserRole) =>
    authenticated(verifier, async (request: usersV1.GrantRoleRequest | usersV1.RevokeRoleRequest, caller) => {
      requireAdminRole(request.role);
      return { user: toProto(await app.changeRole(caller, { userId: request.userId, role: to })) };
    });
  const implementation: usersV1.UserServiceServer = {
    createUser: unary('CreateUser', logger, async (request: usersV1.CreateUserRequest) => {
      await app.createUser({ email: request.email, name: request.name, password: request.password });
      return { user: undefined };
    }),
    getUser: unary(
      'GetUser',
      logger,
      authenticated(verifier, async (request: usersV1.GetUserRequest, caller) => ({
        user: toProto(await app.getUser(caller, request.id)),
      })),
    ),
    authenticate: unary('Authenticate', logger, async (request: usersV1.AuthenticateRequest) => {
      const result = await app.authenticate({
        email: request.email,
        password: request.password,
        deviceToken: request.deviceToken || undefined,
      });
      return {
        accessToken: result.token,
        expiresAt: result.expiresAt,
        user: toProto(result.user),
        deviceToken: result.deviceToken,
      };
    }),
    verifyToken: unary('VerifyToken', logger, async (request: usersV1.VerifyTokenRequest) => {
      const claims = await app.verifyToken(request.accessToken);
      return {
        claims: {
          subject: claims.subject,
          role: roleToProto[claims.role],
          issuedAt: claims.issuedAt,
          expiresAt: claims.expiresAt,
          tokenId: claims.tokenId,
        },
      };
    }),
    getPublicKeys: unary('GetPublicKeys', logger, async () => app.publicKeys()),
    issueServiceToken: unary(
      'IssueServiceToken',
      logger,
      async (request: usersV1.IssueServiceTokenRequest) => {
        const issued = await app.issueServiceToken({ service: request.service, secret: request.secret });
        return { accessToken: issued.token, expiresAt: issued.expiresAt };
      },
    ),
    revealPersonalData: unary(
      'RevealPersonalData',
      logger,
      authenticated(verifier, async (request: usersV1.RevealPersonalDataRequest, caller) => {
        const data = await app.revealPersonalData(caller, { userId: request.userId, sealed: request.sealed });
        return { email: data.email, name: data.name, resetToken: data.resetToken ?? '' };
      }),
    ),
    eraseUser: unary(
      'EraseUser',
      logger,
      authenticated(verifier, async (request: usersV1.EraseUserRequest, caller) => ({
        erasedAt: await app.eraseUser(caller, request.id),
      })),
    ),
    signOut: unary(
      'SignOut',
      logger,
      authenticated(verifier, async (_request: usersV1.SignOutRequest, caller) => {
        await app.signOut(caller);
        return {};
      }),
    ),
    changePassword: unary(
      'ChangePassword',
      logger,
      authenticated(verifier, async (request: usersV1.ChangePasswordRequest, caller) => {
        const issued = await app.changePassword(caller, {
          currentPassword: request.currentPassword,
          newPassword: request.newPassword,
        });
        return { accessToken: issued.token, expiresAt: issued.expiresAt };
      }),
    ),
    requestPasswordReset: unary(
      'RequestPasswordReset',
      logger,
      async (request: usersV1.RequestPasswordResetRequest) => {
        await app.requestPasswordReset({ email: request.email });
        return {};
      },
    ),
    resetPassword: unary('ResetPassword', logger, async (request: usersV1.ResetPasswordRequest) => {
      await app.resetPassword({ resetToken: request.resetToken, newPassword: request.newPassword });
      return {};
    }),
    republishEvents: unary(
      'RepublishEvents',
      logger,
      authenticated(verifier, async (request: usersV1.RepublishEventsRequest, caller) => ({
        queued: await app.republishEvents(caller, {
          fromPosition: Number(request.fromPosition),
          toPosition: Number(request.toPosition),
        }),
      })),
    ),
    grantRole: unary('GrantRole', logger, setRole('admin')),
    revokeRole: unary('RevokeRole', logger, setRole('customer')),
  };
  return {
    name: 'conveyor.users.v1.UserService',
    definition: usersV1.UserServiceService,
    implementation,
  };
}
