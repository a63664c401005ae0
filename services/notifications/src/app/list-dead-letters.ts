import { InvalidArgument } from '@conveyor/platform/errors';
import { pageSize } from '@conveyor/platform/validation';
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from './dead-letter-queue.ts';
import { checkFilter } from './dead-letter-selection.ts';

export interface ListDeadLettersQuery {
  filter: DeadLetterFilter;
  pageSize: number;
  pageToken: string;
}

/**
 * Oldest first. A page may hold fewer than page_size items with a next
 * token (each call reads a bounded number of dead letters); keep following
 * the token until it is empty.
 */
export function listDeadLetters(deps: { deadLetters: DeadLetterQueue }) {
  return async (query: ListDeadLettersQuery): Promise<{ items: DeadLetter[]; nextPageToken: string }> => {
    const filter = checkFilter('filter', query.filter);
    const limit = pageSize('page_size', query.pageSize, 500, 50);
    if (query.pageToken && !/^[0-9]{1,16}$/.test(query.pageToken)) {
      throw new InvalidArgument('page_token', 'is not a token from a previous response');
    }
    const page = await deps.deadLetters.list(filter, query.pageToken || undefined, limit);
    return { items: page.items, nextPageToken: page.next ?? '' };
  };
}
