import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { natsIdentities, natsPermissions } from '@conveyor/contracts';
import { parse } from 'yaml';
import { repoPath } from './kustomize.ts';

// The NATS chart's own values.yaml (vendored, chart 2.14.2) defines every key the chart reads;
// a key of ours that it lacks would be silently ignored by Helm.
const chart = parse(readFileSync(repoPath('test/deploy/fixtures/nats-chart-values.yaml'), 'utf8'));
const load = (file: string) => parse(readFileSync(repoPath('deploy/k8s/nats', file), 'utf8'));

/** Key paths in `ours` that the chart does not define; free-form maps (merge, env, …) end the walk. */
function unknownKeys(ours: unknown, theirs: unknown, path: string[] = []): string[] {
  if (!ours || typeof ours !== 'object' || Array.isArray(ours)) return [];
  // Maps the chart leaves open: templated by key (topologySpreadConstraints), or free-form.
  const open = ['merge', 'env', 'topologySpreadConstraints', 'resources', 'labels', 'contexts', 'ports'];
  if (open.includes(path.at(-1) ?? '')) return [];
  const known = theirs && typeof theirs === 'object' ? (theirs as Record<string, unknown>) : {};
  return Object.entries(ours as Record<string, unknown>).flatMap(([key, value]) =>
    key in known ? unknownKeys(value, known[key], [...path, key]) : [[...path, key].join('.')],
  );
}

describe('NATS Helm values', () => {
  it('knows when a key is not the chart’s', () => {
    assert.deepEqual(unknownKeys({ config: { jetstream: { enabled: true, fileStorage: {} } } }, chart), [
      'config.jetstream.fileStorage',
    ]);
  });

  for (const file of ['values.yaml', 'values-dev.yaml']) {
    it(`${file} uses only keys the chart defines`, () => {
      assert.deepEqual(unknownKeys(load(file), chart), []);
    });
  }

  it('prod: a 3-node cluster with JetStream file storage on volumes, spread over nodes, with a PDB and metrics', () => {
    const values = load('values.yaml');
    assert.equal(values.config.cluster.enabled, true);
    assert.equal(values.config.cluster.replicas, 3);
    assert.equal(values.config.jetstream.enabled, true);
    assert.equal(values.config.jetstream.fileStore.enabled, true);
    assert.equal(values.config.jetstream.fileStore.pvc.enabled, true);
    assert.deepEqual(Object.keys(values.podTemplate.topologySpreadConstraints), ['kubernetes.io/hostname']);
    assert.equal(values.podDisruptionBudget.enabled, true);
    assert.equal(values.promExporter.podMonitor.enabled, true);
    // 2.10 or later: consumers with several filter subjects, +TERM with a reason (ADR 0003).
    const [major, minor] = values.container.image.tag.split(/[.-]/).map(Number);
    assert.ok(major > 2 || (major === 2 && minor >= 10), `nats ${values.container.image.tag} is 2.10+`);
  });

  it('dev (layered over prod): one server with JetStream, no PodMonitor', () => {
    const values = overlay(load('values.yaml'), load('values-dev.yaml')) as typeof chart;
    assert.equal(values.config.cluster.enabled, false);
    assert.equal(values.config.jetstream.enabled, true);
    assert.equal(values.promExporter.enabled, false);
  });

  it('admits an nkey per service and the admin, with the permissions of the contracts (ADR 0025)', () => {
    const values = load('values.yaml');
    const deployed = natsIdentities.filter((id) => id !== 'test');
    const variable = (id: string) => `NKEY_${id.toUpperCase()}`;
    assert.deepEqual(
      values.config.merge.authorization.users,
      deployed.map((id) => ({
        nkey: `<< $${variable(id)} >>`,
        permissions: {
          publish: { allow: [...natsPermissions[id].publish] },
          subscribe: { allow: [...natsPermissions[id].subscribe] },
        },
      })),
    );
    for (const id of deployed) {
      assert.deepEqual(values.container.env[variable(id)], {
        valueFrom: { secretKeyRef: { name: 'conveyor-nats-public-keys', key: id } },
      });
    }
  });

  it('syncs JetStream writes to disk within a second of the PubAck (ADR 0029), with R3 streams in prod', () => {
    const values = load('values.yaml');
    assert.equal(values.config.jetstream.merge.sync_interval, '<< 1s >>');
    const dev = overlay(values, load('values-dev.yaml')) as typeof chart;
    assert.equal(dev.config.jetstream.merge.sync_interval, '<< 1s >>', 'dev keeps it too');
    const prodConfig = parse(readFileSync(repoPath('deploy/k8s/overlays/prod/config.yaml'), 'utf8'));
    assert.equal(prodConfig.data.NATS_STREAM_REPLICAS, '3');
  });

  it('serves TLS to clients in prod (cert-manager Secret nats-tls), not in dev', () => {
    assert.deepEqual(load('values.yaml').config.nats.tls, { enabled: true, secretName: 'nats-tls' });
    const dev = overlay(load('values.yaml'), load('values-dev.yaml')) as typeof chart;
    assert.equal(dev.config.nats.tls.enabled, false);
  });

  it('meets the restricted Pod Security Standard of the namespaces', () => {
    const values = load('values.yaml');
    const pod = values.podTemplate.merge.spec.securityContext;
    assert.equal(pod.runAsNonRoot, true);
    assert.ok(pod.runAsUser > 0);
    assert.equal(pod.seccompProfile.type, 'RuntimeDefault');
    for (const part of [values.container, values.reloader, values.promExporter, values.natsBox.container]) {
      assert.equal(part.merge.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(part.merge.securityContext.capabilities.drop, ['ALL']);
    }
    assert.equal(values.natsBox.podTemplate.merge.spec.securityContext.runAsNonRoot, true);
  });
});

/** Helm's layering of values files: maps merge, anything else replaces. */
function overlay(base: unknown, top: unknown): unknown {
  if (!isMap(base) || !isMap(top)) return top;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) out[key] = overlay(base[key], value);
  return out;
}
function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
