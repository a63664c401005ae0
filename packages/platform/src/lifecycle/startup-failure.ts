import { ConfigError } from '../config/config-error.ts';
import { ConnectFailure, dependencyAway } from '../dependency-errors.ts';
import { TopologyMismatch } from '../messaging/topology.ts';

/**
 * A service's start-up failure as its operator reads it (main.ts prints it, then exits 1): what to
 * act on, in its own words, for a bad environment, a dependency that cannot be reached and NATS
 * topology that differs; the stack only for anything else, which looks like a bug.
 */
export function startupFailure(service: string, error: unknown): string {
  if (!(error instanceof Error)) return `${service}: cannot start: ${String(error)}`;
  const expected =
    error instanceof ConfigError ||
    error instanceof TopologyMismatch ||
    error instanceof ConnectFailure ||
    dependencyAway(error);
  return expected
    ? `${service}: cannot start: ${error.message}`
    : `${service}: ${error.stack ?? error.message}`;
}
