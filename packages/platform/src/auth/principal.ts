import { usersV1 } from '@conveyor/contracts';

export type Role = 'customer' | 'admin' | 'service';

/** Who a verified access token speaks for. */
export interface Principal {
  /** The user id, or `service:<name>` for a service token. */
  subject: string;
  role: Role;
  tokenId: string;
  expiresAt: Date;
}

export function roleFromProto(role: usersV1.Role): Role | undefined {
  if (role === usersV1.Role.ROLE_CUSTOMER) return 'customer';
  if (role === usersV1.Role.ROLE_ADMIN) return 'admin';
  if (role === usersV1.Role.ROLE_SERVICE) return 'service';
  return undefined;
}

export function isRole(value: unknown): value is Role {
  return value === 'customer' || value === 'admin' || value === 'service';
}
