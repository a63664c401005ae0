import type { EventData } from '@conveyor/contracts';

/** What a notification says; rendered from event data alone, so a replay renders the same text. */
export interface Message {
  subject: string;
  text: string;
  html: string;
}

export interface Addressee {
  name: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// One formatter per currency: building an Intl.NumberFormat costs more than
// rendering the rest of a mail (3% of notifications' CPU under load, profiled).
const moneyFormats = new Map<string, Intl.NumberFormat>();
const formatMoney = (m: { amountMinor: number; currency: string }) => {
  let format = moneyFormats.get(m.currency);
  if (!format) {
    format = new Intl.NumberFormat('en', { style: 'currency', currency: m.currency });
    moneyFormats.set(m.currency, format);
  }
  return format.format(m.amountMinor / 100);
};

const shortId = (id: string) => id.slice(-8);

function message(subject: string, greeting: string, lines: string[]): Message {
  const text = [`Hello ${greeting},`, '', ...lines, '', '— Conveyor'].join('\n');
  const html = [
    '<!doctype html><html lang="en"><body style="font-family:sans-serif">',
    `<p>Hello ${escapeHtml(greeting)},</p>`,
    ...lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    '<p>— Conveyor</p></body></html>',
  ].join('\n');
  return { subject, text, html };
}

export function welcome(data: { email: string; name: string }): Message {
  return message('Welcome to Conveyor', data.name, [
    `Your account ${data.email} is ready.`,
    'You will hear from us when your orders move.',
  ]);
}

export function signupAttempted(data: EventData<'user.signup_attempted'>, to: Addressee): Message {
  const when = `${data.attemptedAt.slice(0, 10)} ${data.attemptedAt.slice(11, 16)} UTC`;
  return message('A sign-up with your address', to.name, [
    `On ${when} someone tried to create a Conveyor account with your address, which already has one.`,
    'Nothing changed: your account is as it was and no one was signed in.',
    'If it was you, log in with your password. If not, you need not do anything.',
  ]);
}

export function passwordReset(data: { resetToken: string; expiresAt: string }, to: Addressee): Message {
  const until = `${data.expiresAt.slice(0, 10)} ${data.expiresAt.slice(11, 16)} UTC`;
  return message('Reset your Conveyor password', to.name, [
    'Someone, hopefully you, asked to reset the password of your Conveyor account. Your code:',
    data.resetToken,
    `It works once, until ${until}: ./bin/conveyor users reset-password --token CODE --password NEW-PASSWORD`,
    'If it was not you, ignore this mail: your password is unchanged.',
  ]);
}

export function orderConfirmation(data: EventData<'order.created'>, to: Addressee): Message {
  const items = data.items.map((i) => `${i.quantity} × ${i.sku} at ${formatMoney(i.unitPrice)}`);
  return message(`Order ${shortId(data.orderId)} confirmed`, to.name, [
    `We received your order ${data.orderId}:`,
    ...items,
    `Total: ${formatMoney(data.total)}.`,
  ]);
}

export function orderPaid(data: EventData<'order.paid'>, to: Addressee): Message {
  return message(`Payment received for order ${shortId(data.orderId)}`, to.name, [
    `We received ${formatMoney(data.amount)} for order ${data.orderId}.`,
  ]);
}

export function orderShipped(data: EventData<'order.shipped'>, to: Addressee): Message {
  return message(`Order ${shortId(data.orderId)} shipped`, to.name, [
    `Order ${data.orderId} is on its way with ${data.carrier}, tracking number ${data.trackingNumber}.`,
  ]);
}

export function orderDelivered(data: EventData<'order.delivered'>, to: Addressee): Message {
  return message(`Order ${shortId(data.orderId)} delivered`, to.name, [
    `Order ${data.orderId} was delivered.`,
  ]);
}

export function orderCancelled(data: EventData<'order.cancelled'>, to: Addressee): Message {
  return message(`Order ${shortId(data.orderId)} cancelled`, to.name, [
    `Order ${data.orderId} was cancelled: ${data.reason}.`,
  ]);
}
