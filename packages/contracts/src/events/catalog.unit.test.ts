import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog, findEventDefinition, latestEventDefinition } from './catalog.ts';
import { dataSchemaUri, parseDataSchemaUri } from './define-event.ts';
import { Streams } from './streams.ts';

describe('event catalog', () => {
  it('has one entry per (type, version)', () => {
    const keys = catalog.map((d) => `${d.type}@${d.version}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  for (const definition of catalog) {
    const name = `${definition.type} v${definition.version}`;
    it(`${name}: every example validates and the subject belongs to its stream`, () => {
      assert.ok(definition.examples.length > 0, 'needs an example');
      for (const example of definition.examples) {
        const result = definition.schema.safeParse(example);
        assert.ok(result.success, result.error?.message);
      }
      const stream = Object.values(Streams).find((s) => s.name === definition.stream);
      assert.ok(stream, `unknown stream ${definition.stream}`);
      const prefix = stream.subjects[0].replace('>', '');
      assert.ok(definition.type.startsWith(prefix), `${definition.type} is not under ${stream.subjects[0]}`);
    });
    it(`${name}: its sequence key is a required id of every example`, () => {
      for (const example of definition.examples) {
        const key = (example as Record<string, unknown>)[definition.sequenceKey];
        assert.match(
          String(key),
          /^[0-9a-f-]{36}$/,
          `${definition.sequenceKey} of ${JSON.stringify(example)}`,
        );
      }
      const withoutKey = { ...(definition.examples[0] as object) } as Record<string, unknown>;
      delete withoutKey[definition.sequenceKey];
      assert.equal(definition.schema.safeParse(withoutKey).success, false);
    });
    it(`${name}: rejects an empty object`, () => {
      assert.equal(definition.schema.safeParse({}).success, false);
    });
  }

  it('round-trips dataschema URIs and rejects others', () => {
    assert.deepEqual(parseDataSchemaUri(dataSchemaUri('order.created', 3)), {
      type: 'order.created',
      version: 3,
    });
    assert.equal(parseDataSchemaUri('urn:conveyor:event:order.created:v0'), undefined);
    assert.equal(parseDataSchemaUri('https://example.com/schema.json'), undefined);
  });

  it('finds definitions by type and version', () => {
    assert.equal(findEventDefinition('user.created', 1)?.type, 'user.created');
    assert.equal(findEventDefinition('user.created', 99), undefined);
    assert.equal(latestEventDefinition('order.shipped').version, 1);
  });
});
