import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoPath } from './kustomize.ts';

const promtool = process.env.CONVEYOR_PROMTOOL || '/usr/bin/promtool';
const rulesFile = repoPath('deploy/compose/alert-rules.yml');
const skip = existsSync(promtool) ? false : `promtool not found at ${promtool} (Debian package prometheus)`;

function run(args: string[]): string {
  try {
    return execFileSync(promtool, args, { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('alert rules', () => {
  it('cover consumer lag, dead letters, open breakers, error rate and outbox backlog', () => {
    const text = readFileSync(rulesFile, 'utf8');
    for (const alert of [
      'ConveyorConsumerLag',
      'ConveyorDeadLettersPresent',
      'ConveyorCircuitBreakerOpen',
      'ConveyorRpcErrorRate',
      'ConveyorOutboxBacklog',
      'ConveyorServiceDown',
    ]) {
      assert.match(text, new RegExp(`alert: ${alert}\\b`));
    }
  });

  it('pass promtool check rules', { skip }, () => {
    assert.match(run(['check', 'rules', rulesFile]), /SUCCESS: \d+ rules found/);
  });

  it('fire as the promtool unit tests expect (dead letters, open breaker, error rate)', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-rules-'));
    try {
      const tests = readFileSync(repoPath('test/deploy/fixtures/alert-rules.test.yml'), 'utf8');
      const file = join(dir, 'alert-rules.test.yml');
      writeFileSync(file, tests.replace('RULES_FILE', rulesFile));
      assert.match(run(['test', 'rules', file]), /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are the same groups in the k8s PrometheusRule', () => {
    const rule = parse(
      readFileSync(repoPath('deploy/k8s/components/monitoring/prometheus-rule.yaml'), 'utf8'),
    );
    assert.equal(rule.kind, 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, parse(readFileSync(rulesFile, 'utf8')).groups);
  });

  it('are loaded by the compose Prometheus', () => {
    const config = parse(readFileSync(repoPath('deploy/compose/prometheus.yml'), 'utf8'));
    assert.deepEqual(config.rule_files, ['/etc/prometheus/alert-rules.yml']);
    const compose = parse(readFileSync(repoPath('docker-compose.yml'), 'utf8'));
    assert.ok(
      compose.services.prometheus.volumes.includes(
        './deploy/compose/alert-rules.yml:/etc/prometheus/alert-rules.yml:ro',
      ),
    );
  });
});
