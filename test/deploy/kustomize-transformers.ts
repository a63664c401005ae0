import type { K8sObject } from './kustomize.ts';

/** kustomize's namespace, labels and images transformers, for the options deploy/k8s uses. */

/** Built-in kinds get strategic merge; custom resources (e.g. postgresql.cnpg.io) JSON merge. */
export function isBuiltIn(apiVersion: string): boolean {
  const g = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return g === '' || !g.includes('.') || g.endsWith('.k8s.io');
}

export type LabelsEntry = {
  pairs: Record<string, string>;
  includeSelectors?: boolean;
  includeTemplates?: boolean;
};
export type ImageEntry = { name: string; newName?: string; newTag?: string; digest?: string };

const clusterScoped = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

export function setNamespace(o: K8sObject, namespace: string): K8sObject {
  if (clusterScoped.has(o.kind)) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}

const workloads = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export function addLabels(o: K8sObject, label: LabelsEntry): K8sObject {
  if (label.includeSelectors) throw new Error('labels with includeSelectors are not supported');
  const out = structuredClone(o);
  out.metadata.labels = { ...out.metadata.labels, ...label.pairs };
  if (label.includeTemplates && workloads.has(o.kind)) {
    const template = (out.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template;
    if (template)
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...label.pairs } };
  }
  return out;
}

/** The pod specs of a workload (built-in kinds only; a custom resource's images stay as written). */
export function podSpecs(o: K8sObject): Record<string, unknown>[] {
  const spec = o.spec as Record<string, unknown> | undefined;
  if (!spec || !isBuiltIn(o.apiVersion)) return [];
  if (o.kind === 'Pod') return [spec];
  if (o.kind === 'CronJob') {
    const job = (spec.jobTemplate as { spec?: { template?: { spec?: Record<string, unknown> } } })?.spec;
    return job?.template?.spec ? [job.template.spec] : [];
  }
  const template = spec.template as { spec?: Record<string, unknown> } | undefined;
  return workloads.has(o.kind) && template?.spec ? [template.spec] : [];
}

function imageName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

export function setImage(o: K8sObject, image: ImageEntry): K8sObject {
  const out = structuredClone(o);
  for (const pod of podSpecs(out)) {
    for (const list of ['initContainers', 'containers'] as const) {
      for (const container of (pod[list] as { image?: string }[] | undefined) ?? []) {
        if (!container.image || imageName(container.image) !== image.name) continue;
        const name = image.newName ?? image.name;
        const old = container.image.slice(imageName(container.image).length);
        const suffix = image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : old;
        container.image = `${name}${suffix}`;
      }
    }
  }
  return out;
}
