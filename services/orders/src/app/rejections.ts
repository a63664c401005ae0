import { AppError, InvalidArgument } from '@conveyor/platform/errors';
import { OrderRejected } from '../domain/order.ts';

/** Domain rejections in application terms: bad input or a state that forbids the command. */
export async function translatingRejections<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof OrderRejected)) throw error;
    if (error.kind === 'invalid') {
      const field = error.field ?? 'request';
      const prefix = `${field}: `;
      throw new InvalidArgument(
        field,
        error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message,
      );
    }
    throw new AppError('FAILED_PRECONDITION', error.message);
  }
}
