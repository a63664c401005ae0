import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalog, dataSchemaUri } from '@conveyor/contracts';
import fc from 'fast-check';
import { decodeEvent, PoisonMessageError } from './cloud-event.ts';

const ceNames = [
  'ce-specversion',
  'ce-id',
  'ce-type',
  'ce-source',
  'ce-subject',
  'ce-time',
  'ce-dataschema',
  'ce-streamversion',
  'traceparent',
  'content-type',
];

/** A header value that is sometimes plausible, sometimes hostile. */
const value = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('1.0', '', ' ', 'NaN', '-1', '0', '1e309', '9007199254740993', '2026-11-24T09:30:00.000Z'),
  fc.constantFrom(...catalog.map((d) => d.type), 'order.created.', '__proto__', 'constructor'),
  fc
    .tuple(fc.constantFrom(...catalog.map((d) => d.type)), fc.integer({ min: -2, max: 100 }))
    .map(([t, v]) => (v > 0 ? dataSchemaUri(t, v) : `urn:conveyor:event:${t}:v${v}`)),
);

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
  fc
    .constantFrom(...catalog.flatMap((d): readonly unknown[] => d.examples))
    .map((e) => new TextEncoder().encode(JSON.stringify(e))),
  fc
    .constantFrom('{"__proto__":{"x":1}}', '[]', 'null', '"', '\uFEFF{}')
    .map((s) => new TextEncoder().encode(s)),
);

describe('CloudEvents decode of arbitrary input (fast-check)', () => {
  it('any header map and any bytes: an event or a PoisonMessageError with a reason, nothing else', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.constantFrom(...ceNames), fc.string({ maxLength: 20 })), value, {
          maxKeys: 12,
        }),
        payload,
        (headers, bytes) => {
          try {
            const event = decodeEvent(new Map(Object.entries(headers)), bytes);
            // Accepted only when every required attribute is present and consistent.
            assert.equal(headers['ce-specversion'], '1.0');
            assert.equal(event.dataschema, headers['ce-dataschema']);
            assert.ok(event.id && event.source && event.type);
          } catch (error) {
            assert.ok(
              error instanceof PoisonMessageError,
              `${(error as Error)?.name}: ${(error as Error)?.message}`,
            );
            assert.ok((error as Error).message.length > 0);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rejects every version not in the catalog, naming type and version', () => {
    fc.assert(
      fc.property(fc.constantFrom(...catalog), fc.integer({ min: 1, max: 10_000 }), (definition, version) => {
        fc.pre(!catalog.some((d) => d.type === definition.type && d.version === version));
        const headers = new Map([
          ['ce-specversion', '1.0'],
          ['ce-id', 'id-1'],
          ['ce-type', definition.type],
          ['ce-source', 's'],
          ['ce-time', '2026-11-24T09:30:00.000Z'],
          ['ce-dataschema', dataSchemaUri(definition.type, version)],
        ]);
        assert.throws(
          () => decodeEvent(headers, new TextEncoder().encode(JSON.stringify(definition.examples[0]))),
          (e: unknown) =>
            e instanceof PoisonMessageError && e.message === `unknown event ${definition.type} v${version}`,
        );
      }),
    );
  });
});
