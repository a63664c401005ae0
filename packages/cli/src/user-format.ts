import * as usersV1 from '@conveyor/contracts/grpc/users';
import { enumLabel, formatTime } from './format.ts';
import { renderFields } from './table.ts';

// Apart from format.ts, which `conveyor status` loads: the users enum needs the generated protos.

export const roleLabel = (role: usersV1.Role): string => enumLabel(usersV1.roleToJSON(role), 'ROLE_');

export function formatUser(user: usersV1.User): string {
  return renderFields([
    ['id', user.id],
    ['email', user.email],
    ['name', user.name],
    ['role', roleLabel(user.role)],
    ['created', formatTime(user.createdAt)],
  ]);
}
