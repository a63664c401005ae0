import type { HandlingOutcome } from '@conveyor/platform/core';
import { failedPrecondition, notFound } from '@conveyor/platform/errors';
import { pageSize, uuidPattern } from '@conveyor/platform/validation';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterQueue,
  isGivenUpDelivery,
} from './dead-letter-queue.ts';
import { checkSelection } from './dead-letter-selection.ts';
import type { NotificationStore } from './notification-store.ts';

export interface RedriveDeadLettersCommand {
  id: string;
  filter: DeadLetterFilter;
  all: boolean;
  /** 0 means 100; at most 1000. */
  limit: number;
}

export interface RedriveDeps {
  deadLetters: DeadLetterQueue;
  store: NotificationStore;
  /** Hands the original to this consumer's own handler again, in this process. */
  handleAgain(deadLetter: DeadLetter): Promise<HandlingOutcome>;
  /** The original was handled: what waited behind it in its sequence is released (ADR 0031). */
  redriven(deadLetter: DeadLetter): Promise<void>;
  /** The streams on which an operator has paused this consumer, with the pause's reason (ADR 0033). */
  pausedStreams(): Promise<ReadonlyMap<string, string>>;
}

/** Pages read at most while collecting one call's dead letters. */
const maxPages = 50;

/**
 * Redrives dead letters one by one. A given-up delivery (it names its
 * notification): make that notification pending again with a fresh budget
 * and due now, then remove the dead letter; the delivery scheduler sends it.
 * A message the consumer could not record (poison, or failures past
 * max_deliver):
 * 1. make the event's given-up notifications pending again (fresh budget);
 * 2. hand the original to the consumer's handler again, here, never by
 *    publishing to its owner's subject (ADR 0025): recorded, it is done; still
 *    poison, it becomes a new dead letter with the new reason; failing for now
 *    (a retry), the redrive stops with an error and keeps the dead letter;
 * 3. remove the dead letter.
 * In this order a crash leaves the dead letter in place and a second redrive
 * does no harm: the inbox (keyed by ce-id) drops an event recorded already,
 * and requeueing touches only notifications that are still failed.
 * A paused consumer applies nothing: a selection holding a message of a stream
 * the consumer is paused on is refused before anything is redriven.
 */
export function redriveDeadLetters(deps: RedriveDeps) {
  return async (command: RedriveDeadLettersCommand): Promise<{ redriven: string[]; more: boolean }> => {
    const limit = pageSize('limit', command.limit, 1000, 100);
    const selection = checkSelection(command);
    let chosen: DeadLetter[];
    let more = false;
    if ('id' in selection) {
      const one = await deps.deadLetters.get(selection.id);
      if (!one) throw notFound(`dead letter ${selection.id}`);
      chosen = [one];
    } else {
      chosen = [];
      let after: string | undefined;
      for (let page = 0; page < maxPages && chosen.length <= limit; page++) {
        const found = await deps.deadLetters.list(selection.filter, after, limit + 1 - chosen.length);
        chosen.push(...found.items);
        after = found.next;
        if (after === undefined) break;
      }
      more = chosen.length > limit || after !== undefined;
      chosen = chosen.slice(0, limit);
    }
    await refuseWhilePaused(deps, chosen);
    const redriven: string[] = [];
    for (const deadLetter of chosen) {
      if (isGivenUpDelivery(deadLetter)) {
        // A given-up delivery: the event was recorded long ago; schedule that one delivery again.
        await deps.store.requeueFailed({ notificationId: deadLetter.notificationId });
      } else {
        if (deadLetter.eventId && uuidPattern.test(deadLetter.eventId)) {
          await deps.store.requeueFailed({ eventId: deadLetter.eventId });
        }
        const outcome = await deps.handleAgain(deadLetter);
        if (outcome.kind === 'retry') {
          throw failedPrecondition(
            `dead letter ${deadLetter.id} failed again and is kept (${outcome.reason.slice(0, 200)}); redrive it later`,
          );
        }
        if (outcome.kind === 'dead-letter') await deps.deadLetters.readd(deadLetter, outcome.reason);
        else await deps.redriven(deadLetter);
      }
      await deps.deadLetters.remove(deadLetter.id);
      redriven.push(deadLetter.id);
    }
    return { redriven, more };
  };
}

/** A message (not a given-up delivery) on a stream the consumer is paused on would be applied now. */
async function refuseWhilePaused(deps: RedriveDeps, chosen: readonly DeadLetter[]): Promise<void> {
  const paused = await deps.pausedStreams();
  if (paused.size === 0) return;
  const held = chosen.find((d) => !isGivenUpDelivery(d) && paused.has(d.originalStream));
  if (!held) return;
  const reason = paused.get(held.originalStream);
  throw failedPrecondition(
    `consumer ${held.originalStream}/${held.consumer} is paused${reason ? ` (${reason.slice(0, 200)})` : ''}: ` +
      `resume it to redrive dead letter ${held.id}; a paused consumer applies nothing`,
  );
}
