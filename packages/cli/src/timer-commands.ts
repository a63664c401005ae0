import * as consumersV1 from '@conveyor/contracts/grpc/consumers';
import type { Endpoints } from './addresses.ts';
import { type Outcome, shown } from './cli-error.ts';
import { formatTime } from './format.ts';
import { type ConsumingService, consuming } from './option-values.ts';
import { asConsumers } from './service-calls.ts';
import { renderTable } from './table.ts';

/** In how long `due` is, from `now`: "in 29 min", "in 3 h", "2 min late". */
export function dueIn(due: Date, now: Date): string {
  const ms = due.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const amount =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${amount}` : `${amount} late`;
}

export async function listTimers(
  endpoints: Endpoints,
  command: { service?: ConsumingService; limit?: number; json: boolean },
): Promise<Outcome> {
  const limit = command.limit ?? 20;
  const rows: { service: ConsumingService; timer: consumersV1.Timer }[] = [];
  let total = 0;
  for (const service of command.service ? [command.service] : consuming) {
    const response = await asConsumers(endpoints, service, 'listTimers', { pageSize: limit });
    total += response.total;
    rows.push(...response.timers.map((timer) => ({ service, timer })));
  }
  const soonest = rows
    .sort((a, b) => (a.timer.dueAt?.getTime() ?? 0) - (b.timer.dueAt?.getTime() ?? 0))
    .slice(0, limit);
  const timers = soonest.map((r) => ({
    service: r.service,
    ...(consumersV1.Timer.toJSON(r.timer) as object),
  }));
  return shown(command.json, { timers, total }, () => formatTimers(soonest, total));
}

function formatTimers(
  soonest: { service: ConsumingService; timer: consumersV1.Timer }[],
  total: number,
): string {
  if (soonest.length === 0) return 'no timers set';
  const now = new Date();
  const table = renderTable(
    ['due', 'in', 'kind', 'key', 'service', 'attempts', 'last error'],
    soonest.map(({ service, timer: t }) => [
      formatTime(t.dueAt),
      t.firing ? 'firing now' : t.dueAt ? dueIn(t.dueAt, now) : '-',
      t.kind,
      t.key,
      service,
      String(t.attempts),
      t.lastError,
    ]),
  );
  const more =
    total > soonest.length ? `\n\n(the soonest ${soonest.length} of ${total}; more with --limit)` : '';
  return `${table}${more}`;
}
