import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repoRoot } from '@conveyor/stack';
import { containerFailures, formatContainersReport, runContainers, SERVICES } from './run-containers.ts';

// The variables compose gives that this run may point elsewhere: endpoints and ports only.
const endpoints = new Set([
  'DATABASE_URL',
  'NATS_URL',
  'SMTP_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'USERS_ADDR',
  'ORDERS_ADDR',
  'NOTIFICATIONS_ADDR',
  'USERS_OPS_URL',
  'ORDERS_OPS_URL',
  'NOTIFICATIONS_OPS_URL',
  'OPS_PORT',
  'GRPC_PORT',
  'GATEWAY_PORT',
]);

describe('the four images, built with podman and run as compose runs them (issue 20)', () => {
  it('build, become healthy, take an order to its mail through the gateway, and exit 0 on SIGTERM in time', {
    timeout: 20 * 60_000,
  }, async (t) => {
    const report = await runContainers(repoRoot, (line) => t.diagnostic(line));
    t.diagnostic(formatContainersReport(report));
    assert.deepEqual(containerFailures(report), []);
    assert.deepEqual(
      report.containers.map((c) => c.service),
      [...SERVICES],
    );
    for (const [name, keys] of Object.entries(report.replaced)) {
      assert.deepEqual(
        keys.filter((k) => !endpoints.has(k)),
        [],
        `${name} ran with compose's environment but its endpoints`,
      );
    }
  });

  it('fails a report with a container that did not exit 0 or stopped too slowly', () => {
    const healthy = { imageMb: 1, buildSeconds: 1, readySeconds: 1 };
    const failures = containerFailures({
      workarounds: [],
      replaced: {},
      baseImageSeconds: undefined,
      orderMailSeconds: 1,
      containers: [
        { service: 'users', ...healthy, stopSeconds: 0.2, exitCode: 0 },
        { service: 'orders', ...healthy, stopSeconds: 15.2, exitCode: 137 },
      ],
    });
    assert.deepEqual(failures, ['orders exited 137 on SIGTERM', 'orders took 15.2 s to stop (grace 10 s)']);
  });
});
