/**
 * The three patch kinds kustomize applies, as far as deploy/k8s needs them.
 * Strategic merge follows the Kubernetes API's patch merge keys for the list fields our
 * manifests patch; other lists are replaced, and `$patch` directives are refused.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386: objects merge, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as Json;
  }
  return out;
}

/** Patch merge keys of the Kubernetes API for list fields, by field name (and parent for ports). */
function mergeKey(field: string, parent: string | undefined, kind: string): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports':
      if (kind === 'Service' && parent === 'spec') return 'port';
      if (parent === 'container') return 'containerPort';
      return undefined;
    default:
      return undefined;
  }
}

const containerLists = new Set(['containers', 'initContainers', 'ephemeralContainers']);

export function strategicMerge(target: unknown, patch: unknown, kind: string, parent?: string): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`strategic merge directive ${key} is not supported`);
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    const mk = mergeKey(key, parent, kind);
    if (Array.isArray(value) && Array.isArray(current) && mk) {
      const childParent = containerLists.has(key) ? 'container' : key;
      const merged = current.map((item) => structuredClone(item));
      for (const item of value) {
        const at = isObject(item) ? merged.findIndex((m) => isObject(m) && m[mk] === item[mk]) : -1;
        if (at >= 0) merged[at] = strategicMerge(merged[at], item, kind, childParent) as Json;
        else merged.push(structuredClone(item));
      }
      out[key] = merged;
    } else if (isObject(value)) {
      out[key] = strategicMerge(current, value, kind, key) as Json;
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON pointer must start with "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** RFC 6902 add, remove, replace and test. */
export function applyJsonPatch(document: unknown, operations: readonly JsonPatchOperation[]): unknown {
  const root = structuredClone(document) as Json;
  for (const op of operations) {
    const parts = pointer(op.path);
    const last = parts.pop()!;
    let parent: Json = root;
    for (const part of parts) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(part)]
        : isObject(parent)
          ? parent[part]
          : undefined;
      if (next === undefined) throw new Error(`${op.op} ${op.path}: ${part} does not exist`);
      parent = next;
    }
    const value = structuredClone(op.value) as Json;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new Error(`${op.op} ${op.path}: bad index`);
      if (op.op === 'add') parent.splice(index, 0, value);
      else if (index >= parent.length) throw new Error(`${op.op} ${op.path}: no element ${index}`);
      else if (op.op === 'remove') parent.splice(index, 1);
      else if (op.op === 'replace') parent[index] = value;
      else if (JSON.stringify(parent[index]) !== JSON.stringify(value))
        throw new Error(`test ${op.path} failed`);
    } else if (isObject(parent)) {
      const exists = Object.hasOwn(parent, last);
      if (op.op === 'add') parent[last] = value;
      else if (!exists) throw new Error(`${op.op} ${op.path}: ${last} does not exist`);
      else if (op.op === 'remove') delete parent[last];
      else if (op.op === 'replace') parent[last] = value;
      else if (JSON.stringify(parent[last]) !== JSON.stringify(value))
        throw new Error(`test ${op.path} failed`);
    } else {
      throw new Error(`${op.op} ${op.path}: parent is not a container`);
    }
  }
  return root;
}
