import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  group: string;
  name: string;
  concurrency: number | string;
  perSecond: number;
  p50?: number;
  p99?: number;
  p999?: number;
  note?: string;
}

export interface Report {
  title: string;
  machine: { cores: number; node: string; postgres: string; nats: string };
  startedAt: string;
  smoke: boolean;
  rows: Row[];
  ratios: { name: string; value: number; target?: number; atMost?: boolean; met?: boolean }[];
  checks: { name: string; ok: boolean; detail: string; target?: boolean }[];
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '' : n.toFixed(digits));

export function toMarkdown(report: Report): string {
  const lines = [
    `# ${report.title}`,
    '',
    `${report.startedAt} · ${report.machine.cores} cores · Node ${report.machine.node} · ${report.machine.postgres} · nats-server ${report.machine.nats}${report.smoke ? ' · SMOKE RUN (not for figures)' : ''}`,
    '',
    '| group | what | concurrency | per second | p50 ms | p99 ms | p99.9 ms | note |',
    '|---|---|---|---|---|---|---|---|',
    ...report.rows.map(
      (r) =>
        `| ${r.group} | ${r.name} | ${r.concurrency} | ${r.perSecond > 0 ? fmt(r.perSecond, 0) : ''} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.p999, 2)} | ${r.note ?? ''} |`,
    ),
    '',
    '## Ratios (same run)',
    '',
    '| ratio | value | target | met |',
    '|---|---|---|---|',
    ...report.ratios.map(
      (r) =>
        `| ${r.name} | ${fmt(r.value, 2)} | ${r.target === undefined ? '' : `${r.atMost ? '≤' : '≥'} ${r.target}`} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
    ),
    '',
    '## Checks',
    '',
    ...report.checks.map(
      (c) => `- ${c.ok ? '✔' : c.target ? '· target missed:' : '✖'} ${c.name}: ${c.detail}`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** A horizontal bar chart of per-second figures, grouped. */
export function toSvg(report: Report): string {
  const rows = report.rows.filter((r) => r.perSecond > 0);
  const max = Math.max(...rows.map((r) => r.perSecond), 1);
  const barHeight = 18;
  const labelWidth = 360;
  const width = 900;
  const height = rows.length * (barHeight + 6) + 40;
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const bars = rows.map((r, i) => {
    const y = 30 + i * (barHeight + 6);
    const w = ((width - labelWidth - 80) * r.perSecond) / max;
    return [
      `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end" font-size="12">${esc(`${r.group}: ${r.name} @${r.concurrency}`)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="#3b6ea5"/>`,
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 13}" font-size="12">${Math.round(r.perSecond)}/s</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(report.title)}${report.smoke ? ' (smoke)' : ''}</text>`,
    ...bars,
    '</svg>',
  ].join('\n');
}

export function writeReport(dir: string, name: string, report: Report): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [
    [join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`],
    [join(dir, `${name}.md`), toMarkdown(report)],
    [join(dir, `${name}.svg`), toSvg(report)],
  ] as const;
  for (const [file, content] of files) writeFileSync(file, content);
  return files.map(([file]) => file);
}
