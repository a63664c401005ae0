import { UsageError } from './cli-error.ts';

/** Options every command takes. */
export const common = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** parseArgs, with its errors (unknown option, missing value...) turned into usage errors. */
export function parse<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node appends advice about `--` and `=`; what comes before it is the point.
      const [point] = (error as Error).message.split(/\.?\s+To specify/);
      throw new UsageError((point ?? '').replace(/\s*\n\s*/g, ' '));
    }
    throw error;
  }
}

export function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0)
    throw new UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
}

/** The one positional argument of `command` (an id, a SKU...). */
export function onePositional(command: string, what: string, positionals: string[]): string {
  const [value, extra] = positionals;
  if (value === undefined) throw new UsageError(`${command} needs ${what}`);
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}`);
  return value;
}

export function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 500) {
    throw new UsageError(`--limit must be a whole number from 1 to 500, not ${JSON.stringify(raw)}`);
  }
  return limit;
}

/** `sub` asks for the topic's help: missing, --help or -h. */
export function isHelp(sub: string | undefined): boolean {
  return sub === undefined || sub === '--help' || sub === '-h';
}
