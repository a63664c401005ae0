import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { probeReadyz } from './launcher/readyz.ts';
import { isAlive } from './launcher/stack-file.ts';
import { canConnect } from './net-utils.ts';
import { type System, startSystem } from './system.ts';
import { type TestNats, testAdminUrl, testNats } from './throwaway.ts';
import { waitUntil } from './wait-until.ts';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testAdminUrl() });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

// The example of docs/architecture.md ("Starting the system"), run as written.
describe('the system builder (real Postgres, NATS and service processes)', () => {
  let nats: TestNats | undefined;
  let link: FaultProxy | undefined;
  let system: System | undefined;
  after(async () => {
    await system?.stop();
    await link?.close();
    await nats?.stop();
  });

  it('starts two replicas of orders behind a NATS link a test can cut, restarts one, and stops everything', async () => {
    nats = await testNats();
    link = await startFaultProxy(nats.port);
    system = await startSystem({
      name: 'orders_cut',
      services: ['users', 'orders'],
      replicas: { orders: 2 },
      infra: { natsUrl: nats.url, smtp: false },
      env: { orders: { NATS_URL: `nats://${link.address}` } },
    });
    const [first, second] = system.replicas('orders');
    assert.ok(first && second);
    assert.notEqual(first.grpcPort, second.grpcPort);
    // Orders calls users: it was told where users is.
    assert.equal(first.env.USERS_ADDR, system.address('users'));
    const ready = async (opsUrl: string) => (await probeReadyz(opsUrl)).ready;

    // A stalled link, cut: the orders replicas lose NATS and say so; users, on NATS directly, does not.
    link.set({ kind: 'stall' });
    link.cut();
    await waitUntil(async () => !(await ready(first.opsUrl)) && !(await ready(second.opsUrl)), {
      timeoutMs: 15_000,
      message: 'orders stayed ready without NATS',
    });
    assert.ok(await ready(system.service('users').opsUrl));
    link.set({ kind: 'pass' });
    await waitUntil(async () => (await ready(first.opsUrl)) && (await ready(second.opsUrl)), {
      timeoutMs: 15_000,
      message: 'orders did not recover when the link came back',
    });

    // Killed and started again on the same ports.
    await second.process.kill();
    const again = await system.restart(second);
    assert.equal(again.grpcPort, second.grpcPort);
    assert.ok(await ready(again.opsUrl));
    assert.equal(system.service('orders', 1), again);

    const pids = [...system.replicas('users'), ...system.replicas('orders')].map((s) => s.process.pid);
    const database = system.db.name;
    assert.ok(await databaseExists(database));
    const stopped = await system.stop();
    system = undefined;
    assert.match(stopped, /^services stopped: users \(exit 0\), orders \(exit 0\), orders-1 \(exit 0\)$/);
    assert.deepEqual(
      pids.filter((pid) => pid !== undefined && isAlive(pid)),
      [],
    );
    assert.equal(await databaseExists(database), false, 'its database is dropped');
  });

  it('fails at once, naming the service, when one exits on start, and leaves nothing behind', async () => {
    const started = performance.now();
    const lines: string[] = [];
    await assert.rejects(
      startSystem({
        name: 'bad_start',
        services: ['users', 'orders'],
        infra: { smtp: false },
        env: { users: { LOG_LEVEL: 'info' }, orders: { USERS_DEADLINE_MS: 'soon' } },
        output: (line) => lines.push(line),
      }),
      /orders did not start: orders exited before it was ready \(exit code 1\)/,
    );
    assert.ok(performance.now() - started < 15_000, 'not a readiness timeout');
    assert.ok(
      lines.some((line) => /USERS_DEADLINE_MS/.test(line)),
      'the service said which setting is wrong',
    );
    // users had started: it is stopped, and the system's database is gone.
    const usersPort = Number(/users service ready grpcPort=(\d+)/.exec(lines.join('\n'))?.[1]);
    assert.ok(usersPort > 0, 'users had started');
    assert.equal(await canConnect('127.0.0.1', usersPort), false);
    const client = new pg.Client({ connectionString: testAdminUrl() });
    await client.connect();
    try {
      const left = await client.query(
        "select datname from pg_database where datname like 't\\_bad\\_start\\_%'",
      );
      assert.deepEqual(left.rows, []);
    } finally {
      await client.end();
    }
  });
});
