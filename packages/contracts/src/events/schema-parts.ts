import { z } from 'zod';

export const uuid = z.uuid();
export const timestamp = z.iso.datetime({ offset: true });
export const email = z.email().max(254);
export const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. EUR');
/** Money in integer minor units (cents) with its currency. */
export const money = z.strictObject({
  amountMinor: z.number().int().nonnegative(),
  currency,
});
