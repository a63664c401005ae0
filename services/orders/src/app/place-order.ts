import { type EventMetadata, type EventStore, loadAggregate } from '@conveyor/platform';
import { failedPrecondition, InvalidArgument, quote } from '@conveyor/platform/errors';
import { requireUuid } from '@conveyor/platform/validation';
import type { LineItem } from '../domain/order.ts';
import { normaliseSku } from '../domain/product.ts';
import type { Catalog } from './catalog.ts';
import { type OrderCommandHandler, orderCodec, orderDecider } from './order-command-handler.ts';
import { orderStreamId } from './order-event-mapping.ts';
import { type OrderView, viewOf } from './order-view.ts';
import { translatingRejections } from './rejections.ts';

export interface PlaceOrderInput {
  userId: string;
  items: { sku: string; quantity: number }[];
  idempotencyKey: string;
}

export interface PlaceOrderDeps {
  handle: OrderCommandHandler;
  store: EventStore;
  catalog: Catalog;
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
 * for. Who may order for whom is the port's decision (the caller's verified
 * token); the user id here is already authorised.
 */
export function placeOrder(deps: PlaceOrderDeps) {
  return async (input: PlaceOrderInput, metadata: EventMetadata = {}) => {
    const userId = requireUuid(input.userId, 'user_id');
    const key = validateKey(input.idempotencyKey);
    const wanted = validateItems(input.items);
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

function validateItems(items: PlaceOrderInput['items']): { sku: string; quantity: number }[] {
  if (items.length === 0) throw new InvalidArgument('items', 'an order needs at least one item');
  if (items.length > 50) throw new InvalidArgument('items', 'at most 50 lines per order');
  const seen = new Set<string>();
  return items.map((item, i) => {
    const sku = normaliseSku(item.sku);
    if (!sku) throw new InvalidArgument(`items[${i}].sku`, `${quote(item.sku)} is not a SKU`);
    if (seen.has(sku))
      throw new InvalidArgument(`items[${i}].sku`, `${sku} appears twice; use one line with a quantity`);
    seen.add(sku);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > 1000) {
      throw new InvalidArgument(`items[${i}].quantity`, 'must be between 1 and 1000');
    }
    return { sku, quantity: item.quantity };
  });
}

async function price(catalog: Catalog, wanted: { sku: string; quantity: number }[]): Promise<LineItem[]> {
  const products = new Map((await catalog.findMany(wanted.map((w) => w.sku))).map((p) => [p.sku, p]));
  return wanted.map((w, i) => {
    const product = products.get(w.sku);
    if (!product) throw new InvalidArgument(`items[${i}].sku`, `${w.sku} is not in the catalog`);
    return { sku: w.sku, quantity: w.quantity, unitPrice: product.price };
  });
}
