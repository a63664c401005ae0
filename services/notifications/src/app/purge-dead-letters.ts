import { notFound } from '@conveyor/platform/errors';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterQueue,
  isGivenUpDelivery,
  type PurgedDeadLetters,
} from './dead-letter-queue.ts';
import { checkSelection } from './dead-letter-selection.ts';

export interface PurgeDeadLettersCommand {
  id: string;
  filter: DeadLetterFilter;
  all: boolean;
}

export interface PurgeDeps {
  deadLetters: DeadLetterQueue;
  /**
   * The purged dead letters' messages are dropped from their sequences, never applied, and what
   * waited behind them goes on, as a discard does (ADR 0031).
   */
  dropFromSequences(purged: PurgedDeadLetters): Promise<void>;
}

/** Pages of reason-filtered dead letters removed at most per call. */
const maxPages = 100;

/**
 * Removes dead letters for good: one by id, all of them or one original
 * subject's in a single stream purge, or those whose reason matches one by one.
 * Their notifications stay as they are (failed), visible in ListNotifications.
 * A purged message the consumer gave up on is discarded from its sequence too:
 * the events of its key parked behind it are released, never left waiting for
 * a head that is gone from `dlq`. By id and by reason, it leaves its sequence
 * before its copy goes (a crash in between leaves a copy to purge again, not a
 * parked key); a stream purge says which copies went only afterwards.
 */
export function purgeDeadLetters(deps: PurgeDeps) {
  return async (command: PurgeDeadLettersCommand): Promise<{ purged: number }> => {
    const selection = checkSelection(command);
    if ('id' in selection) {
      const deadLetter = await deps.deadLetters.get(selection.id);
      if (!deadLetter) throw notFound(`dead letter ${selection.id}`);
      await dropFromSequences(deps, [deadLetter]);
      if (!(await deps.deadLetters.remove(selection.id))) throw notFound(`dead letter ${selection.id}`);
      return { purged: 1 };
    }
    if (selection.filter.reasonContains === undefined) {
      const { purged, through } = await deps.deadLetters.purge(selection.filter.subject);
      await deps.dropFromSequences({ through, subject: selection.filter.subject });
      return { purged };
    }
    let purged = 0;
    let after: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const found = await deps.deadLetters.list(selection.filter, after, 500);
      await dropFromSequences(deps, found.items);
      for (const deadLetter of found.items) {
        if (await deps.deadLetters.remove(deadLetter.id)) purged++;
      }
      after = found.next;
      if (after === undefined) break;
    }
    return { purged };
  };
}

/** The messages the consumer gave up on among `deadLetters` (a given-up delivery is in no sequence). */
async function dropFromSequences(deps: PurgeDeps, deadLetters: readonly DeadLetter[]): Promise<void> {
  const positions = deadLetters
    .filter((d) => !isGivenUpDelivery(d) && d.originalSequence > 0)
    .map((d) => ({ stream: d.originalStream, streamSequence: d.originalSequence }));
  if (positions.length > 0) await deps.dropFromSequences({ positions });
}
