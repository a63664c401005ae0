/** Exit codes: 0 done, 1 failed or down, 2 the service rejected the request, 64 bad usage (EX_USAGE). */
export const exitCodes = { ok: 0, failure: 1, rejected: 2, usage: 64 } as const;

/** An expected failure: its message is printed as is and the process exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = exitCodes.failure) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, exitCodes.usage);
  }
}

/** What a command prints on stdout, and its exit code (default 0). */
export interface Outcome {
  text: string;
  exitCode?: number;
}

/** What a command prints: `value` as indented JSON with --json, else `text()`. */
export function shown(json: boolean, value: unknown, text: () => string): Outcome {
  return { text: json ? JSON.stringify(value, null, 2) : text() };
}
