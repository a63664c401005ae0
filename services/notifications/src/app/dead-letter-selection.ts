import { InvalidArgument, quote } from '@conveyor/platform/errors';
import type { DeadLetterFilter } from './dead-letter-queue.ts';

/** One dead letter, or those matching a filter (an empty filter only with `all`). */
export type DeadLetterSelection = { id: string } | { filter: DeadLetterFilter };

const subjectPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkDeadLetterId(field: string, id: string): string {
  if (!/^[1-9][0-9]{0,15}$/.test(id))
    throw new InvalidArgument(field, `${quote(id)} is not a dead letter id`);
  return id;
}

export function checkFilter(field: string, filter: DeadLetterFilter): DeadLetterFilter {
  const subject = filter.subject || undefined;
  const reasonContains = filter.reasonContains || undefined;
  if (subject !== undefined && (subject.length > 200 || !subjectPattern.test(subject))) {
    throw new InvalidArgument(`${field}.subject`, `${quote(subject)} is not a subject like user.created`);
  }
  if (reasonContains !== undefined && reasonContains.length > 200) {
    throw new InvalidArgument(`${field}.reason_contains`, 'must be at most 200 characters');
  }
  return { subject, reasonContains };
}

/** Reads the request's selection; refuses an empty one unless `all` says so. */
export function checkSelection(input: {
  id: string;
  filter: DeadLetterFilter;
  all: boolean;
}): DeadLetterSelection {
  const filter = checkFilter('selection.filter', input.filter);
  const filtered = filter.subject !== undefined || filter.reasonContains !== undefined;
  if (input.id) {
    if (filtered || input.all) {
      throw new InvalidArgument('selection.id', 'give an id, or a filter / all, not both');
    }
    return { id: checkDeadLetterId('selection.id', input.id) };
  }
  if (!filtered && !input.all) {
    throw new InvalidArgument('selection', 'give an id, a filter, or all = true for every dead letter');
  }
  if (filtered && input.all) throw new InvalidArgument('selection.all', 'give a filter or all, not both');
  return { filter };
}
