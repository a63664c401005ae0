import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { renderKustomization } from './kustomize.ts';
import { applyJsonPatch, mergePatch, strategicMerge } from './patches.ts';

describe('patches', () => {
  it('merges containers, env and ports by their keys and replaces other lists (strategic merge)', () => {
    const base = {
      spec: {
        containers: [
          {
            name: 'a',
            image: 'a:1',
            env: [{ name: 'X', value: '1' }],
            ports: [{ containerPort: 80, name: 'http' }],
          },
          { name: 'b', image: 'b:1', args: ['one'] },
        ],
      },
    };
    const patch = {
      spec: {
        containers: [
          { name: 'a', env: [{ name: 'Y', value: '2' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
          { name: 'b', args: ['two'] },
          { name: 'c', image: 'c:1' },
        ],
      },
    };
    assert.deepEqual(strategicMerge(base, patch, 'Pod'), {
      spec: {
        containers: [
          {
            name: 'a',
            image: 'a:1',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
            ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
          },
          { name: 'b', image: 'b:1', args: ['two'] },
          { name: 'c', image: 'c:1' },
        ],
      },
    });
    assert.throws(() => strategicMerge(base, { spec: { $patch: 'replace' } }, 'Pod'), /not supported/);
  });

  it('merges Service ports by port, and deletes keys set to null', () => {
    const base = { spec: { ports: [{ port: 80, name: 'http' }], type: 'ClusterIP' } };
    assert.deepEqual(
      strategicMerge(base, { spec: { ports: [{ port: 80, targetPort: 8080 }], type: null } }, 'Service'),
      {
        spec: { ports: [{ port: 80, name: 'http', targetPort: 8080 }] },
      },
    );
  });

  it('replaces lists in a JSON merge patch (custom resources)', () => {
    assert.deepEqual(mergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { d: null } }), {
      a: [3],
      b: { c: 1 },
    });
  });

  it('applies JSON 6902 add, replace, remove and test, and refuses missing paths', () => {
    const doc = { spec: { minReplicas: 2, list: ['a'] } };
    assert.deepEqual(
      applyJsonPatch(doc, [
        { op: 'test', path: '/spec/minReplicas', value: 2 },
        { op: 'replace', path: '/spec/minReplicas', value: 3 },
        { op: 'add', path: '/spec/list/-', value: 'b' },
        { op: 'remove', path: '/spec/list/0' },
      ]),
      { spec: { minReplicas: 3, list: ['b'] } },
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/maxReplicas', value: 1 }]),
      /does not exist/,
    );
    assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/minReplicas', value: 9 }]), /failed/);
  });
});

describe('renderKustomization', () => {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-kustomize-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write(
    'base/kustomization.yaml',
    'resources: [app.yaml]\nlabels:\n  - pairs: { team: shop }\n    includeTemplates: true\n',
  );
  write(
    'base/app.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      containers: [{ name: app, image: example/app, env: [{ name: A, value: '1' }] }]
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w }
spec: { sizes: [1, 2], color: red }
`,
  );
  write(
    'component/kustomization.yaml',
    'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nconfigMapGenerator:\n  - name: files\n    files: [data.json]\n    options: { disableNameSuffixHash: true, labels: { kind: data } }\n',
  );
  write('component/data.json', '{"a":1}\n');
  write(
    'overlay/kustomization.yaml',
    `namespace: shop
resources: [../base]
components: [../component]
images: [{ name: example/app, newName: registry.example.com/app, newTag: '2.0' }]
patches:
  - path: app.yaml
  - target: { kind: Widget }
    patch: |-
      - op: replace
        path: /spec/color
        value: blue
  - patch: |-
      apiVersion: example.com/v1
      kind: Widget
      metadata: { name: w }
      spec: { sizes: [3] }
`,
  );
  write(
    'overlay/app.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  template:
    spec:
      containers: [{ name: app, env: [{ name: B, value: '2' }] }]
`,
  );

  it('renders resources, components, generators, patches, namespace, labels and images', () => {
    const objects = renderKustomization(join(root, 'overlay'));
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.namespace}`),
      ['Deployment/app@shop', 'Widget/w@shop', 'ConfigMap/files@shop'],
    );
    // biome-ignore lint/suspicious/noExplicitAny: reading deep into rendered objects.
    const [app, widget, files] = objects as any[];
    assert.deepEqual(app.metadata.labels, { team: 'shop' });
    assert.deepEqual(app.spec.template.metadata.labels, { app: 'app', team: 'shop' });
    assert.deepEqual(app.spec.selector, { matchLabels: { app: 'app' } });
    assert.deepEqual(app.spec.template.spec.containers, [
      {
        name: 'app',
        image: 'registry.example.com/app:2.0',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
    ]);
    assert.deepEqual(widget.spec, { sizes: [3], color: 'blue' });
    assert.deepEqual(files.data, { 'data.json': '{"a":1}\n' });
    assert.deepEqual(files.metadata.labels, { kind: 'data' });
  });

  it('refuses fields it does not implement, files outside the root and patches that match nothing', () => {
    write('bad1/kustomization.yaml', 'resources: []\nnamePrefix: x-\n');
    assert.throws(() => renderKustomization(join(root, 'bad1')), /"namePrefix" is not supported/);
    write('bad2/kustomization.yaml', 'resources: [../base/app.yaml]\n');
    assert.throws(() => renderKustomization(join(root, 'bad2')), /outside .* kustomize refuses/);
    write(
      'bad3/kustomization.yaml',
      "resources: [../base]\npatches:\n  - target: { kind: Service }\n    patch: '[]'\n",
    );
    assert.throws(() => renderKustomization(join(root, 'bad3')), /no object matches/);
    write('bad4/kustomization.yaml', 'resources: [../base, ../base]\n');
    assert.throws(() => renderKustomization(join(root, 'bad4')), /defined twice/);
  });
});
