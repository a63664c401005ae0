import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine, parsePinoLine } from './pino-line.ts';

const time = new Date(2024, 0, 2, 3, 4, 5, 6).getTime();
const line = (record: object): string =>
  JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', ...record });

describe('formatLogLine', () => {
  it('leaves non-pino lines alone', () => {
    for (const text of ['plain text', '{"not":"pino"}', '{broken', '[1,2]', '{"level":"loud","time":1}']) {
      assert.equal(formatLogLine(text, false), text);
    }
    assert.equal(parsePinoLine('{"level":30}'), undefined);
  });

  it('reads level labels as Conveyor logs them, and hides the service already in the prefix', () => {
    const text = formatLogLine(
      '{"level":"warn","time":"2026-01-02T03:04:05.006Z","service":"users","msg":"hi"}',
      false,
    );
    assert.match(text, /^\d\d:\d\d:05\.006 WARN {2}hi$/);
  });

  it('renders level, time, message and compact extra keys', () => {
    const text = formatLogLine(
      line({ msg: 'order placed', orderId: 'o-1', total: 12.5, note: 'two words' }),
      false,
    );
    assert.equal(text, '03:04:05.006 INFO  order placed orderId=o-1 total=12.5 note="two words"');
  });

  it('summarises errors and appends stacks for error records', () => {
    const err = {
      type: 'TypeError',
      message: 'boom',
      stack: 'TypeError: boom\n    at a (x.ts:1:1)\n    at b (y.ts:2:2)',
    };
    const text = formatLogLine(line({ level: 50, msg: 'failed', err }), false);
    assert.equal(
      text,
      '03:04:05.006 ERROR failed err="TypeError: boom"\n    at a (x.ts:1:1)\n    at b (y.ts:2:2)',
    );
    assert.equal(
      formatLogLine(line({ level: 40, msg: 'slow', err }), false),
      '03:04:05.006 WARN  slow err="TypeError: boom"',
    );
  });

  it('limits and truncates extra keys', () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    assert.match(formatLogLine(line({ msg: 'm', ...many }), false), /k7=7 \(\+2 more\)$/);
    const long = formatLogLine(line({ msg: 'm', blob: 'x'.repeat(500) }), false);
    assert.ok(long.length < 200);
    assert.ok(long.endsWith('…'));
  });

  it('colours when asked', () => {
    assert.ok(formatLogLine(line({ msg: 'hi' }), true).includes('\u001b[32mINFO'));
  });
});
