import type { Caller } from '@conveyor/platform/core';
import { AppError } from '@conveyor/platform/errors';

/**
 * What a service token may call here, by service (least privilege, issue 21): notifications opens
 * sealed personal data and nothing else. A service token is refused everywhere else.
 */
export const SERVICE_METHODS: Readonly<Record<string, readonly string[]>> = {
  notifications: ['RevealPersonalData'],
};

/** PERMISSION_DENIED unless `caller` is a user, or a service allowed `method`. */
export function requireServiceAllowed(caller: Caller, method: string): void {
  if (caller.role !== 'service') return;
  const service = caller.subject.slice('service:'.length);
  if (!SERVICE_METHODS[service]?.includes(method)) {
    throw new AppError('PERMISSION_DENIED', `service ${service} may not call ${method}`);
  }
}
