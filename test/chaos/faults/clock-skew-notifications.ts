import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceivedMail } from '@conveyor/stack';
import type { ChaosService } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';

/** Debian's libfaketime (apt-get install faketime): the process's clock, shifted. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const SKEWS = ['+90s', '-90s'];
const SKEWED_MS = 3000;

/**
 * notifications on a node whose clock is wrong: restarted under libfaketime 90 s ahead, then 90 s
 * behind, for 3 s each, while users, orders and Postgres keep the true clock; then restarted with
 * the true clock. Leases, claims and due times are Postgres's clock (now()); what the process's
 * own clock stamps (created_at, sent_at, mail Date headers, retry times) is skewed, and reported.
 */
export const clockSkewNotifications: Experiment = {
  name: 'clock-skew-notifications',
  fault:
    'notifications restarted under libfaketime +90 s, then -90 s (3 s each; users, orders, Postgres on the true clock), then restarted with the true clock',
  async run(system, note) {
    if (!existsSync(LIBFAKETIME)) {
      return { problems: [`${LIBFAKETIME} is missing: apt-get install faketime`], details: [] };
    }
    const notifications = system.services.notifications;
    const problems: string[] = [];
    const details: string[] = [];
    try {
      for (const skew of SKEWS) {
        await notifications.stop();
        await notifications.start({ LD_PRELOAD: LIBFAKETIME, FAKETIME: skew, FAKETIME_NO_CACHE: '1' });
        const from = system.smtp.messages().length;
        const clock = await clockOffsetS(notifications);
        await sleep(SKEWED_MS);
        const mails = system.smtp.messages().slice(from);
        details.push(
          `${skew}: its clock read ${signed(clock)} s; ${mails.length} mails, Date headers ${dateSkew(mails)}`,
        );
        note(details.at(-1)!);
        if (Math.abs(clock - Number.parseInt(skew, 10)) > 5)
          problems.push(`libfaketime ${skew} did not shift notifications' clock (${signed(clock)} s)`);
      }
    } finally {
      await notifications.stop();
      await notifications.start();
    }
    return { problems, details };
  },
};

/** The service's clock against ours, in whole seconds, from its ops server's HTTP Date header. */
async function clockOffsetS(service: ChaosService): Promise<number> {
  const response = await fetch(`${service.opsUrl}/healthz`, { signal: AbortSignal.timeout(3000) });
  const date = response.headers.get('date');
  if (!date) throw new Error(`${service.name}'s ops server sent no Date header`);
  return Math.round((new Date(date).getTime() - Date.now()) / 1000);
}

/** How far mails' Date headers (the sender's clock) are from when the sink received them. */
function dateSkew(mails: readonly ReceivedMail[]): string {
  const offsets = mails.flatMap((m) => {
    const header = m.headers.find((h) => /^date:/i.test(h));
    if (!header) return [];
    return [
      Math.round((new Date(header.slice(5).trim()).getTime() - new Date(m.receivedAt).getTime()) / 1000),
    ];
  });
  if (offsets.length === 0) return 'absent';
  return `${signed(Math.min(...offsets))}..${signed(Math.max(...offsets))} s off`;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
