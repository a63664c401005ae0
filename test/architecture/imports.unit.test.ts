import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@conveyor/stack';

// The arrows of docs/architecture.md, checked on the sources: production code never reaches into
// test support or tests, and a service never imports another service.

const services = ['users', 'orders', 'notifications', 'gateway'];
const testSupport = /(^|\/)testing\/|\.test\.ts$|\.contract\.ts$/;

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.includes('node_modules') && !f.includes('/gen/'))
    .map((f) => join(dir, f));
}

/** Production modules: the packages' and services' sources without tests and test support. */
const production = [
  ...readdirSync(join(repoRoot, 'packages')).flatMap((p) => sources(`packages/${p}/src`)),
  ...services.flatMap((s) => sources(`services/${s}/src`)),
].filter((f) => !testSupport.test(f));

/**
 * Every module specifier a file imports or re-exports, static or dynamic (`${…}` read as `*`), in
 * source order. Only statements count: `from '…'` in a comment or a string is not an import (an
 * import or export statement holds no parenthesis, `=` or `;` before its `from`).
 */
export function specifiers(source: string): string[] {
  const found = source.matchAll(
    /^\s*(?:import|export)\b[^;()=]*?\bfrom\s*'([^']+)'|^\s*import\s*'([^']+)'|\bimport\s*\(\s*(?:'([^']+)'|`([^`]+)`)/gm,
  );
  return [...found].map(
    (m) => (m[1] ?? m[2] ?? m[3] ?? (m[4] as string).replace(/\$\{[^}]*\}/g, '*')) as string,
  );
}

/**
 * The system builder starts services the way an operator does: it runs each service's exported
 * migrations and users' first-admin command. Those entry points, from that file, are the exception.
 */
const operatorEntryPoints = new Set(['@conveyor/*/migrations', '@conveyor/users/first-admin']);
const builder = 'packages/stack/src/system.ts';

/** Where a specifier points, as a repository path, or the package name for a bare one. */
function target(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(repoRoot, resolve(repoRoot, dirname(file), specifier));
}

function offending(check: (file: string, to: string) => boolean): string[] {
  return production.flatMap((file) =>
    specifiers(readFileSync(join(repoRoot, file), 'utf8'))
      .map((s) => target(file, s))
      .filter((to) => check(file, to))
      .map((to) => `${file} -> ${to}`),
  );
}

describe('import boundaries', () => {
  it('reads import specifiers of every form', () => {
    const source = [
      `import { a } from './a.ts';`,
      `import type { B } from "@x/b";`.replaceAll('"', "'"),
      `export { c } from '../c.ts';`,
      `import './side-effect.ts';`,
      `const d = await import('./d.ts');`,
      `import {\n  e,\n} from '@conveyor/stack/testing';`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal in it.
      'const f = await import(`@conveyor/${name}/migrations`);',
      "// read from 'rows' in a comment",
      "export function g() { return x.from === 'y'; }",
    ].join('\n');
    assert.deepEqual(specifiers(source), [
      './a.ts',
      '@x/b',
      '../c.ts',
      './side-effect.ts',
      './d.ts',
      '@conveyor/stack/testing',
      '@conveyor/*/migrations',
    ]);
  });

  it('finds the production modules', () => {
    assert.ok(production.includes('services/orders/src/domain/order.ts'));
    assert.ok(production.includes('packages/stack/src/system.ts'));
    assert.ok(!production.some((f) => f.includes('/testing/') || f.endsWith('.test.ts')));
  });

  it('production code imports no test support and no test', () => {
    const bad = offending(
      (_, to) => /(^|\/)testing(\/|$)|\.test\.ts$|\.contract\.ts$/.test(to) || to.startsWith('test/'),
    );
    assert.deepEqual(bad, []);
  });

  it('no service imports another service', () => {
    const bad = offending((file, to) => {
      if (!file.startsWith('services/')) return false;
      const own = file.split('/')[1];
      return services.some(
        (s) => s !== own && (to.startsWith(`services/${s}/`) || to.startsWith(`@conveyor/${s}`)),
      );
    });
    assert.deepEqual(bad, []);
  });

  it('shared packages import no service', () => {
    const bad = offending(
      (file, to) =>
        file.startsWith('packages/') &&
        !(file === builder && operatorEntryPoints.has(to)) &&
        (to.startsWith('@conveyor/*') ||
          services.some((s) => to.startsWith(`services/${s}/`) || to.startsWith(`@conveyor/${s}`))),
    );
    assert.deepEqual(bad, []);
  });
});
