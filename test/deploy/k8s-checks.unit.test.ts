import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowsConnection,
  inlineSecretViolations,
  policyViolations,
  referenceViolations,
} from './k8s-policy.ts';
import { schemaErrors } from './k8s-schemas.ts';
import type { K8sObject } from './kustomize.ts';

// The checkers must fail on bad manifests, or a green run proves nothing.

const hardened = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function deployment(container: Record<string, unknown>, pod: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { automountServiceAccountToken: false, containers: [{ name: 'web', ...container }], ...pod },
      },
    },
  };
}

const good = {
  image: 'example/web:1.2.3',
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'grpc', containerPort: 9000 },
  ],
  startupProbe: { httpGet: { path: '/healthz', port: 'http' } },
  readinessProbe: { grpc: { port: 9000 } },
  livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
  resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  securityContext: hardened,
};

describe('policyViolations', () => {
  it('passes a hardened Deployment with probes and limits', () => {
    assert.deepEqual(policyViolations([deployment(good)]), []);
  });

  it('fails a Deployment without probes', () => {
    const { startupProbe, readinessProbe, livenessProbe, ...rest } = good;
    assert.deepEqual(policyViolations([deployment(rest)]), [
      'Deployment/web container web: no startupProbe',
      'Deployment/web container web: no readinessProbe',
      'Deployment/web container web: no livenessProbe',
    ]);
  });

  it('fails a Deployment without requests and limits', () => {
    assert.deepEqual(policyViolations([deployment({ ...good, resources: { requests: { cpu: '1' } } })]), [
      'Deployment/web container web: no cpu limit',
      'Deployment/web container web: no memory request',
      'Deployment/web container web: no memory limit',
    ]);
  });

  it('fails a container that may run as root with a writable, escalatable, capable, unconfined runtime', () => {
    assert.deepEqual(
      policyViolations([deployment({ ...good, securityContext: { capabilities: { add: ['NET_ADMIN'] } } })]),
      [
        'Deployment/web container web: runAsNonRoot is not true',
        'Deployment/web container web: readOnlyRootFilesystem is not true',
        'Deployment/web container web: allowPrivilegeEscalation is not false',
        'Deployment/web container web: capabilities do not drop ALL',
        'Deployment/web container web: adds capabilities NET_ADMIN',
        'Deployment/web container web: seccomp profile is not RuntimeDefault',
      ],
    );
  });

  it('fails runAsUser 0 even when runAsNonRoot is set at pod level', () => {
    const violations = policyViolations([
      deployment(
        { ...good, securityContext: { ...hardened, runAsNonRoot: undefined, runAsUser: 0 } },
        { securityContext: { runAsNonRoot: true } },
      ),
    ]);
    assert.deepEqual(violations, ['Deployment/web container web: runs as uid 0']);
  });

  it('fails unpinned images, probes on unknown ports, host namespaces and mounted tokens', () => {
    const violations = policyViolations([
      deployment(
        { ...good, image: 'example/web:latest', readinessProbe: { httpGet: { path: '/', port: 'metrics' } } },
        { hostNetwork: true, automountServiceAccountToken: true },
      ),
      deployment({ ...good, image: 'example/web' }),
    ]);
    assert.deepEqual(violations, [
      'Deployment/web: shares a host namespace',
      'Deployment/web: mounts a service account token',
      'Deployment/web container web: image example/web:latest is not pinned to a tag or digest',
      'Deployment/web container web: readinessProbe port metrics is not a container port',
      'Deployment/web container web: image example/web is not pinned to a tag or digest',
    ]);
  });

  it('applies the same hardening to init containers and Job containers, without probes', () => {
    const { startupProbe, readinessProbe, livenessProbe, ...noProbes } = good;
    const job: K8sObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate' },
      spec: {
        template: {
          spec: {
            automountServiceAccountToken: false,
            restartPolicy: 'Never',
            initContainers: [{ ...noProbes, name: 'first', securityContext: {} }],
            containers: [{ ...noProbes, name: 'last' }],
          },
        },
      },
    };
    const violations = policyViolations([job]);
    assert.equal(violations.filter((v) => v.includes('container last')).length, 0);
    assert.ok(violations.includes('Job/migrate container first: readOnlyRootFilesystem is not true'));
  });
});

describe('schemaErrors', () => {
  it('reports what the Kubernetes schema rejects', () => {
    const bad = deployment({ ...good, readinessProbe: { grpc: { port: 'grpc' } }, image: 42 });
    const [message] = schemaErrors(bad);
    assert.match(message!, /containers\/0\/image must be string/);
    assert.match(message!, /readinessProbe\/grpc\/port must be integer/);
    assert.deepEqual(schemaErrors(deployment(good)), []);
  });

  it('refuses kinds it has no schema for', () => {
    assert.deepEqual(
      schemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      ['no schema for example.com/v1 Widget'],
    );
  });

  it('checks ServiceMonitors against the Prometheus Operator schema', () => {
    const monitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'm' },
      spec: { endpoints: [{ port: 9101 }] },
    };
    assert.match(schemaErrors(monitor)[0]!, /must have required property selector.*port must be string/);
  });

  it('checks CloudNativePG Clusters: required instances, known fields, typed values', () => {
    const cluster = (spec: Record<string, unknown>) => ({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'db' },
      spec,
    });
    assert.deepEqual(schemaErrors(cluster({ instances: 3, storage: { size: '10Gi' } })), []);
    assert.match(
      schemaErrors(cluster({ storage: { size: '10Gi' } })).join(),
      /must have required property 'instances'/,
    );
    assert.match(
      schemaErrors(cluster({ instances: 1, instnces: 3 })).join(),
      /must NOT have additional properties.*instnces/,
    );
    assert.match(schemaErrors(cluster({ instances: 0 })).join(), /must be >= 1/);
    assert.match(
      schemaErrors(cluster({ instances: 1, bootstrap: { initdb: { secret: {} } } })).join(),
      /initdb\/secret must have required property 'name'/,
    );
  });
});

describe('referenceViolations', () => {
  it('finds missing ConfigMaps and Secrets, selectors that select nothing and dangling HPA targets', () => {
    const web = deployment({
      ...good,
      envFrom: [{ configMapRef: { name: 'settings' } }],
      env: [{ name: 'P', valueFrom: { secretKeyRef: { key: 'p', name: 'db' } } }],
    });
    const objects: K8sObject[] = [
      web,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's' },
        spec: { selector: { app: 'api' }, ports: [] },
      },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'h' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, maxReplicas: 2 },
      },
    ];
    assert.deepEqual(referenceViolations(objects), [
      'Deployment/web: ConfigMap settings neither rendered nor created outside (external)',
      'Deployment/web: Secret db neither rendered nor created outside (external)',
      'Service/s: selects no pod template',
      'HorizontalPodAutoscaler/h: target Deployment/api not rendered',
    ]);
    assert.deepEqual(referenceViolations(objects.slice(0, 1), ['settings', 'db']), []);
  });
});

describe('inlineSecretViolations', () => {
  it('flags rendered Secrets and credentials written as literal env values', () => {
    const web = deployment({
      ...good,
      env: [
        { name: 'DB_PASSWORD', value: 'hunter2' },
        { name: 'USERS_SERVICE_SECRETS', value: 'a=$(A_SECRET),b=plain-text-secret' },
        { name: 'USERS_JWT_PRIVATE_KEY', valueFrom: { secretKeyRef: { name: 'k', key: 'pem' } } },
        { name: 'ALL_SECRETS', value: 'a=$(A_SECRET),b=$(B_SECRET)' },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
    });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { p: 'x' } };
    assert.deepEqual(inlineSecretViolations([web, secret]), [
      'Deployment/web container web: DB_PASSWORD has a literal value, not a secretKeyRef',
      'Deployment/web container web: USERS_SERVICE_SECRETS has a literal value, not a secretKeyRef',
      'Secret/db: Secret rendered with its values',
    ]);
    assert.deepEqual(inlineSecretViolations([deployment(good)]), []);
  });
});

describe('allowsConnection', () => {
  const pod = (name: string, component: string, port: number): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, component } },
        spec: { containers: [{ name, ports: [{ name: 'grpc', containerPort: port }] }] },
      },
    },
  });
  const policy = (name: string, spec: Record<string, unknown>): K8sObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name },
    spec,
  });
  const workloads = [pod('api', 'service', 9000), pod('edge', 'edge', 8080)];
  const denyAll = policy('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const apiIngress = policy('api-in', {
    podSelector: { matchLabels: { app: 'api' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 'grpc' }] }],
  });
  const edgeEgress = (values: string[], port: number) =>
    policy('edge-out', {
      podSelector: { matchLabels: { app: 'edge' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchExpressions: [{ key: 'component', operator: 'In', values }] } }],
          ports: [{ protocol: 'TCP', port }],
        },
      ],
    });

  it('allows what no policy isolates, and what both sides allow', () => {
    assert.equal(allowsConnection(workloads, 'edge', 'api', 9000), true);
    assert.equal(
      allowsConnection(
        [...workloads, denyAll, apiIngress, edgeEgress(['service'], 9000)],
        'edge',
        'api',
        9000,
      ),
      true,
    );
  });

  it('refuses when egress, ingress, the port or the selector does not allow it', () => {
    assert.equal(allowsConnection([...workloads, denyAll], 'edge', 'api', 9000), false);
    assert.equal(allowsConnection([...workloads, denyAll, apiIngress], 'edge', 'api', 9000), false);
    assert.equal(
      allowsConnection([...workloads, denyAll, edgeEgress(['service'], 9000)], 'edge', 'api', 9000),
      false,
    );
    assert.equal(
      allowsConnection(
        [...workloads, denyAll, apiIngress, edgeEgress(['service'], 9001)],
        'edge',
        'api',
        9000,
      ),
      false,
    );
    assert.equal(
      allowsConnection(
        [...workloads, denyAll, apiIngress, edgeEgress(['database'], 9000)],
        'edge',
        'api',
        9000,
      ),
      false,
    );
    assert.throws(
      () => allowsConnection(workloads, 'edge', 'nothing', 1),
      /Deployment\/nothing not rendered/,
    );
  });
});
