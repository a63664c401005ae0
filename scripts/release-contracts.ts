/**
 * Records the current contracts as the released baseline that later changes
 * must stay compatible with: proto/baseline.binpb (checked by `buf breaking`)
 * and packages/contracts/schemas-baseline/ (checked by the schema evolution
 * test). Run it when a version ships, from a clean checkout.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const status = execFileSync('git', ['status', '--porcelain', 'proto', 'packages/contracts'], {
  cwd: root,
  encoding: 'utf8',
});
if (status.trim()) {
  console.error(`commit the contract changes first:\n${status}`);
  process.exit(1);
}
execFileSync(join(root, 'node_modules/.bin/buf'), ['build', '-o', 'proto/baseline.binpb'], {
  cwd: root,
  stdio: 'inherit',
});
rmSync(join(root, 'packages/contracts/schemas-baseline'), { recursive: true, force: true });
cpSync(join(root, 'packages/contracts/schemas'), join(root, 'packages/contracts/schemas-baseline'), {
  recursive: true,
});
console.log('baseline recorded: proto/baseline.binpb, packages/contracts/schemas-baseline/');
