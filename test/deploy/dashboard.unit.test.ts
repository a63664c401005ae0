import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from './kustomize.ts';

interface Panel {
  title: string;
  type: string;
  datasource: { uid: string };
  targets: { expr: string }[];
}
const dashboard = JSON.parse(
  readFileSync(repoPath('deploy/k8s/components/monitoring/conveyor-dashboard.json'), 'utf8'),
) as { uid: string; panels: Panel[]; templating: { list: { name: string; type: string }[] } };

// Metrics a dashboard panel may show before the code exports them.
const planned = new Set<string>();

function definedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'gen') walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.includes('.test.')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/name: '(conveyor_[a-z_]+)'/g)) names.add(m[1]!);
      }
    }
  };
  for (const root of ['packages', 'services']) walk(repoPath(root));
  return names;
}

describe('Grafana dashboard', () => {
  it('shows service up, event throughput and latencies through a Prometheus datasource variable', () => {
    assert.equal(dashboard.uid, 'conveyor-overview');
    assert.deepEqual(
      dashboard.templating.list.map((v) => [v.name, v.type]),
      [['datasource', 'datasource']],
    );
    for (const panel of dashboard.panels)
      assert.equal(panel.datasource.uid, `$${'{datasource}'}`, panel.title);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    assert.match(exprs, /\bup\{/);
    assert.match(exprs, /rate\(conveyor_outbox_published_total/);
    assert.match(exprs, /rate\(conveyor_events_consumed_total/);
    assert.match(exprs, /histogram_quantile\(0\.99, .*conveyor_event_handler_duration_seconds_bucket/);
    assert.match(exprs, /rpc_server_duration_seconds_bucket/);
    assert.match(exprs, /rpc_server_requests_total\{rpc_grpc_status_code=~/);
    assert.match(exprs, /conveyor_consumer_pending_messages/);
  });

  it('uses only conveyor_* metrics the code defines (or that are listed as planned)', () => {
    const defined = definedMetrics();
    assert.ok(defined.has('conveyor_outbox_published_total'), 'found the metric definitions');
    const used = new Set(
      dashboard.panels
        .flatMap((p) => p.targets.map((t) => t.expr))
        .flatMap((e) =>
          [...e.matchAll(/conveyor_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
        ),
    );
    assert.deepEqual(
      [...used].filter((m) => !defined.has(m) && !planned.has(m)),
      [],
    );
  });
});
