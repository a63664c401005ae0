/**
 * Text that outlives an erasure (stored errors, dead-letter reasons, log lines) names no email
 * address: servers and handlers often quote one ("550 <ada@example.com>: unknown"). The rest of
 * the text stays, for whoever investigates.
 */
export function withoutAddresses(text: string): string {
  return text.replace(/(?:"[^"\n]*"|[^\s<>"'()[\],;:]+)@[^\s<>"'()[\],;:]+/g, '[address]');
}
