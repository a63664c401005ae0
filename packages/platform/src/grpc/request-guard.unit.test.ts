import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { quote } from '../errors.ts';
import { maxRequestStringLength, requestProblem, tolerantDefinition } from './request-guard.ts';
import { boundedDetails } from './unary.ts';

describe('request guard', () => {
  it('names the first field holding a NUL, in proto spelling, through messages and lists', () => {
    assert.equal(requestProblem({ email: 'a\u0000b' }), 'email: must not contain NUL characters');
    assert.equal(
      requestProblem({
        userId: '',
        items: [
          { sku: 'ok', quantity: 1 },
          { sku: '\u0000', quantity: 1 },
        ],
      }),
      'items[1].sku: must not contain NUL characters',
    );
    assert.equal(
      requestProblem({ idempotencyKey: 'k\u0000' }),
      'idempotency_key: must not contain NUL characters',
    );
  });

  it('lets ordinary requests and bytes through', () => {
    assert.equal(requestProblem({ email: 'ada@example.com', items: [{ sku: 'MUG-001' }] }), undefined);
    assert.equal(requestProblem({ payload: new Uint8Array([0, 1, 2]) }), undefined);
    assert.equal(requestProblem({}), undefined);
  });

  it('turns a request the generated decoder refuses into a marker naming why', () => {
    const definition = tolerantDefinition(ordersV1.OrderServiceService);
    // RepublishEventsRequest { from_position = 1 (int64) }: 2^63 - 1 is beyond what a JS number holds.
    const bytes = Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.throws(() => ordersV1.OrderServiceService.republishEvents.requestDeserialize(bytes));
    const decoded = definition.republishEvents!.requestDeserialize(bytes);
    assert.match(requestProblem(decoded) ?? '', /^request could not be decoded: /);
    const fine = definition.republishEvents!.requestDeserialize(Buffer.from([0x08, 0x05]));
    assert.equal(requestProblem(fine), undefined);
  });

  it('refuses a string longer than the limit by its field and length, without quoting it', () => {
    assert.equal(
      requestProblem({ items: [{ sku: 'x'.repeat(maxRequestStringLength), quantity: 1 }] }),
      undefined,
    );
    assert.equal(
      requestProblem({ items: [{ sku: 'x'.repeat(maxRequestStringLength + 1), quantity: 1 }] }),
      `items[0].sku: at most ${maxRequestStringLength} characters (got ${maxRequestStringLength + 1})`,
    );
  });
});

describe('error messages that quote input', () => {
  it('quote keeps a short value whole and cuts a long one to a prefix with its length', () => {
    assert.equal(quote('abc'), '"abc"');
    assert.equal(quote(`${'x'.repeat(40)}y`), `"${'x'.repeat(40)}"… (41 characters)`);
    assert.equal(quote('é'.repeat(50), 3), '"ééé"… (50 characters)');
  });

  it('boundedDetails keeps a message within its encoded size, counting what grpc-js percent-encodes', () => {
    assert.equal(boundedDetails('id: is required'), 'id: is required');
    const ascii = boundedDetails('x'.repeat(10_000));
    assert.ok(ascii.length <= 400 && ascii.endsWith('…'), `${ascii.length}`);
    const accented = boundedDetails('é'.repeat(10_000));
    // Each é is two UTF-8 bytes, six characters once percent-encoded.
    assert.ok([...accented].length * 6 <= 400, `${accented.length}`);
    assert.equal(boundedDetails('100% sure'), '100% sure');
  });
});
