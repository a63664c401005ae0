// Failures that mean a dependency is away, not a bug: retry them (UNAVAILABLE), report them in a line.

/** Socket errors, and Postgres shutting down, starting, full or unreachable (SQLSTATE 08, 57P0x, 53300). */
const awayCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/**
 * Whether a request failed because Postgres (or another dependency) could not be reached or went
 * away mid-call: the caller should retry (UNAVAILABLE), not report a bug (INTERNAL). pg's pool
 * says so in messages rather than codes when a connection ends or cannot be had in time.
 */
export function dependencyAway(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (awayCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return /^(Connection terminated|timeout exceeded when trying to connect)/.test(error.message);
}

/**
 * A dependency (NATS, at start-up) could not be reached or refused the connection: the message
 * names it and says why, which is what its operator acts on (no stack is printed).
 */
export class ConnectFailure extends Error {
  override name = 'ConnectFailure';
}
