import { usersV1 } from '@conveyor/contracts';
import { type GrpcService, unary } from '@conveyor/platform';
import type { Logger } from 'pino';
import type { User } from '../domain/user.ts';

export interface UserUseCases {
  createUser(input: { email: string; name: string }): Promise<User>;
  getUser(id: string): Promise<User>;
}

const toProto = (user: User): usersV1.User => ({
  id: user.id,
  email: user.email,
  name: user.name,
  createdAt: user.createdAt,
});

/** Maps protobuf to use cases and back; errors become statuses in `unary`. */
export function userGrpcService(app: UserUseCases, logger: Logger): GrpcService {
  const implementation: usersV1.UserServiceServer = {
    createUser: unary('CreateUser', logger, async (request: usersV1.CreateUserRequest) => ({
      user: toProto(await app.createUser({ email: request.email, name: request.name })),
    })),
    getUser: unary('GetUser', logger, async (request: usersV1.GetUserRequest) => ({
      user: toProto(await app.getUser(request.id)),
    })),
  };
  return {
    name: 'conveyor.users.v1.UserService',
    definition: usersV1.UserServiceService,
    implementation,
  };
}
