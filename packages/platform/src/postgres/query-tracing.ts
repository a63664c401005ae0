import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type pg from 'pg';
import { tracer } from '../observability/telemetry.ts';

/** Long statements are cut here: enough to recognise the query, never a payload. */
const maxQueryText = 1000;
const traced = Symbol('conveyor.traced');

/**
 * Makes every promise-style query of this client a CLIENT span (database
 * semantic conventions: db.system.name, db.operation.name, db.query.text
 * without parameter values, which may hold personal data). Only queries run
 * inside a traced operation get a span: health checks and background polls
 * would otherwise flood the trace store with one-span traces. Callback and
 * submittable (cursor) queries pass through untouched. Applied to a pool and
 * to its clients: pool.query calls its client in callback style, so a query
 * gets one span either way.
 */
export function traceQueries(client: pg.ClientBase | pg.Pool): void {
  const target = client as (pg.ClientBase | pg.Pool) & { [traced]?: true };
  if (target[traced]) return;
  target[traced] = true;
  const original = client.query as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    const [config, values, callback] = args;
    const plain =
      typeof values !== 'function' &&
      typeof callback !== 'function' &&
      !(config && typeof (config as { submit?: unknown }).submit === 'function');
    if (!plain || !trace.getActiveSpan()?.isRecording()) return original.apply(this, args);
    const text = typeof config === 'string' ? config : ((config as { text?: string })?.text ?? '');
    const operation = /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
    return tracer().startActiveSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': operation,
          'db.query.text': text.replace(/\s+/g, ' ').trim().slice(0, maxQueryText),
        },
      },
      async (span) => {
        try {
          const result = (await original.apply(this, args)) as pg.QueryResult;
          if (typeof result?.rowCount === 'number')
            span.setAttribute('db.response.returned_rows', result.rowCount);
          return result;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code) span.setAttribute('db.response.status_code', code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}
