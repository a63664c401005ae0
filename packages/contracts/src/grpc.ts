import { fileURLToPath } from 'node:url';

export * as consumersV1 from './gen/conveyor/consumers/v1/consumers.ts';
export * as notificationsV1 from './gen/conveyor/notifications/v1/notifications.ts';
export * as ordersV1 from './gen/conveyor/orders/v1/orders.ts';
export * as usersV1 from './gen/conveyor/users/v1/users.ts';

/** Root of the proto sources, for reflection and for independent clients. */
export const protoRoot = fileURLToPath(new URL('../../../proto', import.meta.url));

/** Proto files (relative to protoRoot) that each service serves. */
export const protoFiles = {
  users: ['conveyor/users/v1/users.proto'],
  notifications: ['conveyor/notifications/v1/notifications.proto', 'conveyor/consumers/v1/consumers.proto'],
  orders: ['conveyor/orders/v1/orders.proto', 'conveyor/consumers/v1/consumers.proto'],
} as const;
