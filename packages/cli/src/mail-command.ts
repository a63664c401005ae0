import type { Endpoints } from './addresses.ts';
import { CliError, type Outcome } from './cli-error.ts';
import { formatMails, type SinkMail } from './format.ts';

function isMailList(value: unknown): value is SinkMail[] {
  return (
    Array.isArray(value) &&
    value.every((mail) => typeof mail === 'object' && mail !== null && Array.isArray((mail as SinkMail).to))
  );
}

/** The SMTP sink's mails (GET <web>/api/messages, oldest first there), newest first. */
export async function listMail(endpoints: Endpoints, input: { json: boolean }): Promise<Outcome> {
  const url = `${endpoints.mailWeb}/api/messages`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch {
    throw new CliError(
      `the SMTP sink is not reachable at ${endpoints.mailWeb} — start the stack with ./bin/conveyor up`,
    );
  }
  if (!response.ok) throw new CliError(`the SMTP sink answered ${response.status} at ${url}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!isMailList(body)) throw new CliError(`unexpected answer from ${url} (not a list of mails)`);
  const newestFirst = [...body].reverse();
  if (input.json) return { text: JSON.stringify(newestFirst, null, 2) };
  return { text: formatMails(newestFirst, endpoints.mailWeb) };
}
