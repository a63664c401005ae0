import { randomUUID } from 'node:crypto';
import { ordersV1 } from '@conveyor/contracts';
import { callUnary, insecure } from '@conveyor/platform';
import {
  createDatabase,
  dropDatabase,
  type ServiceName,
  type System,
  startMailSink,
  startSystem,
} from '@conveyor/stack';
import { type SignedIn, signUp } from '@conveyor/stack/testing';
import pg from 'pg';
import type { BenchContext, SuiteResult } from '../lib/context.ts';
import { measurePipeline } from '../lib/measure-pipeline.ts';
import { peakRssBytes } from '../lib/memory.ts';
import type { Row } from '../lib/report.ts';

/**
 * Conveyor as users get it: users, orders and notifications as processes with their defaults; a
 * load generator places orders over gRPC as signed-in customers, and the bench's SMTP sink receives
 * the confirmations. measurePipeline finds the sustained rate of completed orders (stored,
 * projected, mailed) and what each costs; the raw-pipeline suite measures the ceiling beside it.
 */
export async function endToEnd(ctx: BenchContext): Promise<SuiteResult> {
  const name = `bench_e2e_${Date.now()}`;
  const url = await createDatabase(ctx.adminUrl, name);
  const sink = await startMailSink();
  let system: System | undefined;
  const observer = new pg.Pool({ connectionString: url, max: 2 });
  try {
    // On the bench's database (with pg_stat_statements) and mail sink; a private nats-server.
    // Notifications calls users to reveal sealed contact details of user.created v2 and verify tokens.
    const conveyor = await startSystem({
      name,
      services: ['users', 'orders', 'notifications'],
      env: { all: { LOG_LEVEL: 'warn' } },
      infra: { databaseUrl: url, smtpUrl: `smtp://127.0.0.1:${sink.port}?tls=off` },
    });
    system = conveyor;
    const { nats } = conveyor;
    const usersAddr = conveyor.address('users');
    // Customers sign up and sign in first (Argon2id is deliberately slow), 5 at a time; each
    // order is then placed with its customer's access token. Their welcome mails come first.
    const customers: SignedIn[] = [];
    for (let i = 0; i < 50; i += 5) {
      customers.push(
        ...(await Promise.all(
          [0, 1, 2, 3, 4].map((j) =>
            signUp(usersAddr, { email: `bench-${i + j}-${randomUUID().slice(0, 6)}@example.com` }),
          ),
        )),
      );
    }
    const deadline = performance.now() + 30_000;
    while ((await sink.count()).mails < customers.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const orders = new ordersV1.OrderServiceClient(conveyor.address('orders'), insecure());
    const pid = (service: ServiceName) => () => [conveyor.service(service).process.pid ?? 0];
    const measured = await measurePipeline(ctx, {
      label: 'conveyor',
      place: async (i) => {
        const customer = customers[i % customers.length]!;
        const { order } = await callUnary(
          orders,
          orders.placeOrder,
          { userId: '', items: [{ sku: 'MUG-001', quantity: 1 }], idempotencyKey: randomUUID() },
          { deadlineMs: 10_000, metadata: customer.metadata() },
        );
        return order!.id;
      },
      ordersSchema: 'orders',
      sink,
      baseMails: (await sink.count()).mails,
      cpu: {
        system: {
          postgres: ctx.postgresPids,
          'nats-server': () => [nats.pid],
          users: pid('users'),
          orders: pid('orders'),
          notifications: pid('notifications'),
        },
        harness: { 'load generator': () => [process.pid], 'mail sink': () => [sink.pid] },
      },
      observer,
      database: name,
      statementStats: ctx.statementStats,
    });
    orders.close();
    // Peak resident memory of each service over the whole suite.
    const memory = (['users', 'orders', 'notifications'] as const).map((service) => {
      const bytes = peakRssBytes(conveyor.service(service).process.pid ?? 0);
      return { service, mb: bytes === undefined ? undefined : bytes / 1024 / 1024 };
    });
    const rows: Row[] = memory.map(({ service, mb }) => ({
      group: 'memory',
      name: service,
      concurrency: 'all',
      perSecond: 0,
      note: `peak RSS ${mb === undefined ? 'unknown' : `${mb.toFixed(0)} MB`} (VmHWM)`,
    }));
    return {
      ...measured,
      rows: [...measured.rows, ...rows],
      checks: [
        ...measured.checks,
        ...(ctx.smoke
          ? []
          : memory.map((m) => ({
              name: `${m.service} peak RSS ≤ 200 MB`,
              ok: (m.mb ?? Infinity) <= 200,
              detail: m.mb === undefined ? 'not measured' : `${m.mb.toFixed(0)} MB`,
              target: true,
            }))),
      ],
    };
  } finally {
    await system?.stop();
    await observer.end();
    await sink.stop();
    await dropDatabase(ctx.adminUrl, name);
  }
}
