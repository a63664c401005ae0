import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The CommonJS packages a CLI process loaded, after running `args` (node_modules paths). */
function loadedPackages(args: string[]): Promise<string[]> {
  // Runs main.ts in a child, then lists require's cache as the process exits.
  const probe = `
    import { createRequire } from 'node:module';
    process.on('exit', () => {
      const cache = Object.keys(createRequire(import.meta.url).cache);
      process.stderr.write('\\nLOADED ' + JSON.stringify(cache.filter((p) => p.includes('node_modules'))));
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
        resolve(JSON.parse(line.slice('LOADED '.length)) as string[]);
      },
    );
  });
}

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
});
