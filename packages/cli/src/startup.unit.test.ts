import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * What a CLI process loaded, after running `args`: node_modules paths (CommonJS) and files (ES
 * modules), and Node's own internal modules.
 */
function loadedModules(args: string[]): Promise<{ files: string[]; internal: string[] }> {
  // Runs main.ts in a child that records each ES module it loads, then lists require's cache and
  // Node's module load list as the process exits.
  const probe = `
    import { createRequire, registerHooks } from 'node:module';
    const esm = [];
    registerHooks({ load(url, context, next) { esm.push(url); return next(url, context); } });
    process.on('exit', () => {
      const cache = Object.keys(createRequire(import.meta.url).cache);
      const files = [...cache.filter((p) => p.includes('node_modules')), ...esm.filter((u) => u.startsWith('file:'))];
      process.stderr.write('\\nLOADED ' + JSON.stringify({ files, internal: process.moduleLoadList }));
    });`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${probe}\nprocess.argv.splice(1, 0, ${JSON.stringify(main)});\nawait import(${JSON.stringify(main)});`,
        '--',
        ...args,
      ],
      {
        env: { ...process.env, CONVEYOR_HOME: '/nonexistent-conveyor-home', NO_COLOR: '1' },
        timeout: 20_000,
      },
      (error, _stdout, stderr) => {
        const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
        if (!line) return reject(error ?? new Error(`no module list:\n${stderr}`));
        resolve(JSON.parse(line.slice('LOADED '.length)));
      },
    );
  });
}

const loadedPackages = async (args: string[]) => (await loadedModules(args)).files;

/** The generated API modules a process loaded: users, orders, notifications, consumers. */
const generatedApis = (files: string[]) =>
  files.flatMap((f) => /\/gen\/conveyor\/([a-z]+)\/v1\//.exec(f)?.[1] ?? []).sort();

const names = (paths: string[]) =>
  [...new Set(paths.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? p))].sort();

/**
 * Every command line starts a process, so the CLI loads what the command needs and no more
 * (issue 26: CLI start ≤ 300 ms): help and argument errors load no gRPC, no generated clients, no
 * OpenTelemetry SDK and no Prometheus client; a gRPC command loads gRPC but not the platform's
 * server side (the tracing SDK, metrics, NATS, Postgres).
 */
describe('CLI start-up', () => {
  it('loads no gRPC for help or a usage error', async () => {
    for (const args of [['help'], ['orders', 'place']]) {
      const loaded = names(await loadedPackages(args));
      for (const heavy of [
        '@grpc/grpc-js',
        'protobufjs',
        '@opentelemetry/sdk-trace-node',
        'prom-client',
        'zod',
      ]) {
        assert.ok(!loaded.includes(heavy), `${args.join(' ')} loaded ${heavy}: ${loaded.join(', ')}`);
      }
    }
  });

  it('loads gRPC for a gRPC command, and none of the server side', async () => {
    const loaded = names(await loadedPackages(['orders', 'show', '00000000-0000-7000-8000-000000000000']));
    assert.ok(loaded.includes('@grpc/grpc-js'), loaded.join(', '));
    for (const heavy of [
      '@opentelemetry/sdk-trace-node',
      '@opentelemetry/sdk-trace-base',
      'prom-client',
      'pg',
      '@nats-io/nats-core',
      // grpc-health-check parses health.proto with them on import (status codes its Check itself).
      '@grpc/proto-loader',
      'protobufjs',
      // The W3C propagator: only a call inside a trace needs it, and a CLI command is in none.
      '@opentelemetry/core',
    ]) {
      assert.ok(!loaded.includes(heavy), `orders show loaded ${heavy}: ${loaded.join(', ')}`);
    }
  });

  it("loads only the API a command calls: orders show, orders' generated code alone", async () => {
    const { files } = await loadedModules(['orders', 'show', '00000000-0000-7000-8000-000000000000']);
    assert.deepEqual(generatedApis(files), ['orders']);
  });

  it('status loads no generated API and no undici (its GETs are on node:http)', async () => {
    const { files, internal } = await loadedModules(['status']);
    assert.deepEqual(generatedApis(files), []);
    assert.deepEqual(
      internal.filter((m) => m.includes('undici')),
      [],
    );
  });
});
