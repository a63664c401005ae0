import * as ordersV1 from '@conveyor/contracts/grpc/orders';
import { type Outcome, shown } from './cli-error.ts';
import { enumLabel, formatMoney, formatTime } from './format.ts';
import type { OrderStatusName } from './order-values.ts';
import { renderFields, renderTable } from './table.ts';

const byName: Record<OrderStatusName, ordersV1.OrderStatus> = {
  placed: ordersV1.OrderStatus.ORDER_STATUS_PLACED,
  paid: ordersV1.OrderStatus.ORDER_STATUS_PAID,
  shipped: ordersV1.OrderStatus.ORDER_STATUS_SHIPPED,
  delivered: ordersV1.OrderStatus.ORDER_STATUS_DELIVERED,
  cancelled: ordersV1.OrderStatus.ORDER_STATUS_CANCELLED,
};

/** placed → ORDER_STATUS_PLACED; no name → ORDER_STATUS_UNSPECIFIED (every status). */
export function orderStatusValue(name: OrderStatusName | undefined): ordersV1.OrderStatus {
  return name === undefined ? ordersV1.OrderStatus.ORDER_STATUS_UNSPECIFIED : byName[name];
}

export const orderStatusLabel = (value: ordersV1.OrderStatus): string =>
  enumLabel(ordersV1.orderStatusToJSON(value), 'ORDER_STATUS_');

/** quantity × unit price, in the unit price's currency. */
function lineAmount(item: ordersV1.OrderItem): string {
  if (!item.unitPrice) return '-';
  return formatMoney({ ...item.unitPrice, amountMinor: item.unitPrice.amountMinor * item.quantity });
}

/** The order's fields (those of later steps only once reached), then its items. */
export function formatOrder(order: ordersV1.Order): string {
  const fields: [string, string][] = [
    ['id', order.id],
    ['user', order.userId],
    ['status', orderStatusLabel(order.status)],
    ['total', formatMoney(order.total)],
    ['version', String(order.version)],
    ['placed', formatTime(order.placedAt)],
  ];
  if (order.paidAt) fields.push(['paid', formatTime(order.paidAt)]);
  if (order.shippedAt) fields.push(['shipped', formatTime(order.shippedAt)]);
  if (order.carrier) fields.push(['carrier', order.carrier]);
  if (order.trackingNumber) fields.push(['tracking', order.trackingNumber]);
  if (order.deliveredAt) fields.push(['delivered', formatTime(order.deliveredAt)]);
  if (order.cancelledAt) fields.push(['cancelled', formatTime(order.cancelledAt)]);
  if (order.cancelReason) fields.push(['reason', order.cancelReason]);
  if (order.items.length === 0) return `${renderFields(fields)}\n\nno items`;
  const items = renderTable(
    ['sku', 'qty', 'unit price', 'amount'],
    order.items.map((item) => [
      item.sku,
      String(item.quantity),
      formatMoney(item.unitPrice),
      lineAmount(item),
    ]),
  );
  return `${renderFields(fields)}\n\n${items}`;
}

/** An order as the commands print it: `heading` and the order, or its JSON. */
export function orderOutcome(order: ordersV1.Order | undefined, json: boolean, heading: string): Outcome {
  if (!order) return { text: json ? 'null' : 'the service returned no order' };
  return shown(
    json,
    ordersV1.Order.toJSON(order),
    () => `${heading ? `${heading}\n` : ''}${formatOrder(order)}`,
  );
}

export function formatOrderSummaries(orders: readonly ordersV1.OrderSummary[]): string {
  return renderTable(
    ['placed', 'id', 'status', 'items', 'total', 'version'],
    orders.map((o) => [
      formatTime(o.placedAt),
      o.id,
      orderStatusLabel(o.status),
      String(o.itemCount),
      formatMoney(o.total),
      String(o.version),
    ]),
  );
}

/** The state after an event in one cell: the status, with what that step added. */
export function compactState(order: ordersV1.Order | undefined): string {
  if (!order) return '-';
  const status = orderStatusLabel(order.status);
  if (order.cancelledAt || order.cancelReason) return `${status}: ${order.cancelReason}`;
  if (order.deliveredAt) return status;
  if (order.shippedAt) return `${status}, ${order.carrier} ${order.trackingNumber}`.trimEnd();
  if (order.paidAt) return `${status}, ${formatMoney(order.total)}`;
  const count = order.items.length;
  return `${status}, ${count} ${count === 1 ? 'item' : 'items'}, ${formatMoney(order.total)}`;
}

export function formatHistory(entries: readonly ordersV1.HistoryEntry[]): string {
  if (entries.length === 0) return 'no events';
  return renderTable(
    ['version', 'time', 'event', 'state'],
    entries.map((e) => [String(e.version), formatTime(e.recordedAt), e.eventType, compactState(e.state)]),
  );
}

const BAR_WIDTH = 20;

/**
 * One rebuild progress report: `copying  1200/5000  24%`, with `bar` a bar before the
 * numbers (`copying  [####                ]  1200/5000  24%`); `catching-up  37` and
 * `swapping` while the total is unknown.
 */
export function formatProgress(progress: ordersV1.RebuildProjectionsResponse, bar = false): string {
  const { phase, processed, total } = progress;
  if (total > 0) {
    const percent = Math.min(100, Math.floor((processed * 100) / total));
    const filled = Math.round((percent * BAR_WIDTH) / 100);
    const drawn = bar ? `  [${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}]` : '';
    return `${phase}${drawn}  ${processed}/${total}  ${percent}%`;
  }
  return processed > 0 ? `${phase}  ${processed}` : phase;
}
