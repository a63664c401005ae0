import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { natsIdentities } from '@conveyor/contracts';
import { natsAuthorizationConfig } from '@conveyor/stack';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import {
  appServices,
  type ComposeFile,
  composeProblems,
  environment,
  interpolate,
  serviceSecretProblems,
} from './compose-checks.ts';
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
  it('admits only the dev nkeys, with the contracts’ permissions, and gives each service its own (ADR 0025)', () => {
    const devSecrets = parseAllDocuments(
      readFileSync(repoPath('deploy/k8s/overlays/dev/secrets.yaml'), 'utf8'),
    ).map((d) => d.toJS());
    const seeds = devSecrets.find((d) => d.metadata.name === 'conveyor-nats-identities').stringData;
    const conf = readFileSync(repoPath('deploy/compose/nats-auth.conf'), 'utf8');
    const admitted = natsIdentities.filter((id) => id !== 'test');
    assert.equal(conf.slice(conf.indexOf('authorization {')), natsAuthorizationConfig(seeds, admitted));
    assert.match(
      conf,
      /jetstream \{\n {2}sync_interval: "1s"\n\}/,
      'writes synced within a second (ADR 0029)',
    );
    assert.deepEqual(compose.services.nats?.command?.slice(0, 2), ['-c', '/etc/nats/auth.conf']);
    for (const name of ['users', 'orders', 'notifications', 'gateway']) {
      assert.equal(environment(compose.services[name]!).NATS_NKEY_SEED, seeds[name], name);
      assert.equal(environment(compose.services[name]!).NATS_ADMIN_NKEY_SEED, undefined, name);
    }
    for (const name of ['users', 'orders', 'notifications']) {
      assert.equal(environment(compose.services[`${name}-migrate`]!).NATS_ADMIN_NKEY_SEED, seeds.admin);
    }
  });

  it('connects each service as its own database role, made by the init script and granted by its migrations (ADR 0026)', () => {
    const roles = readFileSync(repoPath('deploy/compose/postgres-roles.sql'), 'utf8');
    for (const name of ['users', 'orders', 'notifications']) {
      const role = `conveyor_${name}`;
      assert.equal(new URL(environment(compose.services[name]!).DATABASE_URL!).username, role);
      assert.equal(environment(compose.services[`${name}-migrate`]!).DATABASE_SERVICE_ROLE, role);
      assert.equal(
        new URL(environment(compose.services[`${name}-migrate`]!).DATABASE_URL!).username,
        'conveyor',
      );
      assert.match(roles, new RegExp(`create role ${role} login password`));
    }
    assert.ok(
      compose.services.postgres?.volumes?.some((v) => String(v).includes('/docker-entrypoint-initdb.d/')),
    );
  });

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
      ['users', 'orders', 'notifications', 'gateway'],
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
    assert.equal(environment(compose.services.notifications!).USERS_ADDR, 'users:50051');
    assert.equal(environment(compose.services.notifications!).SMTP_URL, 'smtp://mailpit:1025?tls=off');
    const gateway = environment(compose.services.gateway!);
    assert.deepEqual(
      [gateway.USERS_ADDR, gateway.ORDERS_ADDR, gateway.NOTIFICATIONS_ADDR, gateway.ORDERS_OPS_URL],
      ['users:50051', 'orders:50052', 'notifications:50053', 'http://orders:9102'],
    );
    assert.equal(gateway.DATABASE_URL, undefined, 'the gateway owns no data');
    for (const [name] of appServices(compose).filter(([n]) => n !== 'gateway')) {
      assert.equal(environment(compose.services[name]!).NATS_URL, 'nats://nats:4222');
      assert.match(environment(compose.services[name]!).DATABASE_URL!, /@postgres:5432\/conveyor$/);
    }
  });

  it('makes the first admin once before users starts, and gives each caller its own matching secret (dev values)', () => {
    const users = environment(compose.services.users!);
    assert.equal(users.USERS_ADMIN_EMAILS, undefined, 'signing up never grants a role');
    const bootstrap = compose.services['users-bootstrap-admin']!;
    assert.deepEqual(bootstrap.command, ['src/bootstrap-admin.ts']);
    assert.equal(interpolate(environment(bootstrap).ADMIN_EMAIL!), 'admin@conveyor.local');
    assert.deepEqual(Object.keys(bootstrap.depends_on ?? {}), ['users-migrate']);
    assert.ok('users-bootstrap-admin' in (compose.services.users!.depends_on ?? {}));
    assert.equal(users.USERS_JWT_PRIVATE_KEY, undefined, 'compose is a dev setup: users generates its key');
    // The image says production (a key from a Secret required); compose is a laptop stack.
    assert.equal(users.NODE_ENV, 'development');
    assert.equal(environment(compose.services.notifications!).NODE_ENV, 'development');
    const notifications = environment(compose.services.notifications!);
    assert.equal(notifications.USERS_ADDR, 'users:50051');
    assert.match(interpolate(notifications.USERS_SERVICE_SECRET!), /dev-only/);
    // Least privilege: notifications is the only caller of IssueServiceToken, so no other service
    // (the gateway included) holds a service secret or has an entry in users' list.
    for (const [name, s] of appServices(compose).filter(([n]) => n !== 'notifications'))
      assert.equal(environment(s).USERS_SERVICE_SECRET, undefined, `${name} holds no service secret`);
    assert.match(interpolate(users.USERS_SERVICE_SECRETS!), /^notifications=[^,]+$/);
    assert.deepEqual(serviceSecretProblems(compose), []);
    // A secret set from the shell reaches both sides.
    const vars = { NOTIFICATIONS_SERVICE_SECRET: 'n'.repeat(32) };
    assert.deepEqual(serviceSecretProblems(compose, vars), []);
    assert.equal(interpolate(users.USERS_SERVICE_SECRETS!, vars), `notifications=${'n'.repeat(32)}`);
    assert.equal(interpolate(notifications.USERS_SERVICE_SECRET!, vars), 'n'.repeat(32));
  });

  it('the secret check fails when a caller and users disagree', () => {
    // Compose's ${…} written without tripping the template-string lint.
    const dollar = '$';
    const bad: ComposeFile = {
      services: {
        users: {
          environment: {
            USERS_SERVICE_SECRETS: `notifications=${dollar}{N:-aaaaaaaaaaaaaaaa},billing=short`,
          },
        },
        notifications: { environment: { USERS_SERVICE_SECRET: `${dollar}{N:-bbbbbbbbbbbbbbbb}` } },
        billing: { environment: ['USERS_SERVICE_SECRET=short'] },
        orders: { environment: { USERS_SERVICE_SECRET: 'cccccccccccccccc' } },
      },
    };
    assert.deepEqual(serviceSecretProblems(bad), [
      'users: USERS_SERVICE_SECRETS entry billing is shorter than 16 characters',
      "notifications: USERS_SERVICE_SECRET differs from its entry in users' USERS_SERVICE_SECRETS",
      "orders: has USERS_SERVICE_SECRET but is not in users' USERS_SERVICE_SECRETS",
    ]);
    assert.deepEqual(serviceSecretProblems(bad, { N: 'aaaaaaaaaaaaaaaa' }).length, 2);
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
