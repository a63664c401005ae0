import { InvalidArgument, quote } from './errors.ts';

/** Request checks every service shares; each failure names the field. */

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its format (any case). */
export function checkUuid(field: string, value: string): void {
  if (!uuidPattern.test(value)) throw new InvalidArgument(field, `${quote(value)} is not a UUID`);
}

/** A present UUID, lower-cased. */
export function requireUuid(value: string, field: string): string {
  if (!value) throw new InvalidArgument(field, 'is required');
  checkUuid(field, value);
  return value.toLowerCase();
}

/** 0 means `fallback`; otherwise 1..max. */
export function pageSize(field: string, value: number, max: number, fallback: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgument(field, `must be between 0 and ${max}`);
  }
  return value || fallback;
}

/** Keyset page tokens: the last row's (time, id), opaque to callers. */
export function encodeKeysetToken(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodeKeysetToken(token: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(createdAt as string);
    if (typeof createdAt !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad time');
    if (typeof id !== 'string' || !uuidPattern.test(id)) throw new Error('bad id');
    return { createdAt: date, id: id.toLowerCase() };
  } catch {
    throw new InvalidArgument('page_token', 'is not a token from a previous response');
  }
}

/**
 * A page from `rows` fetched with `limit + 1`: the first `limit` rows, and a
 * token naming the last of them when there were more.
 */
export function keysetPage<Row>(
  rows: readonly Row[],
  limit: number,
  key: (row: Row) => { createdAt: Date; id: string },
): { items: Row[]; nextPageToken: string } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextPageToken: rows.length > limit && last ? encodeKeysetToken(key(last)) : '' };
}
