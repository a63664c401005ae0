import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressPrinter } from './rebuild-progress.ts';

function output(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text) };
}

const copying = (processed: number) => ({ phase: 'copying', processed, total: 1000 });
const swapping = { phase: 'swapping', processed: 0, total: 0 };
const done = { phase: 'done', processed: 1000, total: 1000 };

/** What the printer writes for `reports` (then finish) to a terminal or not, as text or --json. */
function printed(
  isTTY: boolean,
  json: boolean,
  reports: Parameters<ReturnType<typeof progressPrinter>['update']>[0][],
) {
  const out = output(isTTY);
  const printer = progressPrinter(out, json);
  for (const report of reports) printer.update(report);
  printer.finish();
  return out.chunks;
}

describe('progressPrinter', () => {
  it('rewrites one line per phase on a terminal', () => {
    assert.deepEqual(printed(true, false, [copying(0), copying(500), swapping, done]), [
      '\r\x1b[2Kcopying  [                    ]  0/1000  0%',
      '\r\x1b[2Kcopying  [##########          ]  500/1000  50%',
      '\n',
      '\r\x1b[2Kswapping',
      '\n',
    ]);
  });

  it('prints plain lines elsewhere, at most one per tenth, and the last of each phase', () => {
    const catchingUp = (processed: number) => ({ phase: 'catching-up', processed, total: 0 });
    const reports = [...[0, 10, 50, 99, 100, 150, 990].map(copying), ...[1, 7, 9].map(catchingUp)];
    assert.equal(
      printed(false, false, reports).join(''),
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
    assert.deepEqual(printed(true, true, [copying(10), swapping, done]), [
      '{"phase":"copying","processed":10,"total":1000}\n',
      '{"phase":"swapping","processed":0,"total":0}\n',
      '{"phase":"done","processed":1000,"total":1000}\n',
    ]);
  });
});
