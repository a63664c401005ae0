/**
 * Regenerates what is derived from the contracts:
 *   - TypeScript for grpc-js from proto/ (buf generate → packages/contracts/src/gen)
 *   - JSON Schema for every catalog event (packages/contracts/schemas/<type>.v<N>.json)
 * With --check, writes nothing and fails when the committed files differ.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { catalog } from '@conveyor/contracts';
import { z } from 'zod';

const root = new URL('..', import.meta.url).pathname;
const checkOnly = process.argv.includes('--check');
const genDir = join(root, 'packages/contracts/src/gen');
const schemaDir = join(root, 'packages/contracts/schemas');

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(dir, join(d.parentPath, d.name)))
      .sort();
  } catch {
    return [];
  }
}

function schemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const definition of catalog) {
    const schema = z.toJSONSchema(definition.schema, { target: 'draft-2020-12' });
    const document = {
      ...schema,
      $id: `urn:conveyor:event:${definition.type}:v${definition.version}`,
      title: `${definition.type} v${definition.version}`,
      description: definition.description,
      examples: definition.examples,
    };
    files.set(`${definition.type}.v${definition.version}.json`, `${JSON.stringify(document, null, 2)}\n`);
  }
  return files;
}

function generateProtoInto(dir: string): Map<string, string> {
  execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--output', dir], {
    cwd: root,
    stdio: 'inherit',
  });
  const out = join(dir, 'packages/contracts/src/gen');
  return new Map(listFiles(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]));
}

function compare(label: string, dir: string, wanted: Map<string, string>): string[] {
  const problems: string[] = [];
  const present = new Set(listFiles(dir));
  for (const [file, content] of wanted) {
    if (!present.has(file)) problems.push(`${label}/${file} is missing`);
    else if (readFileSync(join(dir, file), 'utf8') !== content)
      problems.push(`${label}/${file} is out of date`);
  }
  for (const file of present) if (!wanted.has(file)) problems.push(`${label}/${file} is no longer generated`);
  return problems;
}

function write(dir: string, files: Map<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [file, content] of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'conveyor-gen-'));
try {
  const proto = generateProtoInto(tmp);
  const schemas = schemaFiles();
  if (checkOnly) {
    const problems = [...compare('src/gen', genDir, proto), ...compare('schemas', schemaDir, schemas)];
    if (problems.length) {
      console.error(
        `generated files differ from the contracts (run npm run gen):\n  ${problems.join('\n  ')}`,
      );
      process.exit(1);
    }
    console.log(`generated code is current (${proto.size} proto modules, ${schemas.size} event schemas)`);
  } else {
    write(genDir, proto);
    write(schemaDir, schemas);
    console.log(`wrote ${proto.size} proto modules and ${schemas.size} event schemas`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
