import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@conveyor/stack';
import { specifiers } from './imports.unit.test.ts';

// An image installs only what its service and the packages it uses declare (npm ci --omit=dev on
// a subset of the workspaces): a package a service imports without declaring it works on a
// developer's machine, where everything is hoisted, and fails in its container (issue 20: orders
// imported uuid undeclared and exited at start in its image).

const inImages = [
  'packages/contracts',
  'packages/platform',
  ...['users', 'orders', 'notifications', 'gateway'].map((s) => `services/${s}`),
];
const testSupport = /(^|\/)testing\/|\.test\.ts$|\.contract\.ts$/;

/** The package a bare specifier names (`@scope/name` or `name`); undefined for paths and builtins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('/'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('dependencies each image installs', () => {
  it('reads package names from specifiers', () => {
    assert.equal(packageOf('@nats-io/jetstream'), '@nats-io/jetstream');
    assert.equal(packageOf('@conveyor/platform/auth'), '@conveyor/platform');
    assert.equal(packageOf('uuid'), 'uuid');
    assert.equal(packageOf('node:fs'), undefined);
    assert.equal(packageOf('./x.ts'), undefined);
  });

  for (const dir of inImages) {
    it(`${dir} declares every package its production sources import`, () => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8'));
      const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {})]);
      const missing = new Set<string>();
      const files = readdirSync(join(repoRoot, dir, 'src'), { recursive: true, encoding: 'utf8' }).filter(
        (f) => f.endsWith('.ts') && !testSupport.test(f),
      );
      for (const file of files) {
        for (const specifier of specifiers(readFileSync(join(repoRoot, dir, 'src', file), 'utf8'))) {
          const name = specifier.includes('*') ? undefined : packageOf(specifier);
          if (name && !declared.has(name)) missing.add(`${name} (src/${file})`);
        }
      }
      assert.deepEqual([...missing], []);
    });
  }
});
