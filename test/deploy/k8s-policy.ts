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
  const has = (kind: string, name: string) =>
    objects.some((o) => o.kind === kind && o.metadata.name === name);
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
