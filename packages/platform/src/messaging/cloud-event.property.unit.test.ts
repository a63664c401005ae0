import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog } from '@conveyor/contracts';
import fc from 'fast-check';
import { decodeEvent, encodeData, newEvent, PoisonMessageError, toHeaders } from './cloud-event.ts';

const headerNames = [
  'ce-specversion',
  'ce-id',
  'ce-type',
  'ce-source',
  'ce-time',
  'ce-dataschema',
  'ce-streamversion',
];

describe('CloudEvents codec properties (fast-check)', () => {
  it('decodes every valid catalog example it encodes, and refuses the retired versions as poison', () => {
    for (const definition of catalog.filter((d) => d.retired)) {
      const event = newEvent(definition.type, definition.examples[0], {
        source: 's',
        version: definition.version,
      });
      assert.throws(
        () => decodeEvent(new Map(Object.entries(toHeaders(event))), encodeData(event)),
        (error: Error) =>
          error instanceof PoisonMessageError &&
          error.message.startsWith(`${definition.type} v${definition.version} is retired: `),
      );
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...catalog.filter((d) => !d.retired)),
        fc.integer({ min: 1, max: 1_000_000 }),
        (definition, version) => {
          const event = newEvent(definition.type, definition.examples[0], {
            source: 's',
            streamversion: version,
            version: definition.version,
          });
          assert.deepEqual(decodeEvent(new Map(Object.entries(toHeaders(event))), encodeData(event)), event);
        },
      ),
    );
  });

  it('answers any mangled message with the event or a PoisonMessageError, never another error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...catalog),
        fc.dictionary(fc.constantFrom(...headerNames), fc.string({ maxLength: 60 }), { maxKeys: 4 }),
        fc.array(fc.constantFrom(...headerNames), { maxLength: 3 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
        ),
        fc.boolean(),
        (definition, overrides, removed, payload, keepPayload) => {
          const event = newEvent(definition.type, definition.examples[0], {
            source: 's',
            version: definition.version,
          });
          const headers = new Map(Object.entries({ ...toHeaders(event), ...overrides }));
          for (const name of removed) headers.delete(name);
          try {
            decodeEvent(headers, keepPayload ? encodeData(event) : payload);
          } catch (error) {
            assert.ok(
              error instanceof PoisonMessageError,
              `${(error as Error)?.name}: ${(error as Error)?.message}`,
            );
            assert.ok((error as Error).message.length > 0);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
