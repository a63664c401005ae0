import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { catalog } from './catalog.ts';
import { compatibilityProblems, type JsonSchema } from './schema-compatibility.ts';

const baselineDir = fileURLToPath(new URL('../../schemas-baseline/', import.meta.url));

describe('event schema evolution', () => {
  const baseline = readdirSync(baselineDir).filter((f) => f.endsWith('.json'));

  it('has a baseline (the last released schemas)', () => {
    assert.ok(baseline.length >= 7);
  });

  for (const file of baseline) {
    it(`${file}: the catalog still reads what the released version wrote`, () => {
      const before = JSON.parse(readFileSync(`${baselineDir}${file}`, 'utf8')) as JsonSchema;
      const match = /^(.+)\.v(\d+)\.json$/.exec(file)!;
      const definition = catalog.find((d) => d.type === match[1] && d.version === Number(match[2]));
      assert.ok(
        definition,
        `${match[1]} v${match[2]} was released and must stay in the catalog (add a new version instead)`,
      );
      const after = z.toJSONSchema(definition.schema, { target: 'draft-2020-12' }) as JsonSchema;
      assert.deepEqual(compatibilityProblems(before, after), []);
    });
  }

  it('flags removals, type changes and new required fields, and allows new optional fields', () => {
    const v1: JsonSchema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    };
    assert.deepEqual(
      compatibilityProblems(v1, { ...v1, properties: { ...v1.properties, c: { type: 'string' } } }),
      [],
    );
    assert.deepEqual(compatibilityProblems(v1, { ...v1, properties: { a: { type: 'string' } } }), [
      '(data).b: removed',
    ]);
    assert.deepEqual(
      compatibilityProblems(v1, { ...v1, properties: { ...v1.properties, b: { type: 'string' } } }),
      ['(data).b: type changed from number to string'],
    );
    assert.deepEqual(compatibilityProblems(v1, { ...v1, required: ['a', 'b'] }), [
      '(data).b: became required',
    ]);
  });
});
