import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { addLabels, isBuiltIn, setImage, setNamespace } from './kustomize-transformers.ts';
import { applyJsonPatch, type JsonPatchOperation, mergePatch, strategicMerge } from './patches.ts';

export { isBuiltIn, podSpecs } from './kustomize-transformers.ts';

/** A Kubernetes object as kustomize emits it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * The subset of kustomize that deploy/k8s uses, implemented so the overlays can be rendered
 * and validated without the kustomize binary: resources (files, and directories holding a
 * kustomization), components, configMapGenerator (with disableNameSuffixHash), patches
 * (strategic merge for built-in kinds, JSON merge for custom resources, JSON 6902 with a
 * target), namespace, labels (without selectors) and images. Anything else in a
 * kustomization is an error rather than being silently ignored, so the output matches what
 * `kubectl kustomize` renders for these files.
 */
export function renderKustomization(dir: string): K8sObject[] {
  return build(resolve(dir), 'Kustomization');
}

const supported = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'labels',
  'images',
  'patches',
  'configMapGenerator',
]);

interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: PatchTarget }[];
  configMapGenerator?: {
    name: string;
    files?: string[];
    literals?: string[];
    behavior?: string;
    options?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
  }[];
}

export interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
}

export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text, { merge: true })
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS({ maxAliasCount: 100 });
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

function readKustomization(dir: string, expectedKind: 'Kustomization' | 'Component'): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  const [doc] = parseYamlDocuments(readFileSync(file, 'utf8'), file) as Kustomization[];
  if (!doc) throw new Error(`${file} is empty`);
  for (const key of Object.keys(doc)) {
    if (!supported.has(key)) throw new Error(`${file}: "${key}" is not supported by this renderer`);
  }
  if ((doc.kind ?? 'Kustomization') !== expectedKind) {
    throw new Error(`${file}: expected kind ${expectedKind}, found ${doc.kind}`);
  }
  return doc;
}

/** kustomize's load restrictor: files must lie inside the kustomization's own directory. */
function fileInside(dir: string, path: string): string {
  const full = resolve(dir, path);
  if (relative(dir, full).startsWith('..') || !`${full}${sep}`.startsWith(`${dir}${sep}`)) {
    throw new Error(`${path} is outside ${dir}; kustomize refuses to load it`);
  }
  return full;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new Error(`resource ${path} does not exist`);
  }
}

function loadResources(dir: string, k: Kustomization): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (isDirectory(path)) objects.push(...build(path, 'Kustomization'));
    else
      objects.push(
        ...(parseYamlDocuments(readFileSync(fileInside(dir, entry), 'utf8'), path) as K8sObject[]),
      );
  }
  for (const generator of k.configMapGenerator ?? []) {
    if (generator.behavior && generator.behavior !== 'create') {
      throw new Error(
        `configMapGenerator ${generator.name}: behavior ${generator.behavior} is not supported`,
      );
    }
    if (generator.options?.disableNameSuffixHash !== true) {
      throw new Error(`configMapGenerator ${generator.name}: only disableNameSuffixHash: true is supported`);
    }
    const data: Record<string, string> = {};
    for (const file of generator.files ?? []) {
      const [key, path] = file.includes('=') ? file.split('=', 2) : [basename(file), file];
      data[key!] = readFileSync(fileInside(dir, path!), 'utf8');
    }
    for (const literal of generator.literals ?? []) {
      const at = literal.indexOf('=');
      data[literal.slice(0, at)] = literal.slice(at + 1);
    }
    const labels = generator.options.labels;
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name, ...(labels ? { labels: { ...labels } } : {}) },
      data,
    });
  }
  return objects;
}

function build(dir: string, kind: 'Kustomization' | 'Component', inherited: K8sObject[] = []): K8sObject[] {
  const k = readKustomization(dir, kind);
  let objects = [...inherited, ...loadResources(dir, k)];
  for (const component of k.components ?? []) objects = build(resolve(dir, component), 'Component', objects);
  assertUniqueIds(objects, dir);
  for (const patch of k.patches ?? []) objects = applyPatch(dir, patch, objects);
  if (k.namespace) objects = objects.map((o) => setNamespace(o, k.namespace!));
  for (const label of k.labels ?? []) objects = objects.map((o) => addLabels(o, label));
  for (const image of k.images ?? []) objects = objects.map((o) => setImage(o, image));
  return objects;
}

export function objectId(o: K8sObject): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function assertUniqueIds(objects: K8sObject[], dir: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    if (!o?.apiVersion || !o.kind || !o.metadata?.name)
      throw new Error(`${dir}: an object lacks apiVersion, kind or name`);
    const id = objectId(o);
    if (seen.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
    seen.add(id);
  }
}

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const version = (apiVersion: string) => apiVersion.split('/').at(-1)!;

function matches(o: K8sObject, target: PatchTarget): boolean {
  return (
    (target.kind === undefined || target.kind === o.kind) &&
    (target.name === undefined || new RegExp(`^${target.name}$`).test(o.metadata.name)) &&
    (target.group === undefined || target.group === group(o.apiVersion)) &&
    (target.version === undefined || target.version === version(o.apiVersion))
  );
}

function applyPatch(
  dir: string,
  entry: { path?: string; patch?: string; target?: PatchTarget },
  objects: K8sObject[],
): K8sObject[] {
  const source = entry.path ? fileInside(dir, entry.path) : `${dir} (inline patch)`;
  const text = entry.path ? readFileSync(source, 'utf8') : (entry.patch ?? '');
  const docs = parseYamlDocuments(text, source);
  if (docs.length === 1 && Array.isArray(docs[0])) {
    if (!entry.target) throw new Error(`${source}: a JSON 6902 patch needs a target`);
    const target = entry.target;
    let hits = 0;
    const out = objects.map((o) => {
      if (!matches(o, target)) return o;
      hits++;
      return applyJsonPatch(o, docs[0] as JsonPatchOperation[]) as K8sObject;
    });
    if (hits === 0) throw new Error(`${source}: no object matches ${JSON.stringify(target)}`);
    return out;
  }
  let out = objects;
  for (const doc of docs as K8sObject[]) {
    const target: PatchTarget = entry.target ?? {
      kind: doc.kind,
      name: doc.metadata?.name,
      group: group(doc.apiVersion),
      version: version(doc.apiVersion),
    };
    let hits = 0;
    out = out.map((o) => {
      if (!matches(o, target)) return o;
      hits++;
      const body = {
        ...doc,
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { ...doc.metadata, name: o.metadata.name },
      };
      return (isBuiltIn(o.apiVersion) ? strategicMerge(o, body, o.kind) : mergePatch(o, body)) as K8sObject;
    });
    if (hits === 0) throw new Error(`${source}: no object matches ${JSON.stringify(target)}`);
  }
  return out;
}

/** A path inside this repository. */
export const repoPath = (...parts: string[]) =>
  join(dirname(new URL(import.meta.url).pathname), '../..', ...parts);
