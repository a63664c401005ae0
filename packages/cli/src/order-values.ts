import { UsageError } from './cli-error.ts';

/** The statuses `orders list --status` accepts, in lifecycle order. */
export const orderStatusNames = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;

export type OrderStatusName = (typeof orderStatusNames)[number];

/** One `--item SKU:QTY`. */
export interface ItemArg {
  sku: string;
  quantity: number;
}

/** An `orders at` point: after the Nth event, or as of an instant. */
export type OrderAt = { version: number } | { time: Date };

const MAX_QUANTITY = 1000;
const MAX_KEY_LENGTH = 128;
const MAX_INT32 = 2 ** 31 - 1;

/** `MUG-001:2` → { sku: 'MUG-001', quantity: 2 }; the service checks and normalises the SKU. */
export function parseItem(raw: string): ItemArg {
  const colon = raw.lastIndexOf(':');
  const sku = raw.slice(0, Math.max(colon, 0)).trim();
  const quantity = raw.slice(colon + 1);
  if (colon < 0 || sku === '') {
    throw new UsageError(`--item must be SKU:QTY, e.g. MUG-001:2, not ${JSON.stringify(raw)}`);
  }
  const value = Number(quantity);
  if (!/^\d+$/.test(quantity) || value < 1 || value > MAX_QUANTITY) {
    throw new UsageError(
      `--item ${sku}: the quantity must be a whole number from 1 to ${MAX_QUANTITY}, not ${JSON.stringify(quantity)}`,
    );
  }
  return { sku, quantity: value };
}

/** Each `--item` after the ones before it: each SKU once (SKUs compare case-insensitively, as the service upper-cases them). */
export function addItem(raw: string, items: readonly ItemArg[] = []): ItemArg[] {
  const item = parseItem(raw);
  if (items.some((other) => other.sku.toUpperCase() === item.sku.toUpperCase())) {
    throw new UsageError(`--item ${item.sku} is given twice; give each SKU once with its whole quantity`);
  }
  return [...items, item];
}

export function parseIdempotencyKey(raw: string): string {
  if (raw.length < 1 || raw.length > MAX_KEY_LENGTH) {
    throw new UsageError(`--key must be 1 to ${MAX_KEY_LENGTH} characters long`);
  }
  return raw;
}

function parseVersion(raw: string): number {
  const version = Number(raw);
  if (!/^\d+$/.test(raw) || version < 1 || version > MAX_INT32) {
    throw new UsageError(`--version must be a whole number from 1 (as placed), not ${JSON.stringify(raw)}`);
  }
  return version;
}

const instantPattern =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/i;

const defaultAt = { option: '--time', edge: 'end' } as const;

/**
 * An ISO-8601 date and time, `T` or a space between them (as the history table prints
 * times); local time unless it ends in Z or an offset. The instant is the end of the
 * last unit given: 10:15:30 includes events recorded during that second, 10:15 that minute,
 * so a time copied from `orders history` covers the event recorded then (`edge: 'start'`: its start).
 */
export function parseInstant(raw: string, at: { option: string; edge: 'start' | 'end' } = defaultAt): Date {
  const match = instantPattern.exec(raw.trim());
  const problem = `${at.option} must be an ISO-8601 date and time such as 2026-01-02T10:15:30Z or "2026-01-02 10:15" (local), not ${JSON.stringify(raw)}`;
  if (!match) throw new UsageError(problem);
  const [, year, month, day, , , seconds, fraction] = match;
  const start = Date.parse(raw.trim().replace(' ', 'T'));
  const calendarDay = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (Number.isNaN(start) || calendarDay.getUTCDate() !== Number(day)) throw new UsageError(problem);
  if (at.edge === 'start') return new Date(start);
  const rest = fraction !== undefined ? 0 : seconds !== undefined ? 999 : 59_999;
  return new Date(start + rest);
}

/** Exactly one of --version and --time. */
export function parseAt(version: string | undefined, time: string | undefined): OrderAt {
  if ((version === undefined) === (time === undefined)) {
    throw new UsageError('orders at needs exactly one of --version N and --time ISO-8601');
  }
  return version !== undefined ? { version: parseVersion(version) } : { time: parseInstant(time ?? '') };
}
