import { randomUUID } from 'node:crypto';
import { waitUntil } from '@conveyor/stack';
import { signInAdmin, signUp } from '@conveyor/stack/testing';
import pg from 'pg';
import type { GatewayStack } from './gateway-stack.ts';

export interface BlockedOrders {
  /** The orders, each the key (`orderId:<id>`) of one blocked sequence. */
  orderIds: string[];
  /** A token of the customer who placed them. */
  customerToken: string;
  /** The head (order.paid) of each order's sequence, by order id: orders' dead-letter ids. */
  heads: Map<string, string>;
  /** Lets the projection write paid orders again, so a redrive applies them. */
  lift(): Promise<void>;
}

interface ListedSequence {
  service: string;
  head: { id: string; sequenceKey: string; state: string };
  parkedBehind: number;
}

/**
 * Orders whose sequence is blocked in orders' projections consumer (ADR 0031), for real: as the
 * database's own user, a trigger on orders' read model refuses these orders' `paid` rows, so
 * order.paid keeps failing until it is the dead head of its order's sequence; order.shipped, sent
 * once the head is stored, is parked behind it. The gateway stack gives the projection few,
 * short attempts, so the head is dead in about a second.
 */
export async function blockOrderSequences(stack: GatewayStack, count: number): Promise<BlockedOrders> {
  const customer = await signUp(stack.users.address);
  const admin = await signInAdmin(stack.users.address);
  const call = async (token: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const orderIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const { order } = (await call(customer.token, '/api/orders', {
      items: [{ sku: 'MUG-001', quantity: 1 }],
    })) as { order: { id: string } };
    orderIds.push(order.id);
  }
  const lift = await refusePaidRows(stack, orderIds);
  const heads = new Map<string, string>();
  const listed = async (ready: (s: ListedSequence) => boolean) => {
    const { sequences } = (await call(admin.token, '/api/ops/dead-letter-sequences?service=orders')) as {
      sequences: ListedSequence[];
    };
    for (const id of orderIds) {
      const found = sequences.find((s) => s.head.sequenceKey === `orderId:${id}`);
      if (!found || !ready(found)) return false;
      heads.set(id, found.head.id);
    }
    return true;
  };
  for (const id of orderIds) await call(customer.token, `/api/orders/${id}/pay`, {});
  await waitUntil(() => listed((s) => s.head.state === 'dead'), {
    timeoutMs: 15_000,
    message: 'order.paid did not become the dead head of its sequence',
  });
  for (const id of orderIds) {
    await call(admin.token, `/api/orders/${id}/ship`, {
      carrier: 'DHL',
      trackingNumber: `T-${id.slice(-6)}`,
    });
  }
  await waitUntil(() => listed((s) => s.parkedBehind === 1), {
    timeoutMs: 15_000,
    message: 'order.shipped was not parked behind its order.paid',
  });
  return { orderIds, customerToken: customer.token, heads, lift };
}

/** A trigger on orders' `order_summaries` that raises for these orders' `paid` rows; resolves to its removal. */
async function refusePaidRows(stack: GatewayStack, orderIds: string[]): Promise<() => Promise<void>> {
  const schema = stack.orders.env.DATABASE_SCHEMA ?? 'orders';
  const name = `refuse_paid_${randomUUID().replaceAll('-', '')}`;
  const ids = orderIds.map((id) => `'${id.replace(/[^0-9a-f-]/g, '')}'`).join(', ');
  await sql(
    stack.databaseUrl,
    `create function ${schema}.${name}() returns trigger language plpgsql as $$
     begin
       if new.status = 'paid' and new.order_id in (${ids}) then
         raise exception 'test refuses the paid row of order %', new.order_id;
       end if;
       return new;
     end $$;
     create trigger ${name} before insert or update on ${schema}.order_summaries
       for each row execute function ${schema}.${name}();`,
  );
  return () =>
    sql(
      stack.databaseUrl,
      `drop trigger if exists ${name} on ${schema}.order_summaries; drop function if exists ${schema}.${name}();`,
    );
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'gateway-test' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
