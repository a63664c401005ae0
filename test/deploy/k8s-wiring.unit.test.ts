import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gatewayConfigShape } from '../../services/gateway/src/config.ts';
import { notificationsConfigShape } from '../../services/notifications/src/config.ts';
import { ordersConfigShape } from '../../services/orders/src/config.ts';
import { usersConfigShape } from '../../services/users/src/config.ts';
import { type K8sObject, renderKustomization, repoPath } from './kustomize.ts';

// What the manifests name must exist in what the images run (issue 20): the image of a service
// the Dockerfile builds, an entry point in its sources, the ports its configuration listens on,
// probe paths its ops server answers, variables its configuration (or Node, OpenTelemetry, or an
// operator command) reads, and Secret keys the Secrets hold.

const reads: Record<string, Set<string>> = {
  users: new Set(Object.keys(usersConfigShape)),
  orders: new Set(Object.keys(ordersConfigShape)),
  notifications: new Set(Object.keys(notificationsConfigShape)),
  gateway: new Set(Object.keys(gatewayConfigShape)),
};
/** Read by the process, not by a service's configuration. */
const processWide = /^(NODE_ENV|NODE_OPTIONS|OTEL_[A-Z_]+)$/;
/** What an operator entry point reads beside its service's configuration. */
const entryPointReads: Record<string, string[]> = {
  'src/bootstrap-admin.ts': ['ADMIN_EMAIL', 'ADMIN_NAME', 'ADMIN_PASSWORD'],
};
const opsPaths = new Set(
  [
    ...readFileSync(repoPath('packages/platform/src/lifecycle/ops-server.ts'), 'utf8').matchAll(
      /path === '([^']+)'/g,
    ),
  ].map((m) => m[1]!),
);

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  grpc?: { port: number };
}

function containersOf(objects: K8sObject[]): { owner: string; container: Container }[] {
  return objects.flatMap((o) => {
    const pod = (
      o.spec as { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } }
    )?.template?.spec;
    if (!pod) return [];
    return [...(pod.initContainers ?? []), ...(pod.containers ?? [])].map((container) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      container,
    }));
  });
}

/** `conveyor/users`, `registry.example.com/conveyor/users:0.1.0` → users. */
const serviceOf = (image: string) => /(?:^|\/)conveyor\/([a-z]+)(?::|@|$)/.exec(image)?.[1];

/** Problems of one rendering; exported so a test can show it finds them. */
export function wiringProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap')
      .map((o) => [o.metadata.name, (o as { data?: Record<string, string> }).data ?? {}]),
  );
  const secrets = new Map(
    objects
      .filter((o) => o.kind === 'Secret')
      .map((o) => [
        o.metadata.name,
        { ...(o as { data?: object }).data, ...(o as { stringData?: object }).stringData },
      ]),
  );
  const readByAny = new Set(Object.values(reads).flatMap((s) => [...s]));
  for (const { owner, container } of containersOf(objects)) {
    const at = `${owner} ${container.name}`;
    const service = serviceOf(container.image);
    if (!service || !(service in reads)) {
      if (/conveyor\//.test(container.image))
        problems.push(`${at}: image ${container.image} is no service the Dockerfile builds`);
      continue;
    }
    const entry = container.args?.[0] ?? 'src/main.ts';
    if (!existsSync(repoPath('services', service, entry))) problems.push(`${at}: ${service} has no ${entry}`);
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    const expandedOnly = new Set(
      [...(container.env ?? [])].flatMap((e) =>
        [...(e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]!),
      ),
    );
    const allowed = new Set([...reads[service]!, ...(entryPointReads[entry] ?? [])]);
    for (const name of env.keys()) {
      if (!allowed.has(name) && !processWide.test(name) && !expandedOnly.has(name)) {
        problems.push(`${at}: sets ${name}, which ${service} (${entry}) never reads`);
      }
    }
    for (const ref of container.envFrom ?? []) {
      const data = configMaps.get(ref.configMapRef?.name ?? '') ?? {};
      for (const key of Object.keys(data)) {
        if (
          !readByAny.has(key) &&
          !processWide.test(key) &&
          !objects.some((o) => JSON.stringify(o).includes(`$(${key})`))
        ) {
          problems.push(`${at}: ConfigMap ${ref.configMapRef?.name} sets ${key}, which no service reads`);
        }
      }
    }
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      const secret = ref && secrets.get(ref.name);
      if (ref && secret && !ref.optional && !(ref.key in secret)) {
        problems.push(`${at}: Secret ${ref.name} has no key ${ref.key}`);
      }
    }
    const value = (name: string) => env.get(name)?.value;
    for (const port of container.ports ?? []) {
      const variable =
        port.name === 'ops' ? 'OPS_PORT' : service === 'gateway' ? 'GATEWAY_PORT' : 'GRPC_PORT';
      if (value(variable) !== String(port.containerPort)) {
        problems.push(
          `${at}: port ${port.name} ${port.containerPort} but ${variable}=${value(variable) ?? '(unset)'}`,
        );
      }
    }
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      if (probe?.httpGet && !opsPaths.has(probe.httpGet.path)) {
        problems.push(`${at}: probe path ${probe.httpGet.path} is not served by the ops server`);
      }
      if (probe?.httpGet && probe.httpGet.port !== 'ops')
        problems.push(`${at}: an HTTP probe not on the ops port`);
      if (probe?.grpc && String(probe.grpc.port) !== value('GRPC_PORT')) {
        problems.push(`${at}: gRPC probe on ${probe.grpc.port} but GRPC_PORT=${value('GRPC_PORT')}`);
      }
    }
  }
  return problems;
}

describe('manifests against what the images run', () => {
  it('reads the ops server paths from its source', () => {
    assert.deepEqual([...opsPaths].sort(), ['/healthz', '/metrics', '/readyz']);
  });

  for (const overlay of ['dev', 'prod']) {
    it(`${overlay}: every image, entry point, port, probe, variable and Secret key exists`, () => {
      assert.deepEqual(wiringProblems(renderKustomization(repoPath('deploy/k8s/overlays', overlay))), []);
    });
  }

  it('finds a variable no service reads, a wrong port, an unknown probe path and a missing Secret key', () => {
    const objects = renderKustomization(repoPath('deploy/k8s/overlays/dev'));
    const broken = structuredClone(objects);
    const orders = broken.find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!;
    const container = (orders.spec as { template: { spec: { containers: Container[] } } }).template.spec
      .containers[0]!;
    container.env!.push({ name: 'ORDERS_TYPO_MS', value: '1' });
    container.ports![0]!.containerPort = 50099;
    container.livenessProbe!.httpGet!.path = '/health';
    container.env!.push({
      name: 'NATS_NKEY_SEED',
      valueFrom: { secretKeyRef: { name: 'conveyor-nats-identities', key: 'order' } },
    });
    const problems = wiringProblems(broken).join('\n');
    assert.match(problems, /sets ORDERS_TYPO_MS, which orders \(src\/main.ts\) never reads/);
    assert.match(problems, /port grpc 50099 but GRPC_PORT=50052/);
    assert.match(problems, /probe path \/health is not served/);
    assert.match(problems, /Secret conveyor-nats-identities has no key order/);
  });
});
