import type { EventStore } from '@conveyor/platform/core';
import { type Caller, requireRole } from './caller.ts';
import { cancelOrder } from './cancel-order.ts';
import type { Catalog } from './catalog.ts';
import { changeOrder } from './change-order.ts';
import { deliverOrder } from './deliver-order.ts';
import { expirePayment } from './expire-payment.ts';
import { getOrder } from './get-order.ts';
import { getProduct } from './get-product.ts';
import { listOrders } from './list-orders.ts';
import { listProducts } from './list-products.ts';
import { orderCommandHandler } from './order-command-handler.ts';
import { getOrderAt, getOrderHistory } from './order-history.ts';
import type { OrderProjectionTable } from './order-projection-table.ts';
import type { OrderReadModels } from './order-read-models.ts';
import { payOrder } from './pay-order.ts';
import { placeOrder } from './place-order.ts';
import { projectOrderEvents } from './project-order-event.ts';
import { type RebuildProgress, rebuildProjections } from './rebuild-projections.ts';
import type { RebuildTarget } from './rebuild-target.ts';
import { type Requeue, republishEvents } from './republish-events.ts';
import { shipOrder } from './ship-order.ts';
import type { UserDirectory } from './user-directory.ts';

/** Everything the order use cases reach outside themselves; production's in service.ts, tests' in memory. */
export interface OrderAdapters {
  store: EventStore;
  catalog: Catalog;
  /** The query side (GetOrder, ListOrders). */
  readModels: OrderReadModels;
  /** The table the projection writes: the live read model's. */
  projection: OrderProjectionTable;
  users: UserDirectory;
  rebuildTarget: RebuildTarget;
  /** Republished events go here (the outbox). */
  requeue: Requeue;
  now: () => Date;
  /** New order and event ids (UUIDv7). */
  newId: () => string;
  settings: {
    snapshotEvery: number;
    commandMaxAttempts: number;
    /** How long an order may stay unpaid before it is cancelled; 0: forever. */
    paymentTimeoutMs: number;
  };
}

/**
 * The order service's application: its use cases wired to the adapters, nothing started. The
 * gRPC port, the projection consumer and the timer runner call what this returns; production and
 * the component tests build it the same way with other adapters.
 */
export function buildApp(adapters: OrderAdapters) {
  const { store, catalog, readModels, now } = adapters;
  const handle = orderCommandHandler({
    store,
    newEventId: adapters.newId,
    snapshotEvery: adapters.settings.snapshotEvery,
    maxAttempts: adapters.settings.commandMaxAttempts,
  });
  const change = changeOrder({ handle });
  const rebuild = rebuildProjections({ store, target: adapters.rebuildTarget });
  const republish = republishEvents({ store, requeue: adapters.requeue, now });
  return {
    listProducts: listProducts({ catalog }),
    getProduct: getProduct({ catalog }),
    placeOrder: placeOrder({
      handle,
      store,
      catalog,
      users: adapters.users,
      newOrderId: adapters.newId,
      now,
      paymentTimeoutMs: adapters.settings.paymentTimeoutMs,
    }),
    payOrder: payOrder(change, now),
    shipOrder: shipOrder(change, now),
    deliverOrder: deliverOrder(change, now),
    cancelOrder: cancelOrder(change, now),
    getOrder: getOrder({ readModels }),
    listOrders: listOrders({ readModels }),
    getOrderHistory: getOrderHistory({ store }),
    getOrderAt: getOrderAt({ store }),
    /** Admins only. */
    async rebuildProjections(caller: Caller, onProgress: (progress: RebuildProgress) => void): Promise<void> {
      requireRole(caller, ['admin']);
      await rebuild(onProgress);
    },
    /** Admins only. */
    async republishEvents(caller: Caller, range: { fromPosition: number; toPosition: number }) {
      requireRole(caller, ['admin']);
      return republish(range);
    },
    /** The payment timer's handler (ADR 0032). */
    expirePayment: expirePayment({ handle, now }),
    /** The projection consumer's handler: delivered order events onto the read model. */
    projectOrderEvents: projectOrderEvents({ table: adapters.projection, store }),
  };
}

export type OrderApp = ReturnType<typeof buildApp>;
