import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';

describe('webhook sink', () => {
  let sink: WebhookSink;
  before(async () => {
    sink = await startWebhookSink({ capacity: 3 });
  });
  after(() => sink.close());

  const deliver = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${sink.url}/hooks`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const control = (init?: RequestInit) => fetch(`${sink.url}/_sink`, init);
  const setAnswer = (answer: unknown) =>
    control({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answer }),
    });

  it('answers as told and keeps what it received, newest last', async () => {
    const accepted = await deliver('{"a":1}', {
      'conveyor-event-type': 'order.placed',
      'conveyor-event-id': 'e1',
    });
    assert.equal(accepted.status, 204);
    assert.equal((await setAnswer('refuse')).status, 200);
    assert.equal((await deliver('{"a":2}', { 'conveyor-event-type': 'order.paid' })).status, 410);
    assert.equal((await setAnswer('fail')).status, 200);
    assert.equal((await deliver('{"a":3}')).status, 503);
    const state = (await (await control()).json()) as {
      answer: string;
      received: { status: number; eventType: string; eventId: string; body: string }[];
    };
    assert.equal(state.answer, 'fail');
    assert.deepEqual(
      state.received.map((r) => [r.status, r.eventType, r.body]),
      [
        [204, 'order.placed', '{"a":1}'],
        [410, 'order.paid', '{"a":2}'],
        [503, '', '{"a":3}'],
      ],
    );
    assert.equal(state.received[0]?.eventId, 'e1');
    // The capacity (3 here) keeps the newest.
    await setAnswer('accept');
    await deliver('{"a":4}');
    assert.deepEqual(
      sink.state().received.map((r) => r.body),
      ['{"a":2}', '{"a":3}', '{"a":4}'],
    );
  });

  it('refuses a bad answer, another method and an oversized body, and stays up', async () => {
    const bad = await setAnswer('maybe');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /answer must be one of accept, refuse, fail/);
    // Over a limit, the sink answers 413 and closes without reading the rest; fetch, still sending,
    // may see the answer or the closed connection. Either way nothing was taken in.
    const tooLarge = await control({
      method: 'PUT',
      body: JSON.stringify({ answer: 'fail', pad: 'x'.repeat(5000) }),
    }).catch((error: Error) => error);
    if (!(tooLarge instanceof Error)) assert.equal(tooLarge.status, 413);
    assert.equal(sink.state().answer, 'accept', 'an oversized control body changes nothing');
    assert.equal((await control({ method: 'PUT', body: 'not json' })).status, 400);
    assert.equal((await control({ method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${sink.url}/hooks`)).status, 405);
    const kept = sink.state().received.length;
    const huge = await deliver('x'.repeat(1024 * 1024 + 1)).catch((error: Error) => error);
    if (!(huge instanceof Error)) assert.equal(huge.status, 413);
    assert.equal(sink.state().received.length, kept, 'an oversized delivery is not kept');
    // A long header is cut, never kept whole.
    await deliver('{}', { 'conveyor-event-type': 'e'.repeat(5000) });
    assert.equal(sink.state().received.at(-1)?.eventType.length, 200);
  });
});
