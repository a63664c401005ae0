import type { Endpoints } from './addresses.ts';
import { CliError, type Outcome, shown } from './cli-error.ts';
import { formatMails, formatWebhookSink, type SinkedWebhook, type SinkMail } from './format.ts';

/** A JSON answer of one of `conveyor up`'s sinks; a CliError saying how to start them when it is not there. */
async function askSink(what: string, base: string, path: string, init?: RequestInit): Promise<unknown> {
  const url = `${base}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  } catch {
    throw new CliError(`the ${what} is not reachable at ${base} — start the stack with ./bin/conveyor up`);
  }
  if (!response.ok) throw new CliError(`the ${what} answered ${response.status} at ${url}`);
  return response.json().catch(() => undefined);
}

function isMailList(value: unknown): value is SinkMail[] {
  return (
    Array.isArray(value) &&
    value.every((mail) => typeof mail === 'object' && mail !== null && Array.isArray((mail as SinkMail).to))
  );
}

/** The SMTP sink's mails (GET <web>/api/messages, oldest first there), newest first. */
export async function listMail(endpoints: Endpoints, input: { json: boolean }): Promise<Outcome> {
  const body = await askSink('SMTP sink', endpoints.mailWeb, '/api/messages');
  if (!isMailList(body)) {
    throw new CliError(`unexpected answer from ${endpoints.mailWeb}/api/messages (not a list of mails)`);
  }
  const newestFirst = [...body].reverse();
  return shown(input.json, newestFirst, () => formatMails(newestFirst, endpoints.mailWeb));
}

interface SinkState {
  answer: string;
  received: SinkedWebhook[];
}

function isSinkState(value: unknown): value is SinkState {
  const state = value as SinkState;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof state.answer === 'string' &&
    Array.isArray(state.received)
  );
}

/** The webhook sink's answer (changed first when asked) and what it received, newest first. */
export async function webhookSink(
  endpoints: Endpoints,
  input: { answer: string | undefined; limit: number | undefined; json: boolean },
): Promise<Outcome> {
  const base = endpoints.webhookSink;
  if (input.answer !== undefined) {
    await askSink('webhook sink', base, '/_sink', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answer: input.answer }),
    });
  }
  const state = await askSink('webhook sink', base, '/_sink');
  if (!isSinkState(state)) throw new CliError(`unexpected answer from ${base}/_sink`);
  const limit = input.limit ?? 20;
  const newest = state.received.slice(-limit).reverse();
  return shown(input.json, { answer: state.answer, received: newest }, () =>
    formatWebhookSink(base, state.answer, newest, state.received.length),
  );
}
