import { notFound } from '@conveyor/platform/errors';
import type { DeadLetter, DeadLetterQueue } from './dead-letter-queue.ts';
import { checkDeadLetterId } from './dead-letter-selection.ts';

export function getDeadLetter(deps: { deadLetters: DeadLetterQueue }) {
  return async (id: string): Promise<DeadLetter> => {
    const found = await deps.deadLetters.get(checkDeadLetterId('id', id));
    if (!found) throw notFound(`dead letter ${id}`);
    return found;
  };
}
