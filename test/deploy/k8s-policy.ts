import { type K8sObject, podSpecs } from './kustomize.ts';

/**
 * Deployment rules that schemas cannot express: what every workload here must have to run
 * safely (probes, requests and limits, a hardened security context, pinned images). Returns
 * one message per violation, naming the object and container.
 */

interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}
interface Probe {
  httpGet?: { port: number | string };
  grpc?: { port: number };
  tcpSocket?: { port: number | string };
  exec?: unknown;
}
interface PodSpec {
  securityContext?: SecurityContext;
  containers?: Container[];
  initContainers?: Container[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
}

const probePort = (probe: Probe) => probe.httpGet?.port ?? probe.grpc?.port ?? probe.tcpSocket?.port;

function containerViolations(where: string, c: Container, pod: PodSpec, longRunning: boolean): string[] {
  const out: string[] = [];
  const at = `${where} container ${c.name}`;
  for (const kind of ['cpu', 'memory']) {
    if (c.resources?.requests?.[kind] === undefined) out.push(`${at}: no ${kind} request`);
    if (c.resources?.limits?.[kind] === undefined) out.push(`${at}: no ${kind} limit`);
  }
  const sc = c.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${at}: runAsNonRoot is not true`);
  if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${at}: runs as uid 0`);
  if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: readOnlyRootFilesystem is not true`);
  if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation is not false`);
  if (sc.privileged) out.push(`${at}: privileged`);
  if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${at}: capabilities do not drop ALL`);
  if (sc.capabilities?.add?.length) out.push(`${at}: adds capabilities ${sc.capabilities.add.join(', ')}`);
  if ((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) !== 'RuntimeDefault') {
    out.push(`${at}: seccomp profile is not RuntimeDefault`);
  }
  if (!c.image || /:latest$/.test(c.image) || !/[:@]/.test(c.image.split('/').at(-1)!)) {
    out.push(`${at}: image ${c.image} is not pinned to a tag or digest`);
  }
  if (longRunning) {
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
      const p = c[probe];
      if (!p) {
        out.push(`${at}: no ${probe}`);
        continue;
      }
      const port = probePort(p);
      const known = (c.ports ?? []).some((q) => q.name === port || q.containerPort === port);
      if (port !== undefined && !known) out.push(`${at}: ${probe} port ${port} is not a container port`);
    }
  }
  return out;
}

/** Violations of the workload rules in `objects` (Deployments, StatefulSets, Jobs). */
export function policyViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    for (const pod of podSpecs(o) as PodSpec[]) {
      const where = `${o.kind}/${o.metadata.name}`;
      if (pod.hostNetwork || pod.hostPID || pod.hostIPC) out.push(`${where}: shares a host namespace`);
      if (pod.automountServiceAccountToken !== false) out.push(`${where}: mounts a service account token`);
      const longRunning = o.kind !== 'Job' && o.kind !== 'CronJob';
      if (!pod.containers?.length) out.push(`${where}: no containers`);
      for (const c of pod.containers ?? []) out.push(...containerViolations(where, c, pod, longRunning));
      for (const c of pod.initContainers ?? []) out.push(...containerViolations(where, c, pod, false));
    }
  }
  return out;
}

/** ConfigMaps and Secrets a pod spec names, wherever they appear (env, envFrom, volumes). */
function references(
  node: unknown,
  found: { kind: string; name: string }[] = [],
): { kind: string; name: string }[] {
  if (Array.isArray(node)) for (const item of node) references(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      const v = value as { name?: string; secretName?: string };
      if (key === 'configMapRef' || key === 'configMapKeyRef' || key === 'configMap')
        found.push({ kind: 'ConfigMap', name: v.name! });
      else if (key === 'secretRef' || key === 'secretKeyRef') found.push({ kind: 'Secret', name: v.name! });
      else if (key === 'secret' && v.secretName) found.push({ kind: 'Secret', name: v.secretName });
      references(value, found);
    }
  }
  return found;
}

type Selector = { matchLabels?: Record<string, string> } | Record<string, string> | undefined;

function selects(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const wanted = (selector && 'matchLabels' in selector ? selector.matchLabels : selector) as
    | Record<string, string>
    | undefined;
  if (!wanted || Object.keys(wanted).length === 0) return false;
  return Object.entries(wanted).every(([k, v]) => labels?.[k] === v);
}

/**
 * Names that must resolve inside the rendering: ConfigMaps and Secrets that pods use (unless
 * listed as created outside it), Services and PDBs that select pods, HPA targets, and the
 * ServiceMonitor's Services and port.
 */
export function referenceViolations(
  objects: readonly K8sObject[],
  external: readonly string[] = [],
): string[] {
  const out: string[] = [];
  // Secrets an operator makes from the rendering: cert-manager's Certificates, CloudNativePG's CA.
  const made = objects.flatMap((o) => {
    if (o.kind === 'Certificate') return [(o.spec as { secretName: string }).secretName];
    if (o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io/'))
      return [`${o.metadata.name}-ca`];
    return [];
  });
  const has = (kind: string, name: string) =>
    objects.some((o) => o.kind === kind && o.metadata.name === name) ||
    (kind === 'Secret' && made.includes(name));
  const templates = objects.flatMap((o) => {
    const labels = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } })?.template
      ?.metadata?.labels;
    return labels ? [{ o, labels }] : [];
  });
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    for (const pod of podSpecs(o)) {
      for (const ref of references(pod)) {
        if (!has(ref.kind, ref.name) && !external.includes(ref.name)) {
          out.push(`${where}: ${ref.kind} ${ref.name} neither rendered nor created outside (external)`);
        }
      }
      const sa = (pod as { serviceAccountName?: string }).serviceAccountName;
      if (sa && !has('ServiceAccount', sa)) out.push(`${where}: ServiceAccount ${sa} not rendered`);
    }
    const spec = o.spec as Record<string, unknown>;
    if ((o.kind === 'Service' || o.kind === 'PodDisruptionBudget') && spec?.selector) {
      const selector = spec.selector as Selector;
      if (!templates.some((t) => selects(selector, t.labels))) out.push(`${where}: selects no pod template`);
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      const target = spec.scaleTargetRef as { kind: string; name: string };
      if (!has(target.kind, target.name))
        out.push(`${where}: target ${target.kind}/${target.name} not rendered`);
    }
    if (o.kind === 'ServiceMonitor') {
      const selector = spec.selector as Selector;
      const services = objects.filter((s) => s.kind === 'Service' && selects(selector, s.metadata.labels));
      if (!services.length) out.push(`${where}: selects no Service`);
      for (const endpoint of spec.endpoints as { port?: string }[]) {
        for (const s of services) {
          const ports = (s.spec as { ports: { name?: string }[] }).ports;
          if (!ports.some((p) => p.name === endpoint.port))
            out.push(`${where}: Service ${s.metadata.name} has no port ${endpoint.port}`);
        }
      }
    }
  }
  return out;
}

// Env vars that carry credentials by their name.
const secretName = /SECRET|PASSWORD|PRIVATE_KEY|TOKEN|CREDENTIAL/;
// A literal value may only assemble other variables: `$(A)` or `name=$(A),other=$(B)`.
const assembled =
  /^(?:[a-z][a-z0-9-]*=)?\$\([A-Za-z_][A-Za-z0-9_]*\)(?:,(?:[a-z][a-z0-9-]*=)?\$\([A-Za-z_][A-Za-z0-9_]*\))*$/;

/**
 * Credentials written into the manifests: rendered Secret objects (base and prod must reference
 * Secrets created outside the repository), and env vars named like credentials with a literal
 * value instead of a secretKeyRef (or an assembly of variables that come from one).
 */
export function inlineSecretViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'Secret') out.push(`${where}: Secret rendered with its values`);
    for (const pod of podSpecs(o) as (PodSpec & { containers?: { env?: unknown[] }[] })[]) {
      const containers = [...(pod.containers ?? []), ...(pod.initContainers ?? [])] as (Container & {
        env?: { name: string; value?: string }[];
      })[];
      for (const c of containers) {
        for (const e of c.env ?? []) {
          if (secretName.test(e.name) && e.value !== undefined && !assembled.test(e.value))
            out.push(`${where} container ${c.name}: ${e.name} has a literal value, not a secretKeyRef`);
        }
      }
    }
  }
  return out;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics: an empty selector matches everything. */
function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return key in labels && values.includes(labels[key]!);
    if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key]!);
    if (operator === 'Exists') return key in labels;
    if (operator === 'DoesNotExist') return !(key in labels);
    return false;
  });
  return byLabels && byExpressions;
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface PolicyRule {
  to?: Peer[];
  from?: Peer[];
  ports?: { protocol?: string; port?: number | string }[];
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

function workload(objects: readonly K8sObject[], name: string) {
  const o = objects.find((w) => w.kind === 'Deployment' && w.metadata.name === name);
  // biome-ignore lint/suspicious/noExplicitAny: reading a rendered pod template.
  const template = (o?.spec as any)?.template;
  if (!template) throw new Error(`Deployment/${name} not rendered`);
  const ports: { name?: string; containerPort: number }[] = template.spec.containers.flatMap(
    (c: Container) => c.ports ?? [],
  );
  return { labels: (template.metadata?.labels ?? {}) as Record<string, string>, ports };
}

/**
 * Whether NetworkPolicies in one namespace let Deployment `from` open TCP `port` on Deployment
 * `to`: some egress rule of `from` (if any policy isolates its egress) and some ingress rule of
 * `to` (if any isolates its ingress) must name the other pod (same namespace: a podSelector peer
 * without namespaceSelector) and the port, by number or by the target's named container port.
 */
export function allowsConnection(
  objects: readonly K8sObject[],
  from: string,
  to: string,
  port: number,
): boolean {
  const source = workload(objects, from);
  const target = workload(objects, to);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.spec as PolicySpec);
  const portMatches = (rule: PolicyRule) =>
    !rule.ports ||
    rule.ports.some(
      (p) =>
        (p.protocol ?? 'TCP') === 'TCP' &&
        (p.port === undefined ||
          p.port === port ||
          target.ports.some((q) => q.name === p.port && q.containerPort === port)),
    );
  const direction = (
    type: 'Egress' | 'Ingress',
    subject: Record<string, string>,
    peer: Record<string, string>,
  ) => {
    const isolating = policies.filter(
      (p) =>
        matches(p.podSelector, subject) &&
        (p.policyTypes ?? (type === 'Ingress' ? ['Ingress'] : [])).includes(type),
    );
    if (!isolating.length) return true;
    return isolating.some((p) =>
      ((type === 'Egress' ? p.egress : p.ingress) ?? []).some((rule) => {
        const peers = type === 'Egress' ? rule.to : rule.from;
        const peerOk =
          !peers || peers.some((q) => q.podSelector && !q.namespaceSelector && matches(q.podSelector, peer));
        return peerOk && portMatches(rule);
      }),
    );
  };
  return (
    direction('Egress', source.labels, target.labels) && direction('Ingress', target.labels, source.labels)
  );
}
