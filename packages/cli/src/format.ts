import type * as notificationsV1 from '@conveyor/contracts/grpc/notifications';
import type * as ordersV1 from '@conveyor/contracts/grpc/orders';
import { renderFields, renderTable } from './table.ts';

/** Local time as `YYYY-MM-DD HH:MM:SS`; `-` when missing or invalid. */
export function formatTime(value: Date | string | undefined): string {
  if (value === undefined || value === '') return '-';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '-';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** An enum value's name without its prefix, in lower case: ROLE_ADMIN → admin. */
export const enumLabel = (name: string, prefix: string): string =>
  (name.startsWith(prefix) ? name.slice(prefix.length) : name).toLowerCase();

export function formatNotifications(
  notifications: readonly notificationsV1.Notification[],
  statusName: (status: notificationsV1.NotificationStatus) => string,
): string {
  if (notifications.length === 0) return 'no notifications yet';
  return renderTable(
    ['time', 'type', 'channel', 'to', 'subject', 'status', 'attempts', 'last error'],
    notifications.map((n) => [
      formatTime(n.createdAt),
      n.eventType,
      n.channel,
      n.recipient,
      n.subject,
      enumLabel(statusName(n.status), 'NOTIFICATION_STATUS_'),
      String(n.attempts),
      n.lastError,
    ]),
  );
}

/** A mail as the SMTP sink's /api/messages returns it. */
export interface SinkMail {
  id: number;
  from: string;
  to: string[];
  subject: string;
  receivedAt: string;
}

export function formatMails(mails: readonly SinkMail[], web: string): string {
  if (mails.length === 0) return `no mail received yet (web UI: ${web})`;
  const table = renderTable(
    ['received', 'from', 'to', 'subject'],
    mails.map((mail) => [formatTime(mail.receivedAt), mail.from, mail.to.join(', '), mail.subject]),
  );
  return `${table}\n\nweb UI: ${web}`;
}

/** A delivery the webhook sink received (see @conveyor/stack's webhook-sink). */
export interface SinkedWebhook {
  receivedAt: string;
  path: string;
  eventType: string;
  eventId: string;
  status: number;
}

const SINK_ANSWERS: Record<string, string> = {
  accept: 'answers 204 (accept): deliveries succeed',
  refuse: 'answers 410 Gone (refuse): deliveries fail permanently and become dead letters at once',
  fail: 'answers 503 (fail): deliveries are retried with backoff, dead letters once their attempts run out',
};

export function formatWebhookSink(
  url: string,
  answer: string,
  newestFirst: readonly SinkedWebhook[],
  total: number,
): string {
  const head = `webhook sink ${url} ${SINK_ANSWERS[answer] ?? `answers ${answer}`}`;
  if (newestFirst.length === 0) return `${head}\n\nnothing received yet`;
  const table = renderTable(
    ['received', 'status', 'event', 'event id', 'path'],
    newestFirst.map((w) => [formatTime(w.receivedAt), String(w.status), w.eventType, w.eventId, w.path]),
  );
  const more =
    total > newestFirst.length ? `\n\n(the newest ${newestFirst.length} of ${total}; more with --limit)` : '';
  return `${head}\n\n${table}${more}`;
}

export interface ServiceStatus {
  service: string;
  /** host:port of a gRPC service; the base URL of an HTTP one (the gateway). */
  grpc: string;
  /** SERVING, NOT_SERVING, unreachable, or a gRPC status name. */
  health: string;
  ops: string;
  /** ready, "not ready (…)" or unreachable. */
  readyz: string;
  up: boolean;
}

export function formatStatus(statuses: readonly ServiceStatus[]): string {
  const table = renderTable(
    ['service', 'address', 'health', 'ops', 'readyz'],
    statuses.map((s) => [s.service, s.grpc, s.health, s.ops, s.readyz]),
  );
  const down = statuses.filter((s) => !s.up).length;
  const summary = down === 0 ? `all ${statuses.length} up` : `${down} of ${statuses.length} down`;
  return `${table}\n\n${summary}`;
}

/** 1250 EUR minor units → "12.50 EUR" (two decimals; every demo currency has them). */
export function formatMoney(money: ordersV1.Money | undefined): string {
  if (!money) return '-';
  const sign = money.amountMinor < 0 ? '-' : '';
  const abs = Math.abs(money.amountMinor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${money.currency}`;
}

export function formatProducts(products: readonly ordersV1.Product[]): string {
  if (products.length === 0) return 'the catalog is empty';
  return renderTable(
    ['sku', 'name', 'price'],
    products.map((p) => [p.sku, p.name, formatMoney(p.price)]),
  );
}

export function formatProduct(product: ordersV1.Product): string {
  return renderFields([
    ['sku', product.sku],
    ['name', product.name],
    ['price', formatMoney(product.price)],
    ['description', product.description],
  ]);
}
