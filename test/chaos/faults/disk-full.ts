import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Streams } from '@conveyor/contracts';
import { natsServerBinary, waitUntil } from '@conveyor/stack';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import type { ChaosSystem } from '../chaos-system.ts';
import type { Experiment } from '../experiments.ts';
import { countOf, withDatabase } from './chaos-clients.ts';

const FULL_MS = 3000;
const MiB = 1024 * 1024;

/**
 * NATS's store disk full: its tmpfs filled to its last 64 KiB for 3 s, then freed. Publishes fail
 * meanwhile (the relays keep the rows in their outboxes); once there is room again JetStream must
 * store and deliver again by itself, with nothing lost. If it does not answer within 15 s, it is
 * SIGKILLed and started again (as a liveness probe would): a problem, except on nats-server before
 * 2.10, whose file store is known to deadlock on a full disk (a finding then).
 */
export const diskFullNats: Experiment = {
  name: 'disk-full-nats',
  fault: "nats-server's store (a 256 MiB tmpfs) filled to its last 64 KiB for 3 s, then freed",
  async run(system, note) {
    const disk = system.disks.nats;
    if (!disk)
      return { problems: ['NATS has no small disk of its own here (root and tmpfs needed)'], details: [] };
    const problems: string[] = [];
    const filled = await disk.fill(64 * 1024);
    let waiting = 0;
    try {
      await sleep(FULL_MS);
      waiting = await outboxWaiting(system);
    } finally {
      await disk.drain();
    }
    const details = [
      `filler ${Math.round(filled / MiB)} MiB; outbox rows waiting over 1 s at the end of the fault: ${waiting}`,
    ];
    const stuck = await jetStreamStuck(system);
    if (stuck) {
      const version = await natsVersion();
      const hang = `JetStream did not recover once the disk had room again (${stuck}); nats-server SIGKILLed and started again`;
      // nats-server before 2.10 deadlocks in its file store on a full disk (writeMsgRecord →
      // rebuildStateLocked waits on the lock it holds) and needs a restart: an upstream defect of
      // the server Debian 12 ships, reported as a finding; on a newer server the hang is a problem.
      if (version && olderThan(version, [2, 10]))
        details.push(`${hang} (the known hang of nats-server ${version})`);
      else problems.push(hang);
      await system.nats.kill();
      await system.nats.restart();
      system.natsPids.push(system.nats.pid);
    }
    note(details.join('; '));
    return { problems, details };
  },
};

async function natsVersion(): Promise<string | undefined> {
  const binary = await natsServerBinary();
  return /v?(\d+\.\d+\.\d+)/.exec(execFileSync(binary, ['--version'], { encoding: 'utf8' }))?.[1];
}

function olderThan(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a < major || (a === major && b < minor);
}

/** Rows of users' and orders' outboxes written over a second ago: what the relays could not publish. */
function outboxWaiting(system: ChaosSystem): Promise<number> {
  return withDatabase(system, (sql) =>
    countOf(
      sql,
      `select (select count(*) from users.outbox where created_at < now() - interval '1 second')
            + (select count(*) from orders.outbox where created_at < now() - interval '1 second') as n`,
    ),
  );
}

/**
 * Why JetStream is stuck 15 s after the disk had room again, or undefined once it answers for
 * both streams and the relays have caught up (no outbox row waiting over a second).
 */
async function jetStreamStuck(system: ChaosSystem): Promise<string | undefined> {
  let why = 'no answer';
  const nc = await connect({ ...system.natsOptions('admin'), timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    await waitUntil(
      async () => {
        for (const stream of [Streams.users.name, Streams.orders.name]) {
          why = `no answer to stream info of ${stream}`;
          await jsm.streams.info(stream);
        }
        const waiting = await outboxWaiting(system);
        why = `${waiting} outbox rows still waiting`;
        return waiting === 0;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'stuck' },
    );
    return undefined;
  } catch {
    return why;
  } finally {
    await nc.close();
  }
}

/**
 * Postgres's WAL disk full: its tmpfs filled to its last MiB while WAL segments are switched
 * (pg_switch_wal every 100 ms, as a burst of writes would fill them), for 3 s, then freed.
 * Postgres PANICs when it cannot create a segment and restarts itself with crash recovery; if it
 * cannot (still full), it exits and is started again once the disk has room, on the same data.
 */
export const diskFullPostgres: Experiment = {
  name: 'disk-full-postgres',
  mayResend: true,
  fault:
    "Postgres's WAL disk (a 256 MiB tmpfs) filled to its last MiB for 3 s while segments are switched; freed after",
  async run(system, note) {
    const disk = system.disks.postgresWal;
    if (!disk)
      return { problems: ['Postgres has no small WAL disk here (root and tmpfs needed)'], details: [] };
    const problems: string[] = [];
    const filled = await disk.fill(MiB);
    let outcome: string;
    try {
      outcome = await switchSegments(system, FULL_MS);
    } finally {
      await disk.drain();
    }
    // Postgres recovers by itself, or its postmaster exits (recovery found no room): started again then.
    let restarted = false;
    await waitUntil(
      async () => {
        if (await system.startPostgresIfDown()) restarted = true;
        return (await withDatabase(system, (sql) => sql.query('select 1'))).rowCount === 1;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'Postgres did not answer again' },
    ).catch((error: Error) => problems.push(error.message));
    const details = [
      `filler ${Math.round(filled / MiB)} MiB; ${outcome}; ${restarted ? 'the postmaster had exited: started again' : 'Postgres restarted itself'}`,
    ];
    note(details[0]!);
    return { problems, details };
  },
};

/** Switches WAL segments for `ms` on one connection; what happened to it. */
async function switchSegments(system: ChaosSystem, ms: number): Promise<string> {
  const sql = new pg.Client({ connectionString: system.databaseUrl });
  sql.on('error', () => {});
  await sql.connect();
  const until = Date.now() + ms;
  let switches = 0;
  try {
    while (Date.now() < until) {
      await sql.query('select pg_switch_wal()');
      switches++;
      await sleep(100);
    }
    return `${switches} segment switches, no crash`;
  } catch (error) {
    // Out of WAL space: a PANIC ends every session, this one too. The rest of the 3 s is the fault's.
    await sleep(Math.max(0, until - Date.now()));
    return `crashed after ${switches} switches (${(error as Error).message})`;
  } finally {
    await sql.end().catch(() => {});
  }
}
