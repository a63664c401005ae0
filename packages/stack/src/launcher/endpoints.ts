import type { StackFile } from './stack-file.ts';

export interface EndpointNotes {
  postgres: string;
  nats: string;
  stackFile: string;
  readySeconds: number;
}

function columns(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ')}`.trimEnd(),
  );
}

/** The table printed once the stack is ready. */
export function formatEndpoints(stack: StackFile, notes: EndpointNotes): string {
  const services = Object.entries(stack.services);
  const rows = [['service', 'gRPC', 'ops'], ...services.map(([name, s]) => [name, s.grpc, s.ops])];
  const infra: string[][] = [];
  if (stack.postgres) infra.push(['postgres', stack.postgres, notes.postgres]);
  if (stack.nats) infra.push(['nats', stack.nats, notes.nats]);
  if (stack.smtp) infra.push(['smtp sink', `smtp://${stack.smtp.smtp}`, `web UI ${stack.smtp.web}`]);
  if (stack.webhookSink) infra.push(['webhook sink', stack.webhookSink, 'conveyor webhooks sink']);
  for (const [name, url] of Object.entries(stack.web ?? {}))
    infra.push([name, url, 'web console, JSON API, /api/openapi.json']);
  const total = services.length + Object.keys(stack.web ?? {}).length;
  const count = `${total} service${total === 1 ? '' : 's'}`;
  return [
    '',
    `Conveyor is up: ${count} ready in ${notes.readySeconds.toFixed(1)} s`,
    '',
    ...columns(rows),
    '',
    ...columns(infra),
    '',
    `  Try:  ./bin/conveyor users create --email ada@example.com --name "Ada Lovelace" --password 'correct horse battery'`,
    `        ./bin/conveyor login --email ada@example.com --password 'correct horse battery'`,
    '        ./bin/conveyor orders place --item MUG-001:2',
    '        ./bin/conveyor mail',
    '        ./bin/conveyor status',
    ...Object.values(stack.web ?? {}).map((url) => `        open ${url} in a browser (the web console)`),
    '',
    `  State in ${notes.stackFile}. Ctrl-C stops everything.`,
    '',
  ].join('\n');
}
