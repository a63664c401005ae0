import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { natsIdentities } from '@conveyor/contracts';
import { natsPublicKey } from '@conveyor/stack';
import {
  allowsConnection,
  inlineSecretViolations,
  policyViolations,
  referenceViolations,
} from './k8s-policy.ts';
import { schemaErrors } from './k8s-schemas.ts';
import { type K8sObject, objectId, renderKustomization, repoPath } from './kustomize.ts';

// Secrets production creates outside the repository (docs/deploy.md); dev renders its own.
const prodSecrets = [
  'conveyor-db-app',
  'notifications-smtp',
  'users-signing-keys',
  'conveyor-service-secrets',
  'notifications-secret-keys',
  'conveyor-nats-identities',
  'conveyor-db-users',
  'conveyor-db-orders',
  'conveyor-db-notifications',
  'conveyor-db-backup',
];
const services = { users: [50051, 9101], orders: [50052, 9102], notifications: [50053, 9103] } as const;

const render = (overlay: string) => renderKustomization(repoPath('deploy/k8s/overlays', overlay));
const find = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} rendered`);
  return found as K8sObject & { spec: Record<string, unknown>; data?: Record<string, string> };
};
// biome-ignore lint/suspicious/noExplicitAny: reading deep into rendered manifests.
const podOf = (o: K8sObject): any => (o.spec as any).template.spec;

for (const [overlay, namespace, external] of [
  ['dev', 'conveyor-dev', []],
  ['prod', 'conveyor', prodSecrets],
] as const) {
  describe(`deploy/k8s/overlays/${overlay}`, () => {
    const objects = render(overlay);

    it('renders objects that all validate against their Kubernetes / operator schemas', () => {
      const errors = objects.flatMap((o) => schemaErrors(o).map((e) => `${objectId(o)}: ${e}`));
      assert.deepEqual(errors, []);
      assert.ok(objects.length > 20);
    });

    it('gives every workload probes, requests and limits, a hardened security context and pinned images', () => {
      assert.deepEqual(policyViolations(objects), []);
    });

    it('resolves every ConfigMap, Secret, selector, HPA target and ServiceMonitor port', () => {
      assert.deepEqual(referenceViolations(objects, external), []);
    });

    it(`puts everything in namespace ${namespace}`, () => {
      assert.equal(find(objects, 'Namespace', namespace).metadata.name, namespace);
      const stray = objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace);
      assert.deepEqual(stray.map(objectId), []);
    });

    it('wires each service: its ports, probes, image, migration init container, HPA, PDB and Service', () => {
      for (const [name, [grpc, ops]] of Object.entries(services)) {
        const pod = podOf(find(objects, 'Deployment', name));
        const container = pod.containers.find((c: { name: string }) => c.name === name);
        const env = Object.fromEntries(
          container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
        );
        assert.equal(env.GRPC_PORT, String(grpc));
        assert.equal(env.OPS_PORT, String(ops));
        // The kubelet's gRPC probe speaks no TLS: with TLS on (prod) readiness is /readyz instead.
        if (overlay === 'prod')
          assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
        else assert.deepEqual(container.readinessProbe.grpc, { port: grpc });
        assert.equal(container.livenessProbe.httpGet.path, '/healthz');
        assert.match(container.image, new RegExp(`conveyor/${name}:`));
        assert.deepEqual(pod.initContainers[0].args, ['src/migrate.ts']);
        assert.equal(pod.initContainers[0].image, container.image);
        // The pause before SIGTERM plus the service's own grace must fit in the pod's grace period.
        const grace = Number(find(objects, 'ConfigMap', 'conveyor-config').data?.SHUTDOWN_GRACE_MS) / 1000;
        assert.ok(pod.terminationGracePeriodSeconds > grace + container.lifecycle.preStop.sleep.seconds);
        find(objects, 'HorizontalPodAutoscaler', name);
        find(objects, 'PodDisruptionBudget', name);
        const ports = find(objects, 'Service', name).spec.ports as { name: string; port: number }[];
        assert.deepEqual(
          ports.map((p) => [p.name, p.port]),
          [
            ['grpc', grpc],
            ['ops', ops],
          ],
        );
      }
    });

    it('runs the migrations of all three services in one Job', () => {
      const pod = podOf(find(objects, 'Job', 'conveyor-migrate'));
      const steps = [...pod.initContainers, ...pod.containers];
      assert.deepEqual(
        steps.map((c: { name: string; args: string[] }) => [c.name, c.args[0]]),
        Object.keys(services).map((s) => [s, 'src/migrate.ts']),
      );
    });

    it('writes no credential as a literal env value (dev keeps its Secrets in secrets.yaml)', () => {
      const literal = inlineSecretViolations(objects).filter((v) => !v.startsWith('Secret/'));
      assert.deepEqual(literal, []);
    });

    it('wires tokens: users signs with its Secret key, notifications presents its own secret, no one else holds one', () => {
      // biome-ignore lint/suspicious/noExplicitAny: reading rendered env entries.
      const envOf = (name: string): Record<string, any> => {
        const c = podOf(find(objects, 'Deployment', name)).containers[0];
        return Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
      };
      const users = envOf('users');
      assert.deepEqual(users.USERS_JWT_PRIVATE_KEY.valueFrom.secretKeyRef, {
        name: 'users-signing-keys',
        key: 'private-key.pem',
      });
      assert.deepEqual(users.USERS_JWT_KEY_ID.valueFrom.secretKeyRef, {
        name: 'users-signing-keys',
        key: 'key-id',
      });
      // Each entry of users' list is built from the very Secret key its caller reads.
      const list = users.USERS_SERVICE_SECRETS.value as string;
      for (const caller of ['notifications']) {
        const own = envOf(caller);
        assert.equal(own.USERS_ADDR.value, 'users:50051');
        const ref = own.USERS_SERVICE_SECRET.valueFrom.secretKeyRef;
        assert.deepEqual(ref, { name: 'conveyor-service-secrets', key: caller });
        const variable = new RegExp(`(?:^|,)${caller}=\\$\\((\\w+)\\)`).exec(list)?.[1];
        assert.ok(variable, `${caller} in USERS_SERVICE_SECRETS`);
        assert.deepEqual(users[variable].valueFrom.secretKeyRef, ref);
      }
      // Least privilege: only notifications calls IssueServiceToken, so the list names no one else
      // and neither orders nor the gateway is handed a service secret.
      assert.deepEqual(
        list.split(',').map((entry) => entry.slice(0, entry.indexOf('='))),
        ['notifications'],
      );
      for (const other of ['orders', 'gateway'])
        assert.equal(envOf(other).USERS_SERVICE_SECRET, undefined, `${other} holds no service secret`);
      assert.equal(envOf('orders').USERS_ADDR.value, 'users:50051');
    });

    it('gives each service its own NATS identity and the admin identity to the migration steps only', () => {
      const seedOf = (container: { env?: { name: string; valueFrom?: { secretKeyRef?: unknown } }[] }) =>
        Object.fromEntries(
          (container.env ?? [])
            .filter((e) => e.name.startsWith('NATS_') && e.name.endsWith('NKEY_SEED'))
            .map((e) => [e.name, e.valueFrom?.secretKeyRef]),
        );
      for (const name of [...Object.keys(services), 'gateway']) {
        const pod = podOf(find(objects, 'Deployment', name));
        assert.deepEqual(seedOf(pod.containers[0]), {
          NATS_NKEY_SEED: { name: 'conveyor-nats-identities', key: name },
        });
        for (const init of pod.initContainers ?? []) {
          assert.deepEqual(seedOf(init), {
            NATS_ADMIN_NKEY_SEED: { name: 'conveyor-nats-identities', key: 'admin' },
          });
        }
      }
      const job = podOf(find(objects, 'Job', 'conveyor-migrate'));
      for (const step of [...job.initContainers, ...job.containers]) {
        assert.deepEqual(seedOf(step), {
          NATS_ADMIN_NKEY_SEED: { name: 'conveyor-nats-identities', key: 'admin' },
        });
      }
    });

    it('connects each service as its own database role; migrations run as the owner and grant it (ADR 0026)', () => {
      // biome-ignore lint/suspicious/noExplicitAny: reading rendered env entries.
      const envOf = (container: any): Record<string, any> =>
        Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
      type ManagedRole = {
        name: string;
        login?: boolean;
        passwordSecret?: { name: string };
        inRoles?: string[];
      };
      const cluster = find(objects, 'Cluster', 'conveyor-db').spec as { managed: { roles: ManagedRole[] } };
      const roles = cluster.managed.roles;
      const job = podOf(find(objects, 'Job', 'conveyor-migrate'));
      for (const name of Object.keys(services)) {
        const role = `conveyor_${name}`;
        const pod = podOf(find(objects, 'Deployment', name));
        const own = envOf(pod.containers[0]);
        assert.deepEqual(own.DB_USER.valueFrom.secretKeyRef, {
          name: `conveyor-db-${name}`,
          key: 'username',
        });
        assert.deepEqual(own.DB_PASSWORD.valueFrom.secretKeyRef, {
          name: `conveyor-db-${name}`,
          key: 'password',
        });
        assert.equal(own.DATABASE_SERVICE_ROLE, undefined);
        const steps = [
          ...pod.initContainers,
          ...[...job.initContainers, ...job.containers].filter((c: { name: string }) => c.name === name),
        ];
        for (const step of steps) {
          const env = envOf(step);
          assert.equal(env.DATABASE_SERVICE_ROLE.value, role);
          assert.equal(env.DB_USER.valueFrom.secretKeyRef.name, 'conveyor-db-app');
        }
        const managed = roles.find((r) => r.name === role);
        assert.equal(managed?.login, true);
        assert.deepEqual(managed?.passwordSecret, { name: `conveyor-db-${name}` });
        assert.ok(roles.find((r) => r.name === 'conveyor')?.inRoles?.includes(role), `owner in ${role}`);
      }
    });

    it(`${overlay === 'prod' ? 'turns TLS on' : 'leaves TLS off'} for gRPC, NATS and Postgres`, () => {
      // biome-ignore lint/suspicious/noExplicitAny: reading rendered containers.
      const envOf = (c: any): Record<string, string | undefined> =>
        Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
      const job = podOf(find(objects, 'Job', 'conveyor-migrate'));
      for (const name of [...Object.keys(services), 'gateway']) {
        const pod = podOf(find(objects, 'Deployment', name));
        const env = envOf(pod.containers[0]);
        const steps = [
          ...(pod.initContainers ?? []),
          ...[...job.initContainers, ...job.containers].filter((c: { name: string }) => c.name === name),
        ];
        if (overlay === 'dev') {
          assert.equal(env.GRPC_TLS_CA_FILE, undefined);
          assert.equal(env.NATS_TLS_CA_FILE, undefined);
          continue;
        }
        assert.equal(env.GRPC_TLS_CA_FILE, '/etc/conveyor/tls/ca.crt', name);
        assert.equal(env.NATS_TLS_CA_FILE, '/etc/conveyor/tls/ca.crt', name);
        const tls = pod.volumes.find((v: { name: string }) => v.name === 'tls');
        assert.equal(tls.secret.secretName, `${name}-tls`);
        const certificate = find(objects, 'Certificate', `${name}-tls`).spec as {
          issuerRef: { name: string };
        };
        assert.equal(certificate.issuerRef.name, 'conveyor-ca');
        if (name === 'gateway') continue;
        assert.equal(env.GRPC_TLS_CERT_FILE, '/etc/conveyor/tls/tls.crt');
        assert.equal(env.GRPC_TLS_KEY_FILE, '/etc/conveyor/tls/tls.key');
        for (const c of [pod.containers[0], ...steps]) {
          assert.match(
            envOf(c).DATABASE_URL ?? '',
            /\?sslmode=verify-full&sslrootcert=\/etc\/conveyor\/db-ca\/ca\.crt$/,
          );
        }
      }
      if (overlay === 'prod') {
        const ca = find(objects, 'Certificate', 'conveyor-ca').spec as { isCA: boolean };
        assert.equal(ca.isCA, true);
        find(objects, 'Certificate', 'nats-tls');
      }
    });

    it('lets notifications, orders and the gateway reach users on gRPC, and not the database from the gateway', () => {
      for (const caller of ['notifications', 'orders', 'gateway'])
        assert.ok(allowsConnection(objects, caller, 'users', 50051), `${caller} → users:50051`);
      assert.ok(allowsConnection(objects, 'gateway', 'orders', 50052));
      assert.equal(allowsConnection(objects, 'gateway', 'users', 9999), false);
    });

    it('lets notifications out to public addresses only, for mail and webhooks (the ranges the poster refuses)', () => {
      const egress = find(objects, 'NetworkPolicy', 'notifications-egress').spec.egress as {
        to: { ipBlock: { cidr: string; except: string[] } }[];
      }[];
      const blocks = egress.flatMap((rule) => rule.to.map((t) => t.ipBlock));
      const v4 = blocks.find((b) => b.cidr === '0.0.0.0/0');
      const v6 = blocks.find((b) => b.cidr === '::/0');
      for (const range of [
        '10.0.0.0/8',
        '100.64.0.0/10',
        '127.0.0.0/8',
        '169.254.0.0/16',
        '172.16.0.0/12',
        '192.168.0.0/16',
      ]) {
        assert.ok(v4?.except.includes(range), range);
      }
      for (const range of ['::1/128', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10', '2002::/16']) {
        assert.ok(v6?.except.includes(range), range);
      }
    });

    it('keeps a default-deny ingress policy and lets orders reach users', () => {
      const deny = find(objects, 'NetworkPolicy', 'default-deny-ingress').spec;
      assert.deepEqual(deny, { podSelector: {}, policyTypes: ['Ingress'] });
      const egress = JSON.stringify(find(objects, 'NetworkPolicy', 'conveyor-egress').spec);
      assert.match(
        egress,
        /"app.kubernetes.io\/name":"users"\}\}\}\],"ports":\[\{"protocol":"TCP","port":50051\}/,
      );
    });
  });
}

describe('overlay differences', () => {
  const dev = render('dev');
  const prod = render('prod');
  const config = (objects: K8sObject[]) => find(objects, 'ConfigMap', 'conveyor-config').data ?? {};

  it('uses R1 streams on the single dev NATS server and R3 on the 3-node prod cluster', () => {
    assert.equal(config(dev).NATS_STREAM_REPLICAS, '1');
    assert.equal(config(prod).NATS_STREAM_REPLICAS, '3');
  });

  it('runs 3 Postgres instances with a synchronous standby in prod, 1 in dev', () => {
    // biome-ignore lint/suspicious/noExplicitAny: reading deep into a rendered custom resource.
    const db = (objects: K8sObject[]) => find(objects, 'Cluster', 'conveyor-db').spec as Record<string, any>;
    assert.equal(db(dev).instances, 1);
    assert.equal(db(prod).instances, 3);
    assert.deepEqual(db(prod).postgresql.synchronous, {
      method: 'any',
      number: 1,
      dataDurability: 'required',
    });
    assert.equal(db(prod).bootstrap.initdb.secret.name, 'conveyor-db-app');
  });

  it('keeps at least 3 replicas of every service in prod (HPA), spread over nodes', () => {
    for (const name of Object.keys(services)) {
      assert.equal(find(prod, 'HorizontalPodAutoscaler', name).spec.minReplicas, 3);
      const spread = podOf(find(prod, 'Deployment', name)).topologySpreadConstraints;
      assert.deepEqual(
        spread.map((c: { topologyKey: string; whenUnsatisfiable: string }) => [
          c.topologyKey,
          c.whenUnsatisfiable,
        ]),
        [
          ['kubernetes.io/hostname', 'DoNotSchedule'],
          ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ],
      );
    }
  });

  it('backs the prod database up continuously (WAL archive, nightly base backup, 30 days), dev not at all', () => {
    type Backup = {
      retentionPolicy: string;
      barmanObjectStore: {
        destinationPath: string;
        s3Credentials: Record<string, { name: string; key: string }>;
        wal: { compression: string };
      };
    };
    const cluster = (overlay: K8sObject[]) =>
      find(overlay, 'Cluster', 'conveyor-db').spec as { backup?: Backup };
    const backup = cluster(prod).backup!;
    assert.equal(backup.retentionPolicy, '30d');
    assert.match(backup.barmanObjectStore.destinationPath, /^s3:\/\//);
    assert.equal(backup.barmanObjectStore.wal.compression, 'gzip');
    for (const ref of Object.values(backup.barmanObjectStore.s3Credentials)) {
      assert.equal(ref.name, 'conveyor-db-backup');
      assert.ok(prodSecrets.includes(ref.name), 'a Secret created outside the repository, listed');
    }
    const nightly = find(prod, 'ScheduledBackup', 'conveyor-db-nightly').spec as {
      schedule: string;
      cluster: { name: string };
    };
    assert.equal(nightly.cluster.name, 'conveyor-db');
    assert.equal(nightly.schedule.split(' ').length, 6);
    assert.equal(cluster(dev).backup, undefined);
    assert.equal(
      dev.some((o) => o.kind === 'ScheduledBackup'),
      false,
    );
  });

  it('ships the Grafana dashboard and the ServiceMonitor in prod only', () => {
    const dashboard = find(prod, 'ConfigMap', 'conveyor-grafana-dashboard');
    assert.equal(dashboard.metadata.labels?.grafana_dashboard, '1');
    assert.equal(
      dashboard.data?.['conveyor-dashboard.json'],
      readFileSync(repoPath('deploy/k8s/components/monitoring/conveyor-dashboard.json'), 'utf8'),
    );
    find(prod, 'ServiceMonitor', 'conveyor');
    assert.equal(dev.filter((o) => o.kind === 'ServiceMonitor').length, 0);
  });

  it('keeps credentials out of base: no Secret and no literal credential in its rendering', () => {
    assert.deepEqual(inlineSecretViolations(renderKustomization(repoPath('deploy/k8s/base'))), []);
  });

  it('runs users with NODE_ENV=production in prod (key required); dev makes its first admin with a Job', () => {
    assert.equal(config(prod).NODE_ENV, 'production');
    assert.equal(config(dev).NODE_ENV, 'development');
    for (const rendered of [dev, prod])
      assert.equal(config(rendered).USERS_ADMIN_EMAILS, undefined, 'removed');
    // biome-ignore lint/suspicious/noExplicitAny: reading a rendered Job.
    const job = find(dev, 'Job', 'conveyor-bootstrap-admin') as any;
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(container.args, ['src/bootstrap-admin.ts']);
    assert.deepEqual(
      job.spec.template.spec.initContainers[0].args,
      ['src/migrate.ts'],
      'users migrated first',
    );
    type EnvVar = { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
    const fromSecret = Object.fromEntries(
      (container.env as EnvVar[]).flatMap((e) =>
        e.valueFrom?.secretKeyRef ? [[e.name, e.valueFrom.secretKeyRef]] : [],
      ),
    );
    assert.deepEqual(fromSecret.ADMIN_EMAIL, { name: 'conveyor-first-admin', key: 'email' });
    assert.deepEqual(fromSecret.ADMIN_PASSWORD, { name: 'conveyor-first-admin', key: 'password' });
    assert.equal(
      prod.filter((o) => o.kind === 'Job' && o.metadata.name === 'conveyor-bootstrap-admin').length,
      0,
      'production makes its first admin by hand',
    );
  });

  it('renders no Secret in prod, and dev secrets only with development values', () => {
    assert.deepEqual(inlineSecretViolations(prod), []);
    // biome-ignore lint/suspicious/noExplicitAny: reading rendered Secrets.
    const secret = (name: string) => find(dev, 'Secret', name) as any;
    const signing = secret('users-signing-keys').stringData;
    assert.match(signing['key-id'], /^dev-only-/);
    assert.match(
      signing['private-key.pem'],
      /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]+\n-----END PRIVATE KEY-----\n$/,
    );
    const serviceSecrets = secret('conveyor-service-secrets').stringData;
    assert.deepEqual(
      Object.keys(serviceSecrets),
      ['notifications'],
      'one key per caller of IssueServiceToken',
    );
    for (const value of Object.values(serviceSecrets) as string[]) {
      assert.match(value, /dev-only/);
      assert.ok(value.length >= 16);
    }
    // nkeys: a seed per deployed identity, and the public keys NATS admits derived from them.
    const seeds = secret('conveyor-nats-identities').stringData as Record<string, string>;
    const publicKeys = secret('conveyor-nats-public-keys').stringData as Record<string, string>;
    const deployed = natsIdentities.filter((id) => id !== 'test');
    assert.deepEqual(Object.keys(seeds), deployed);
    for (const id of deployed) assert.equal(natsPublicKey(seeds[id]!), publicKeys[id], id);
    const db = find(dev, 'Secret', 'conveyor-db-app') as unknown as K8sObject & {
      type: string;
      stringData: Record<string, string>;
    };
    assert.equal(db.type, 'kubernetes.io/basic-auth');
    assert.match(db.stringData.password!, /dev/);
    for (const name of Object.keys(services)) {
      const own = secret(`conveyor-db-${name}`);
      assert.equal(own.type, 'kubernetes.io/basic-auth');
      assert.equal(own.stringData.username, `conveyor_${name}`);
      assert.match(own.stringData.password, /dev-only/);
    }
  });
});
