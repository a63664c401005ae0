import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressPrinter } from './rebuild-progress.ts';

function output(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text) };
}

const copying = (processed: number) => ({ phase: 'copying', processed, total: 1000 });

describe('progressPrinter', () => {
  it('rewrites one line per phase on a terminal', () => {
    const out = output(true);
    const printer = progressPrinter(out, false);
    printer.update(copying(0));
    printer.update(copying(500));
    printer.update({ phase: 'swapping', processed: 0, total: 0 });
    printer.update({ phase: 'done', processed: 1000, total: 1000 });
    printer.finish();
    assert.deepEqual(out.chunks, [
      '\r\x1b[2Kcopying  [                    ]  0/1000  0%',
      '\r\x1b[2Kcopying  [##########          ]  500/1000  50%',
      '\n',
      '\r\x1b[2Kswapping',
      '\n',
    ]);
  });

  it('prints plain lines elsewhere, at most one per tenth, and the last of each phase', () => {
    const out = output(false);
    const printer = progressPrinter(out, false);
    for (const processed of [0, 10, 50, 99, 100, 150, 990]) printer.update(copying(processed));
    printer.update({ phase: 'catching-up', processed: 1, total: 0 });
    printer.update({ phase: 'catching-up', processed: 7, total: 0 });
    printer.update({ phase: 'catching-up', processed: 9, total: 0 });
    printer.finish();
    assert.equal(
      out.chunks.join(''),
      [
        'copying  0/1000  0%',
        'copying  100/1000  10%',
        'copying  990/1000  99%',
        'catching-up  1',
        'catching-up  9',
        '',
      ].join('\n'),
    );
  });

  it('ends an open terminal line when the stream fails, and leaves a plain one alone', () => {
    const tty = output(true);
    const onTerminal = progressPrinter(tty, false);
    onTerminal.update(copying(10));
    onTerminal.finish();
    assert.equal(tty.chunks.at(-1), '\n');
    const plain = output(false);
    const elsewhere = progressPrinter(plain, false);
    elsewhere.finish();
    assert.deepEqual(plain.chunks, []);
  });

  it('prints every report as a JSON line with --json', () => {
    const out = output(true);
    const printer = progressPrinter(out, true);
    printer.update(copying(10));
    printer.update({ phase: 'swapping', processed: 0, total: 0 });
    printer.update({ phase: 'done', processed: 1000, total: 1000 });
    printer.finish();
    assert.deepEqual(out.chunks, [
      '{"phase":"copying","processed":10,"total":1000}\n',
      '{"phase":"swapping","processed":0,"total":0}\n',
      '{"phase":"done","processed":1000,"total":1000}\n',
    ]);
  });
});
