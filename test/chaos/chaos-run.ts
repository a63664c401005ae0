import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '@conveyor/stack/stack-file';
import type { AcceptedOrder } from '../rehearsal/order-load.ts';
import { verifyRehearsal } from '../rehearsal/verify.ts';
import { startChaosLoad } from './chaos-load.ts';
import { CHAOS_MAIL_DOMAIN, type ChaosSystem, serviceNames, startChaosSystem } from './chaos-system.ts';
import { type Experiment, experiments } from './experiments.ts';

export interface ExperimentResult {
  name: string;
  fault: string;
  accepted: number;
  paid: number;
  /** Commands after PlaceOrder answered OK, by kind, checked like the orders. */
  commands: Record<string, number>;
  /** Accepted orders missing from the event store or read model, or without their confirmation. */
  lost: number;
  /** Second orders for one idempotency key, second notification rows or confirmations for one event. */
  duplicated: number;
  /** The same mail (same Message-ID) received again: a send cut by a crash, deduplicated by the receiver (ADR 0004). */
  resentSameMessageId: number;
  /** Stored events (order.created/paid, users) without their notification row. */
  eventsWithoutNotification: number;
  /** From the end of the load (fault healed) until outboxes empty, read model caught up, every mail sent. */
  convergeMs: number;
  converged: boolean;
  /** Services that exited by themselves and were restarted by the supervisor. */
  unplannedExits: string[];
  /** Processes killed in the experiment that are still alive (must be none). */
  leftBehind: number[];
  gaveUp: number;
  problems: string[];
  details: string[];
  durationMs: number;
}

export interface ChaosOptions {
  only?: readonly string[];
  smoke?: boolean;
  /** Load before and after the fault. */
  warmMs: number;
  workers: number;
  convergeTimeoutMs: number;
  /** CI's size: experiments with long faults (minutes in the full run) keep them to seconds. */
  short?: boolean;
  log: (line: string) => void;
}

export const smokeExperiments = ['consumer-kill-before-ack', 'relay-kill-after-publish'];
/** Experiments besides the smoke two that CI runs per commit. */
export const CI_GROUP_SIZE = 5;

/**
 * CI's share of the suite for one commit: the smoke experiments and one group of the others, the
 * group chosen by the commit's hash, so a handful of consecutive commits run every experiment.
 */
export function rotation(commit: string, perRun: number): { names: string[]; group: number; groups: number } {
  // A known, unfixed defect fails every run it is in: the full suite runs it, CI waits for its fix.
  const others = experiments
    .filter((e) => !e.knownDefect && !smokeExperiments.includes(e.name))
    .map((e) => e.name)
    .sort();
  const groups = Math.max(1, Math.ceil(others.length / perRun));
  const group = Number.parseInt(commit.slice(0, 8), 16) % groups || 0;
  const names = [...smokeExperiments, ...others.filter((_, i) => i % groups === group)];
  return { names, group, groups };
}

export function selectExperiments(options: Pick<ChaosOptions, 'only' | 'smoke'>): Experiment[] {
  const names = options.only?.length ? options.only : options.smoke ? smokeExperiments : undefined;
  if (!names) return [...experiments];
  const unknown = names.filter((n) => !experiments.some((e) => e.name === n));
  if (unknown.length) {
    throw new Error(
      `unknown experiment ${unknown.join(', ')}; known: ${experiments.map((e) => e.name).join(', ')}`,
    );
  }
  return experiments.filter((e) => names.includes(e.name));
}

/** Runs the selected experiments one after the other on one private system; stops everything it started. */
export async function runChaos(
  options: ChaosOptions,
): Promise<{ results: ExperimentResult[]; leftBehind: number[] }> {
  const selected = selectExperiments(options);
  const system = await startChaosSystem((line) => options.log(`  ${line}`));
  const results: ExperimentResult[] = [];
  let previous = { resent: 0, orphans: 0 };
  try {
    for (const experiment of selected) {
      options.log(`experiment ${experiment.name}: ${experiment.fault}`);
      const result = await runExperiment(system, experiment, options, previous);
      previous = result.totals;
      results.push(result.result);
      const r = result.result;
      options.log(
        `  accepted ${r.accepted}, lost ${r.lost}, duplicated ${r.duplicated}, converged in ${r.convergeMs} ms${r.problems.length ? `, problems: ${r.problems.join('; ')}` : ''}`,
      );
    }
  } finally {
    await system.close();
  }
  const everyPid = [...serviceNames.flatMap((n) => system.services[n].pids), ...system.natsPids];
  await sleep(200);
  return { results, leftBehind: everyPid.filter(isAlive) };
}

async function runExperiment(
  system: ChaosSystem,
  experiment: Experiment,
  options: ChaosOptions,
  previous: { resent: number; orphans: number },
) {
  const began = Date.now();
  const exitsBefore = serviceNames.map((n) => system.services[n].unplannedExits.length);
  const supervisor = supervise(system, (line) => options.log(`  ${line}`));
  const pidsBefore = new Set(serviceNames.flatMap((n) => system.services[n].pids).concat(system.natsPids));
  const load = startChaosLoad({
    usersAddress: system.services.users.grpcAddress,
    ordersAddress: system.services.orders.grpcAddress,
    workers: options.workers,
    pauseMs: 20,
    maxOrders: 100_000,
  });
  await sleep(options.warmMs);
  const problems: string[] = [];
  const details: string[] = [];
  try {
    const checks = await experiment.run(system, (line) => options.log(`  ${line}`), {
      short: options.short ?? false,
    });
    problems.push(...(checks?.problems ?? []));
    details.push(...(checks?.details ?? []));
  } catch (error) {
    problems.push(`the experiment failed: ${(error as Error).message}`);
  }
  await sleep(options.warmMs);
  const loadResult = await load.stop();
  const verifyStart = Date.now();
  const v = await verifyRehearsal({
    databaseUrl: system.databaseUrl,
    accepted: loadResult.accepted,
    mails: () => system.smtp.messages(),
    mailDomain: CHAOS_MAIL_DOMAIN,
    convergeTimeoutMs: options.convergeTimeoutMs,
  });
  const convergeMs = Date.now() - verifyStart;
  await supervisor.stop();
  const unplannedExits = serviceNames.flatMap((n, i) =>
    system.services[n].unplannedExits.slice(exitsBefore[i]),
  );
  problems.push(...v.problems);
  if (loadResult.accepted.length === 0) {
    const top = Object.entries(loadResult.errors)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3);
    problems.push(`load errors: ${top.map(([k, n]) => `${n}× ${k}`).join('; ') || 'none'}`);
  }
  // Processes killed during this experiment (replaced since) must be gone.
  const current = new Set(serviceNames.map((n) => system.services[n].pid).concat(system.nats.pid));
  const killed = serviceNames
    .flatMap((n) => system.services[n].pids)
    .concat(system.natsPids)
    .filter((pid) => !current.has(pid) && !pidsBefore.has(pid));
  const gone = [...pidsBefore].filter((pid) => !current.has(pid));
  const leftBehind = [...killed, ...gone].filter(isAlive);
  if (leftBehind.length) problems.push(`processes left behind: ${leftBehind.join(', ')}`);
  const totals = { resent: v.resentSameMessageId, orphans: v.eventsWithoutNotification };
  const resent = totals.resent - previous.resent;
  // Only a fault that can cut a send from its record may resend a mail (ADR 0004).
  if (resent > 0 && !experiment.mayResend) {
    problems.push(`${resent} mail(s) sent again with their Message-ID, by a fault that cannot explain it`);
  }
  problems.push(...v.lostCommands.slice(0, 5).map((c) => `answered, not stored: ${c}`));
  problems.push(...v.wrongStatus.slice(0, 5).map((w) => `read model: ${w}`));
  const result: ExperimentResult = {
    name: experiment.name,
    fault: experiment.fault,
    accepted: loadResult.accepted.length,
    paid: loadResult.accepted.filter((o) => o.paid).length,
    lost: v.lostOrderIds.length,
    duplicated:
      loadResult.duplicateOrdersForKey + v.duplicateConfirmations + v.duplicateEvents + v.unexplainedEvents,
    resentSameMessageId: resent,
    commands: commandCounts(loadResult.accepted),
    eventsWithoutNotification: totals.orphans,
    convergeMs,
    converged: v.converged,
    unplannedExits,
    leftBehind,
    gaveUp: loadResult.gaveUp,
    problems,
    details,
    durationMs: Date.now() - began,
  };
  return { result, totals };
}

function commandCounts(accepted: readonly AcceptedOrder[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of accepted.flatMap((o) => o.commands ?? [])) {
    if (c.outcome === 'ok') counts[c.kind] = (counts[c.kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Restarts services that exited by themselves, as a kubelet restarts a crashed
 * container, so an experiment measures recovery rather than a dead process.
 */
function supervise(system: ChaosSystem, log: (line: string) => void) {
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      for (const name of serviceNames) {
        try {
          if (await system.services[name].supervise())
            log(`supervisor: restarted ${name} after it exited by itself`);
        } catch (error) {
          log(`supervisor: ${(error as Error).message}`);
        }
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}

/** Failures of a run: anything lost, duplicated, not converged, left behind or reported by an experiment. */
export function chaosFailures(results: readonly ExperimentResult[], leftBehind: readonly number[]): string[] {
  const failures: string[] = [];
  for (const r of results) {
    if (r.accepted === 0) failures.push(`${r.name}: no order was accepted`);
    if (r.lost) failures.push(`${r.name}: ${r.lost} lost`);
    if (r.duplicated) failures.push(`${r.name}: ${r.duplicated} duplicated`);
    if (!r.converged) failures.push(`${r.name}: did not converge`);
    if (r.eventsWithoutNotification)
      failures.push(`${r.name}: ${r.eventsWithoutNotification} events without notification`);
    for (const p of r.problems) failures.push(`${r.name}: ${p}`);
  }
  if (leftBehind.length) failures.push(`processes left behind at the end: ${leftBehind.join(', ')}`);
  return failures;
}
