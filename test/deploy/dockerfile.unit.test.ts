import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { serviceRuntime } from '@conveyor/stack';
import { inBuildContext, lintDockerfile, parseDockerfile } from './dockerfile-checks.ts';
import { repoPath } from './kustomize.ts';

const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
const dockerignore = readFileSync(repoPath('.dockerignore'), 'utf8');

describe('Dockerfile', () => {
  it('passes the linter and the project rules', () => {
    assert.deepEqual(lintDockerfile(dockerfile), []);
  });

  it('fails a single-stage, root, unpinned, health-less image that ADDs a URL and installs dev dependencies', () => {
    const bad = [
      'FROM node',
      'ADD https://example.com/tool.tgz /opt/',
      'RUN apt-get install -y curl',
      'ENV API_TOKEN=abc',
      'COPY --from=builder /app /app',
      'RUN npm install',
      'CMD node main.js',
    ].join('\n');
    assert.deepEqual(lintDockerfile(bad), [
      'line 1: base image node (node) is not pinned to a version',
      'not a multi-stage build: build and runtime share one image',
      'line 2: ADD (of a URL)',
      'line 3: apt-get install without --no-install-recommends',
      'line 3: apt lists left in the layer',
      'line 3: apt package curl is not pinned to a version',
      'line 4: a secret baked into the image (ENV)',
      'line 5: COPY --from=builder names no earlier stage',
      'line 6: npm installs dev dependencies (no --omit=dev)',
      'the runtime stage runs as root (no USER)',
      'the runtime stage has no HEALTHCHECK',
      'ENTRYPOINT is missing or not in exec (JSON) form',
      'CMD is not in exec (JSON) form',
    ]);
  });

  it('reports the linter’s own findings and a named or root USER', () => {
    const problems = lintDockerfile(
      'FROM node:24-slim AS a\nFROM node:24-slim\nworkdir app\nUSER node\nHEALTHCHECK CMD ["true"]\nENTRYPOINT ["node"]\n',
    );
    assert.deepEqual(problems, [
      'line 3: Instructions should be written in uppercase letters',
      'line 3: WORKDIR paths should be absolute',
      'USER node is not numeric: Kubernetes runAsNonRoot cannot verify it',
      'PID 1 is node, not an init (tini, dumb-init)',
    ]);
    assert.ok(lintDockerfile('FROM a:1 AS b\nFROM a:1\nUSER 0\n').includes('the runtime stage runs as 0'));
  });

  it('builds per service, drops dev dependencies, runs under tini as uid 1000 with a readiness healthcheck', () => {
    const instructions = parseDockerfile(dockerfile);
    const runtime = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
    const get = (keyword: string) => runtime.filter((i) => i.keyword === keyword).map((i) => i.args);
    // The lock exactly (npm ci fails on drift), production dependencies only.
    assert.match(instructions.find((i) => i.keyword === 'RUN' && /npm ci/.test(i.args))!.args, /--omit=dev/);
    assert.deepEqual(get('USER'), ['1000:1000']);
    assert.deepEqual(get('ENTRYPOINT'), ['["/usr/bin/tini", "--", "node"]']);
    assert.match(
      runtime.find((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args))!.args,
      /"tini=\$\{TINI_VERSION\}"/,
    );
    assert.ok(
      runtime.some((i) => i.keyword === 'ARG' && /^TINI_VERSION=\d/.test(i.args)),
      'tini pinned',
    );
    assert.deepEqual(get('CMD'), ['["src/main.ts"]']);
    assert.match(get('HEALTHCHECK')[0]!, /\/readyz/);
    assert.deepEqual(get('WORKDIR').at(-1), `/app/services/$${'{SERVICE}'}`);
    assert.match(instructions[0]!.args, /^NODE_IMAGE=node:24\.\d+\.\d+-\w+-slim$/);
  });

  it('runs node with the heap and malloc settings local runs use', () => {
    const env = parseDockerfile(dockerfile)
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.ok(env.includes(`NODE_OPTIONS="${serviceRuntime.nodeOptions}"`), env);
    assert.ok(env.includes(`GLIBC_TUNABLES=${serviceRuntime.glibcTunables}`), env);
  });
});

describe('.dockerignore', () => {
  it('sends the sources, protos and manifests the image needs', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'proto/conveyor/users/v1/users.proto',
      'packages/contracts/src/grpc.ts',
      'packages/platform/src/index.ts',
      'services/users/src/main.ts',
      'services/orders/src/migrate.ts',
      'services/notifications/package.json',
    ]) {
      assert.ok(inBuildContext(path, dockerignore), path);
    }
  });

  it('keeps out installed modules, tests, test helpers, other packages and local state', () => {
    for (const path of [
      'node_modules/pg/package.json',
      'services/users/node_modules/uuid/index.js',
      'services/users/src/users.int.test.ts',
      'services/orders/src/domain/order.unit.test.ts',
      'services/orders/src/testing/order-streams.ts',
      'services/notifications/src/testing/notifications-harness.ts',
      'packages/platform/src/event-store/event-store.contract.ts',
      'packages/stack/src/index.ts',
      'packages/cli/src/main.ts',
      '.conveyor/stack.json',
      '.git/HEAD',
      'test/e2e/walking-skeleton.e2e.test.ts',
      'Dockerfile',
    ]) {
      assert.ok(!inBuildContext(path, dockerignore), path);
    }
  });

  for (const service of ['users', 'orders', 'notifications', 'gateway']) {
    it(`every path the Dockerfile copies from the build context is in it (SERVICE=${service})`, () => {
      const copies = parseDockerfile(dockerfile)
        .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
        .map((p) => p.replace(/\$\{SERVICE\}/, service).replace(/\/$/, ''));
      assert.ok(copies.length >= 8);
      for (const path of copies) assert.ok(inBuildContext(path, dockerignore), path);
      // And what the service runs: its entry point and its package manifest.
      for (const path of [`services/${service}/src/main.ts`, `services/${service}/package.json`]) {
        assert.ok(inBuildContext(path, dockerignore), path);
      }
    });
  }
});
