import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ordersV1 } from '@conveyor/contracts';
import { requestProblem, tolerantDefinition } from './request-guard.ts';

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
});
