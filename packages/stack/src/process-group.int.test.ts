import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnService } from './process-group.ts';
import { waitUntil } from './wait-until.ts';

function collect(): { write: (text: string) => void; lines: () => string[] } {
  let out = '';
  return { write: (text) => (out += text), lines: () => out.split('\n').filter(Boolean) };
}

const script = (code: string): string[] => ['-e', code];

describe('spawnService', () => {
  it('prefixes stdout and stderr lines and renders pino JSON', async () => {
    const out = collect();
    const service = spawnService({
      name: 'orders',
      command: process.execPath,
      args: script(
        `console.log('hello'); console.error('oops'); console.log(JSON.stringify({level:30,time:Date.now(),msg:'ready',port:5}));` +
          `process.stdout.write('partial')`,
      ),
      env: { CONVEYOR_LOG_JSON: undefined },
      cwd: process.cwd(),
      color: false,
      prefixWidth: 8,
      write: out.write,
    });
    assert.ok(service.pid);
    assert.equal(await service.exited, 0);
    const lines = out.lines();
    assert.ok(lines.includes('orders   | hello'));
    assert.ok(lines.includes('orders   | oops'));
    assert.ok(lines.includes('orders   | partial'));
    assert.ok(
      lines.some((l) => /^orders {3}\| \d\d:\d\d:\d\d\.\d{3} INFO {2}ready port=5$/.test(l)),
      lines.join('\n'),
    );
    assert.equal(lines.at(-1), 'orders   | exited with code 0');
  });

  it('passes env and cwd', async () => {
    const out = collect();
    const service = spawnService({
      name: 'env',
      command: process.execPath,
      args: script('console.log(process.env.GREETING, process.cwd(), process.env.HOME === undefined)'),
      env: { GREETING: 'hi', HOME: undefined },
      cwd: '/tmp',
      color: false,
      write: out.write,
    });
    await service.exited;
    assert.match(out.lines()[0] ?? '', /\| hi \/tmp true$/);
  });

  it('stop sends SIGTERM and escalates to SIGKILL after the grace period', async () => {
    const out = collect();
    const polite = spawnService({
      name: 'polite',
      command: process.execPath,
      args: script(
        `process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`,
      ),
      env: {},
      cwd: process.cwd(),
      write: out.write,
    });
    const stubborn = spawnService({
      name: 'stubborn',
      command: process.execPath,
      args: script(`process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`),
      env: {},
      cwd: process.cwd(),
      write: out.write,
    });
    const sleeper = spawnService({
      name: 'sleeper',
      command: process.execPath,
      args: script('setInterval(() => {}, 1000);'),
      env: {},
      cwd: process.cwd(),
      write: out.write,
    });
    // Both said 'up', so both have their SIGTERM handlers: what they do on it is under test.
    await waitUntil(
      () =>
        ['polite', 'stubborn'].every((name) =>
          out.lines().some((l) => new RegExp(`^${name} +\\| up$`).test(l)),
        ),
      { timeoutMs: 5000, intervalMs: 10, message: 'the children did not start' },
    );
    const started = Date.now();
    await Promise.all([polite.stop(5000), stubborn.stop(300), sleeper.kill()]);
    assert.ok(Date.now() - started < 3000);
    assert.equal(await polite.exited, 0);
    assert.equal(await stubborn.exited, null);
    assert.equal(await sleeper.exited, null);
    const text = out.lines().join('\n');
    assert.match(text, /polite +\| bye/);
    assert.match(text, /stubborn +\| killed by SIGKILL/);
  });

  it('reports a command that cannot be started', async () => {
    const out = collect();
    const service = spawnService({
      name: 'missing',
      command: '/nonexistent/binary',
      args: [],
      env: {},
      cwd: process.cwd(),
      color: false,
      write: out.write,
    });
    assert.equal(service.pid, undefined);
    assert.equal(await service.exited, null);
    await service.stop(100);
    assert.match(out.lines().join('\n'), /missing +\| failed to start \/nonexistent\/binary: .*ENOENT/);
  });
});
