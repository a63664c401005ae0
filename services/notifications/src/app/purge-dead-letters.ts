import { notFound } from '@conveyor/platform/errors';
import type { DeadLetterFilter, DeadLetterQueue } from './dead-letter-queue.ts';
import { checkSelection } from './dead-letter-selection.ts';

export interface PurgeDeadLettersCommand {
  id: string;
  filter: DeadLetterFilter;
  all: boolean;
}

/** Pages of reason-filtered dead letters removed at most per call. */
const maxPages = 100;

/**
 * Removes dead letters for good: one by id, all of them or one original
 * subject's in a single stream purge, or those whose reason matches one by one.
 * Their notifications stay as they are (failed), visible in ListNotifications.
 */
export function purgeDeadLetters(deps: { deadLetters: DeadLetterQueue }) {
  return async (command: PurgeDeadLettersCommand): Promise<{ purged: number }> => {
    const selection = checkSelection(command);
    if ('id' in selection) {
      if (!(await deps.deadLetters.get(selection.id)) || !(await deps.deadLetters.remove(selection.id))) {
        throw notFound(`dead letter ${selection.id}`);
      }
      return { purged: 1 };
    }
    if (selection.filter.reasonContains === undefined) {
      return { purged: await deps.deadLetters.purge(selection.filter.subject) };
    }
    let purged = 0;
    let after: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const found = await deps.deadLetters.list(selection.filter, after, 500);
      for (const deadLetter of found.items) {
        if (await deps.deadLetters.remove(deadLetter.id)) purged++;
      }
      after = found.next;
      if (after === undefined) break;
    }
    return { purged };
  };
}
