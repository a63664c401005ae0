import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON logs on stdout. Secrets never reach them: the paths below are
 * redacted wherever they appear in a log object.
 */
export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'secret',
        '*.secret',
        'databaseUrl',
      ],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}
