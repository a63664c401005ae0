import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { appServices, type ComposeFile, composeProblems, environment } from './compose-checks.ts';
import { repoPath } from './kustomize.ts';

const root = repoPath();
const compose = parse(readFileSync(repoPath('docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;

// The Compose Specification's JSON Schema (vendored from compose-spec/compose-spec, schema/compose-spec.json).
const { $schema: _, ...specSchema } = JSON.parse(
  readFileSync(repoPath('test/deploy/fixtures/compose-spec.json'), 'utf8'),
);
const validateSpec = new Ajv({ allErrors: true, strict: false }).compile(specSchema);
const specErrors = (doc: unknown) =>
  validateSpec(doc) ? [] : (validateSpec.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const ops = { users: '9101', orders: '9102', notifications: '9103' } as const;

describe('docker-compose.yml', () => {
  it('validates against the compose-spec JSON schema', () => {
    assert.deepEqual(specErrors(compose), []);
  });

  it('the schema check fails on a malformed file', () => {
    assert.ok(
      specErrors({ services: { web: { image: 'x:1', ports: 'not-a-list', restart: 1, unknown_key: true } } })
        .length >= 3,
    );
  });

  it('pins images, binds ports to loopback, hardens the services and starts them after their migrations', () => {
    assert.deepEqual(composeProblems(compose, root), []);
  });

  it('the rule check fails on a careless file', () => {
    const careless: ComposeFile = {
      services: {
        db: { image: 'postgres', ports: ['5432:5432'], volumes: ['data:/var/lib/postgresql/data'] },
        api: {
          build: { context: '.', args: { SERVICE: 'users' } },
          depends_on: ['cache'],
          volumes: ['./nope.yml:/x'],
        },
      },
    };
    assert.deepEqual(composeProblems(careless, root), [
      'db: image postgres is not pinned to a version',
      'db: port "5432:5432" is not bound to 127.0.0.1',
      'db: named volume data is not declared',
      'api: depends on unknown service cache',
      'api: mounts missing ./nope.yml',
      'api: root filesystem is not read-only',
      'api: capabilities are not all dropped',
      'api: no-new-privileges not set',
      'api: stop_grace_period 10s does not exceed SHUTDOWN_GRACE_MS',
      'api: does not wait for a migration to complete',
    ]);
  });

  it('runs the full stack: NATS 2.10+ with JetStream, Postgres, three services with migrations, tracing, metrics, dashboards, a mail sink', () => {
    const s = compose.services;
    const [major, minor] = s.nats!.image!.split(':')[1]!.split(/[.-]/).map(Number) as [number, number];
    assert.ok(major > 2 || minor >= 10, 'NATS 2.10 or later');
    assert.ok((s.nats!.command as string[]).includes('--jetstream'));
    assert.match(s.postgres!.image!, /^postgres:/);
    assert.deepEqual(
      appServices(compose).map(([name]) => name),
      ['users', 'orders', 'notifications'],
    );
    for (const name of Object.keys(ops)) {
      assert.deepEqual(s[`${name}-migrate`]?.command, ['src/migrate.ts']);
      assert.equal(s[`${name}-migrate`]?.image, s[name]?.image);
    }
    assert.match(s.jaeger!.image!, /jaegertracing\//);
    assert.match(s.prometheus!.image!, /^prom\/prometheus:/);
    assert.match(s.grafana!.image!, /^grafana\/grafana:/);
    assert.match(s.mailpit!.image!, /mailpit:/);
  });

  it('points each service at its peers: users for orders, the mail sink for notifications', () => {
    assert.equal(environment(compose.services.orders!).USERS_ADDR, 'users:50051');
    assert.equal(environment(compose.services.notifications!).SMTP_URL, 'smtp://mailpit:1025?tls=off');
    for (const [name] of appServices(compose)) {
      assert.equal(environment(compose.services[name]!).NATS_URL, 'nats://nats:4222');
      assert.match(environment(compose.services[name]!).DATABASE_URL!, /@postgres:5432\/conveyor$/);
    }
  });

  it('has Prometheus scrape every service’s ops port and Grafana read Prometheus', () => {
    const prometheus = parse(readFileSync(repoPath('deploy/compose/prometheus.yml'), 'utf8'));
    const targets = prometheus.scrape_configs
      .flatMap((job: { static_configs: { targets: string[] }[] }) => job.static_configs)
      .flatMap((c: { targets: string[] }) => c.targets);
    for (const [name, port] of Object.entries(ops))
      assert.ok(targets.includes(`${name}:${port}`), `${name}:${port}`);
    const datasource = parse(
      readFileSync(repoPath('deploy/compose/grafana/provisioning/datasources/prometheus.yaml'), 'utf8'),
    );
    assert.equal(datasource.datasources[0].url, 'http://prometheus:9090');
  });
});
