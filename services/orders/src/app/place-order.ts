import { type EventMetadata, type EventStore, loadAggregate } from '@conveyor/platform/core';
import { AppError, failedPrecondition, InvalidArgument, quote } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import { checkLines, type LineItem } from '../domain/order.ts';
import { normaliseSku } from '../domain/product.ts';
import { actingFor, type Caller } from './caller.ts';
import type { Catalog } from './catalog.ts';
import { type OrderCommandHandler, orderCodec, orderDecider } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';
import { type OrderView, viewOf } from './order-view.ts';
import { translatingRejections } from './rejections.ts';
import type { UserDirectory } from './user-directory.ts';

export interface PlaceOrderInput {
  /** Empty: the caller. Admins may name another user, who must exist. */
  userId: string;
  items: { sku: string; quantity: number }[];
  idempotencyKey: string;
}

export interface PlaceOrderDeps {
  handle: OrderCommandHandler;
  store: EventStore;
  catalog: Catalog;
  users: UserDirectory;
  newOrderId: () => string;
  now: () => Date;
  /** How long an order may stay unpaid before it is cancelled; 0: forever. */
  paymentTimeoutMs: number;
}

/**
 * Places an order priced from the catalog. The idempotency key is claimed
 * per user in the same statement that appends the order's first event, so
 * a retried or racing request with the same key returns the first order and
 * never creates a second; the same key with other lines is refused
 * (FAILED_PRECONDITION), not answered with an order the caller did not ask
 * for. Customers order for themselves; an admin may order for another user,
 * who must exist: an order for nobody would be stored, and its confirmation
 * would wait for contact details that never come. The rules for an order's
 * lines are the order's (domain/order.ts, checkLines): written once, applied
 * here before anything is looked up, and by the decider to what it records.
 */
export function placeOrder(deps: PlaceOrderDeps) {
  return async (caller: Caller, input: PlaceOrderInput, metadata: EventMetadata = {}) => {
    const userId = requireUuid(actingFor(caller, input.userId), 'user_id');
    const key = validateKey(input.idempotencyKey);
    const wanted = parseSkus(input.items);
    // The order's own rule, applied before any lookup: a hostile order costs no catalog query.
    await translatingRejections(async () => checkLines(wanted));
    if (userId !== caller.subject && !(await deps.users.exists(userId, caller.token)))
      throw new AppError('NOT_FOUND', `user_id: no user ${userId} (never created, or erased)`);
    const items = await price(deps.catalog, wanted);
    const orderId = deps.newOrderId();
    const at = deps.now();
    const paymentDueAt =
      deps.paymentTimeoutMs > 0 ? { paymentDueAt: new Date(at.getTime() + deps.paymentTimeoutMs) } : {};
    const result = await translatingRejections(() =>
      deps.handle(
        orderStreamId(orderId),
        { type: 'PlaceOrder', orderId, userId, items, at, ...paymentDueAt },
        {
          metadata: { ...metadata, actorId: userId, causationId: key },
          idempotency: { scope: `place-order:${userId}`, key },
          newStream: true,
        },
      ),
    );
    if (result.kind === 'applied')
      return { order: viewOf(result.state, result.version) as OrderView, replayed: false };
    const first = await loadAggregate(deps.store, result.streamId, orderDecider, orderCodec);
    if (first.state.status !== 'none' && linesOf(first.state.items) !== linesOf(wanted))
      throw failedPrecondition(
        `idempotency_key: ${quote(key, 128)} was used for another order (${first.state.orderId}); use a new key for a new order`,
      );
    return { order: viewOf(first.state, first.version) as OrderView, replayed: true };
  };
}

/** What an order asks for, whatever the order of its lines: the same body replays, another is refused. */
function linesOf(items: readonly { sku: string; quantity: number }[]): string {
  return items
    .map((i) => `${i.sku}×${i.quantity}`)
    .sort()
    .join(',');
}

function validateKey(raw: string): string {
  const key = raw.trim();
  if (key === '')
    throw new InvalidArgument('idempotency_key', 'is required (any unique string per order, e.g. a UUID)');
  if (key.length > 128) throw new InvalidArgument('idempotency_key', 'must be at most 128 characters');
  return key;
}

/** The requested lines with their SKUs normalised for the catalog. */
function parseSkus(items: PlaceOrderInput['items']): { sku: string; quantity: number }[] {
  return items.map((item, i) => {
    const sku = normaliseSku(item.sku);
    if (!sku) throw new InvalidArgument(`items[${i}].sku`, `${quote(item.sku)} is not a SKU`);
    return { sku, quantity: item.quantity };
  });
}

async function price(catalog: Catalog, wanted: { sku: string; quantity: number }[]): Promise<LineItem[]> {
  const skus = [...new Set(wanted.map((w) => w.sku))];
  const products = new Map((skus.length > 0 ? await catalog.findMany(skus) : []).map((p) => [p.sku, p]));
  return wanted.map((w, i) => {
    const product = products.get(w.sku);
    if (!product) throw new InvalidArgument(`items[${i}].sku`, `${w.sku} is not in the catalog`);
    return { sku: w.sku, quantity: w.quantity, unitPrice: product.price };
  });
}
