import { protoFiles, protoRoot } from '@conveyor/contracts';
import { type OutboxRelay, type RunningService, startService } from '@conveyor/platform';
import { v7 as uuidv7 } from 'uuid';
import { PostgresUserRepository } from './adapters/postgres-user-repository.ts';
import { createUser } from './app/create-user.ts';
import { getUser } from './app/get-user.ts';
import type { UsersConfig } from './config.ts';
import { userGrpcService } from './ports/grpc-user-service.ts';

export interface RunningUsersService extends RunningService {
  relay: OutboxRelay;
}

/** Wires the users service; main.ts and the tests both start it through here. */
export function startUsersService(config: UsersConfig): Promise<RunningUsersService> {
  return startService({ name: 'users', config, protoRoot, protoFiles: protoFiles.users }, async (runtime) => {
    const relay = runtime.startOutboxRelay();
    const users = new PostgresUserRepository(runtime.pool, () => relay.signalCommitted());
    const app = {
      createUser: createUser({ users, newId: uuidv7, now: () => new Date(), source: 'conveyor/users' }),
      getUser: getUser({ users }),
    };
    return { grpc: [userGrpcService(app, runtime.logger)], relay };
  });
}
