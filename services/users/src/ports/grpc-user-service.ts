import { usersV1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import {
  authenticated,
  authorized,
  type Principal,
  requireOwnerOrAdmin,
  type TokenVerifier,
} from '@conveyor/platform/auth';
import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import type { Logger } from 'pino';
import type { IssuedToken, PublicJwk } from '../app/token-service.ts';
import type { TokenClaims, TokenRole } from '../domain/token-claims.ts';
import type { PersonalData, User, UserRole } from '../domain/user.ts';

export interface UserUseCases {
  /** Answers the same for a new and a taken address. */
  createUser(input: { email: string; name: string; password: string }): Promise<void>;
  getUser(id: string): Promise<User>;
  authenticate(input: {
    email: string;
    password: string;
    deviceToken?: string;
  }): Promise<IssuedToken & { user: User; deviceToken: string }>;
  verifyToken(token: string): Promise<TokenClaims>;
  publicKeys(): { keys: PublicJwk[]; issuer: string; audience: string };
  issueServiceToken(input: { service: string; secret: string }): Promise<IssuedToken>;
  revealPersonalData(input: { userId: string; sealed: string }): Promise<PersonalData>;
  eraseUser(id: string): Promise<Date>;
  /** GrantRole (admin) and RevokeRole (back to customer), by the admin `adminId`. */
  changeRole(input: { adminId: string; userId: string; role: UserRole }): Promise<User>;
  /** Every token of the user refused from now on. */
  signOut(userId: string): Promise<void>;
  changePassword(input: {
    userId: string;
    currentPassword: string;
    newPassword: string;
  }): Promise<IssuedToken>;
  requestPasswordReset(input: { email: string }): Promise<void>;
  resetPassword(input: { resetToken: string; newPassword: string }): Promise<void>;
  /** Queues logged events again (admins only); answers how many. */
  republishEvents(range: { fromPosition: number; toPosition: number }): Promise<number>;
}

/**
 * What a service token may call here, by service (least privilege, issue 21): notifications opens
 * sealed personal data and nothing else. A service token is refused everywhere else.
 */
export const SERVICE_METHODS: Readonly<Record<string, readonly string[]>> = {
  notifications: ['RevealPersonalData'],
};

/** PERMISSION_DENIED unless `principal` is a user, or a service allowed `method`. */
function requireServiceAllowed(principal: Principal, method: string): void {
  if (principal.role !== 'service') return;
  const service = principal.subject.slice('service:'.length);
  if (!SERVICE_METHODS[service]?.includes(method)) {
    throw new AppError('PERMISSION_DENIED', `service ${service} may not call ${method}`);
  }
}

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

/** Maps protobuf to use cases and back; authorisation wraps the handlers that need a caller. */
export function userGrpcService(app: UserUseCases, logger: Logger): GrpcService {
  // This service's callers are checked like every other service's (issue 21): signature and
  // claims, that the user still exists, and the token generation, not the signature alone.
  const verifier: TokenVerifier = { verify: (token) => app.verifyToken(token) };
  /** GrantRole and RevokeRole: the admin role is the one granted or taken back. */
  const setRole = (to: UserRole) =>
    authorized(
      verifier,
      ['admin'],
      async (request: usersV1.GrantRoleRequest | usersV1.RevokeRoleRequest, principal) => {
        requireAdminRole(request.role);
        return {
          user: toProto(
            await app.changeRole({ adminId: principal.subject, userId: request.userId, role: to }),
          ),
        };
      },
    );
  const implementation: usersV1.UserServiceServer = {
    createUser: unary('CreateUser', logger, async (request: usersV1.CreateUserRequest) => {
      await app.createUser({ email: request.email, name: request.name, password: request.password });
      return { user: undefined };
    }),
    getUser: unary(
      'GetUser',
      logger,
      authenticated(verifier, async (request: usersV1.GetUserRequest, principal) => {
        requireServiceAllowed(principal, 'GetUser');
        requireOwnerOrAdmin(principal, request.id, `user ${request.id}`);
        return { user: toProto(await app.getUser(request.id)) };
      }),
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
      authorized(verifier, ['service'], async (request: usersV1.RevealPersonalDataRequest, principal) => {
        requireServiceAllowed(principal, 'RevealPersonalData');
        const data = await app.revealPersonalData({ userId: request.userId, sealed: request.sealed });
        return { email: data.email, name: data.name, resetToken: data.resetToken ?? '' };
      }),
    ),
    eraseUser: unary(
      'EraseUser',
      logger,
      authenticated(verifier, async (request: usersV1.EraseUserRequest, principal) => {
        requireOwnerOrAdmin(principal, request.id, `user ${request.id}`);
        return { erasedAt: await app.eraseUser(request.id) };
      }),
    ),
    signOut: unary(
      'SignOut',
      logger,
      authenticated(verifier, async (_request: usersV1.SignOutRequest, principal) => {
        requireServiceAllowed(principal, 'SignOut');
        await app.signOut(principal.subject);
        return {};
      }),
    ),
    changePassword: unary(
      'ChangePassword',
      logger,
      authenticated(verifier, async (request: usersV1.ChangePasswordRequest, principal) => {
        requireServiceAllowed(principal, 'ChangePassword');
        const issued = await app.changePassword({
          userId: principal.subject,
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
      authorized(verifier, ['admin'], async (request: usersV1.RepublishEventsRequest) => ({
        queued: await app.republishEvents({
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
