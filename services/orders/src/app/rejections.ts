import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { OrderRejected } from '../domain/order.ts';

/** Domain rejections in application terms: bad input or a state that forbids the command. */
export async function translatingRejections<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof OrderRejected)) throw error;
    if (error.kind === 'invalid')
      throw new InvalidArgument(error.field ?? 'request', error.message.replace(/^[a-z_]+: /, ''));
    throw new AppError('FAILED_PRECONDITION', error.message);
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireUuid(value: string, field: string): string {
  if (!value) throw new InvalidArgument(field, 'is required');
  if (!uuidPattern.test(value)) throw new InvalidArgument(field, `"${value}" is not a UUID`);
  return value.toLowerCase();
}
