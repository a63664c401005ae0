import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userCreatedV2 } from '@conveyor/contracts';
import { decodeEvent, encodeData, newEvent, PoisonMessageError, toHeaders } from './cloud-event.ts';

const data = userCreatedV2.examples[0]!;
const headersOf = (h: Record<string, string>) => new Map(Object.entries(h));

describe('CloudEvents binary mode codec', () => {
  const event = newEvent('user.created', data, {
    source: 'conveyor/users',
    subject: data.userId,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  });

  it('writes ce-* headers, Nats-Msg-Id = event id, and a UUIDv7 id', () => {
    const headers = toHeaders(event);
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(headers['Nats-Msg-Id'], event.id);
    assert.equal(headers['ce-id'], event.id);
    assert.equal(headers['ce-specversion'], '1.0');
    assert.equal(headers['ce-type'], 'user.created');
    assert.equal(headers['ce-dataschema'], 'urn:conveyor:event:user.created:v2');
    assert.equal(headers.traceparent, event.traceparent);
  });

  it('decodes what it encodes', () => {
    assert.deepEqual(decodeEvent(headersOf(toHeaders(event)), encodeData(event)), event);
  });

  it('refuses to build an event that breaks its schema', () => {
    assert.throws(
      () => newEvent('user.created', { ...data, personalData: 'nope' }, { source: 's' }),
      /personalData/,
    );
  });

  const poison: [string, (h: Record<string, string>) => void, Uint8Array?][] = [
    ['a missing ce-type', (h) => delete h['ce-type']],
    ['another specversion', (h) => (h['ce-specversion'] = '0.3')],
    ['an unknown version', (h) => (h['ce-dataschema'] = 'urn:conveyor:event:user.created:v9')],
    ['a schema of another type', (h) => (h['ce-dataschema'] = 'urn:conveyor:event:order.paid:v1')],
    ['a bad ce-time', (h) => (h['ce-time'] = 'yesterday')],
    ['a payload that is not JSON', () => {}, new TextEncoder().encode('{not json')],
    [
      'data that breaks the schema',
      () => {},
      new TextEncoder().encode(JSON.stringify({ ...data, userId: 7 })),
    ],
  ];
  for (const [name, mutate, payload] of poison) {
    it(`rejects ${name} as poison, saying why`, () => {
      const headers = toHeaders(event);
      mutate(headers);
      assert.throws(
        () => decodeEvent(headersOf(headers), payload ?? encodeData(event)),
        (error: Error) => error instanceof PoisonMessageError && error.message.length > 10,
      );
    });
  }
});
