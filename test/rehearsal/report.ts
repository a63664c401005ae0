import type { Verification } from './verify.ts';

export interface RehearsalReport {
  startedAt: string;
  settings: {
    phaseMs: number;
    workers: number;
    natsNodes: number;
    replicasPerService: number;
    streamReplicas: Record<string, number>;
    shutdownGraceMs: number;
  };
  /** The four figures the rehearsal is about. */
  figures: {
    accepted: number;
    /** Accepted orders missing from the event store, the read model, or without their confirmation mail. */
    lost: number;
    /** Second orders for one idempotency key plus second confirmations for one order.created. */
    duplicated: number;
    /** Longest time without any successful command during the load. */
    longestStallMs: number;
    longestStallAtMs: number;
  };
  load: {
    usersCreated: number;
    paid: number;
    retries: Record<string, number>;
    gaveUp: number;
    gaveUpByCode: Record<string, number>;
    slowestCommandMs: number;
    durationMs: number;
  };
  phases: { name: string; fromMs: number; toMs: number; accepted: number; longestStallMs: number }[];
  sigterm: { replica: string; code: number | null; ms: number }[];
  /** Starts that exited before becoming ready and were retried, per replica. */
  startupCrashes: Record<string, number>;
  verification: Verification;
  timeline: { atMs: number; event: string }[];
}

/** Why the rehearsal failed; empty when every check held. */
export function rehearsalFailures(report: RehearsalReport): string[] {
  const v = report.verification;
  const failures: string[] = [];
  if (report.figures.accepted === 0) failures.push('no order was accepted');
  if (report.figures.lost > 0) failures.push(`${report.figures.lost} accepted order(s) lost`);
  if (report.figures.duplicated > 0) failures.push(`${report.figures.duplicated} duplicate effect(s)`);
  if (!v.converged) failures.push(`did not converge: ${v.problems.join('; ')}`);
  if (v.eventsWithoutNotification > 0)
    failures.push(`${v.eventsWithoutNotification} event(s) without notification`);
  for (const phase of report.phases) {
    if (phase.accepted === 0) failures.push(`no order accepted during phase "${phase.name}"`);
  }
  for (const exit of report.sigterm) {
    if (exit.code !== 0) failures.push(`${exit.replica} exited with ${exit.code} after SIGTERM`);
    if (exit.ms > report.settings.shutdownGraceMs)
      failures.push(`${exit.replica} took ${exit.ms} ms to stop`);
  }
  return failures;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as text for a terminal and a Markdown file. */
export function formatReport(report: RehearsalReport): string {
  const f = report.figures;
  const v = report.verification;
  const failures = rehearsalFailures(report);
  const lines = [
    `# Conveyor multi-replica rehearsal (${report.startedAt})`,
    '',
    `${report.settings.natsNodes} NATS nodes (streams ${Object.entries(report.settings.streamReplicas)
      .map(([k, n]) => `${k} R${n}`)
      .join(', ')}), ${report.settings.replicasPerService} replicas per service, ` +
      `${report.settings.workers} load clients, phases of ${seconds(report.settings.phaseMs)}.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| accepted orders | ${f.accepted} |`,
    `| lost | ${f.lost} |`,
    `| duplicated | ${f.duplicated} |`,
    `| longest stall (no command succeeded) | ${f.longestStallMs} ms (at ${seconds(f.longestStallAtMs)}) |`,
    `| slowest command incl. retries | ${report.load.slowestCommandMs} ms |`,
    `| users created / orders paid | ${report.load.usersCreated} / ${report.load.paid} |`,
    `| retried attempts | ${JSON.stringify(report.load.retries)} |`,
    `| commands given up (outcome unknown, not counted as accepted) | ${report.load.gaveUp} ${
      report.load.gaveUp ? JSON.stringify(report.load.gaveUpByCode) : ''
    } |`,
    '',
    '| phase | from | to | accepted | longest stall |',
    '| --- | --- | --- | --- | --- |',
    ...report.phases.map(
      (p) =>
        `| ${p.name} | ${seconds(p.fromMs)} | ${seconds(p.toMs)} | ${p.accepted} | ${p.longestStallMs} ms |`,
    ),
    '',
    '| check | value |',
    '| --- | --- |',
    `| converged | ${v.converged} |`,
    `| accepted orders missing from orders.events | ${v.missingFromEventStore} |`,
    `| accepted orders missing or behind in orders.order_summaries | ${v.missingFromReadModel} |`,
    `| order.created without a confirmation row | ${v.missingConfirmations} |`,
    `| order.created whose confirmation never reached SMTP | ${v.confirmationsNotMailed} |`,
    `| order.created with more than one confirmation | ${v.duplicateConfirmations} |`,
    `| answered commands (pay) missing from orders.events | ${v.lostCommands.length} |`,
    `| orders whose read-model status is not what their commands left | ${v.wrongStatus.length} |`,
    `| stored order events without their notification row or mail | ${v.eventsNotMailed} |`,
    `| a second event of one type in one order / events no command explains | ${v.duplicateEvents} / ${v.unexplainedEvents} |`,
    `| stored events / users without their notification | ${v.eventsWithoutNotification} |`,
    `| mails re-sent with the same Message-ID (ADR 0004) | ${v.resentSameMessageId} |`,
    `| order events stored / notifications sent / mails received | ${v.orderEventsStored} / ${v.notificationsSent} / ${v.mailsReceived} |`,
    '',
    `SIGTERM: ${report.sigterm.map((e) => `${e.replica} exit ${e.code} in ${e.ms} ms`).join(', ')}`,
    `Starts retried after exiting before ready (a kubelet restart): ${JSON.stringify(report.startupCrashes)}`,
    '',
    '## Timeline',
    '',
    ...report.timeline.map((t) => `- ${seconds(t.atMs)} ${t.event}`),
    '',
    failures.length ? `RESULT: FAILED\n${failures.map((x) => `- ${x}`).join('\n')}` : 'RESULT: PASSED',
    '',
  ];
  return lines.join('\n');
}
