/** Money in integer minor units; never floating point. */
export interface Money {
  amountMinor: number;
  currency: string;
}

export interface Product {
  sku: string;
  name: string;
  description: string;
  price: Money;
}

const skuPattern = /^[A-Z0-9][A-Z0-9-]{0,63}$/;

/** SKUs are upper-case letters, digits and dashes; input is trimmed and upper-cased. */
export function normaliseSku(raw: string): string | undefined {
  const sku = raw.trim().toUpperCase();
  return skuPattern.test(sku) ? sku : undefined;
}
