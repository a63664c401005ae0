import { type Logger, pino } from 'pino';
import { logCorrelation } from './telemetry.ts';

export type { Logger } from 'pino';

/**
 * Paths redacted wherever they appear in a log object (top level, one level
 * down, and request/response headers): credentials must never reach logs.
 */
export const redactedPaths = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'currentPassword',
  '*.currentPassword',
  'resetToken',
  '*.resetToken',
  'deviceToken',
  '*.deviceToken',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'refreshToken',
  '*.refreshToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  'metadata.authorization',
  'cookie',
  'headers.cookie',
  'secret',
  '*.secret',
  'secrets',
  'serviceSecret',
  '*.serviceSecret',
  'apiKey',
  '*.apiKey',
  'privateKey',
  '*.privateKey',
  'databaseUrl',
  'DATABASE_URL',
  '*.DATABASE_URL',
];

/**
 * JSON logs on stdout. Every line written inside a traced request or message
 * carries `trace_id` / `span_id` and its context (rpc method, event id,
 * subject), so a log line leads to its trace and back.
 */
export function createLogger(options: {
  service: string;
  level?: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: logCorrelation,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
