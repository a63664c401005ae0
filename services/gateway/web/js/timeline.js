import { api, live } from './api.js';
import { field, h, money, replace, short, toast, when } from './dom.js';
import { signInFirst } from './guards.js';
import { orderActions } from './storefront.js';

/** Every event of one order, and a slider that shows the order as it was after each version. */
export function timelinePage(main, session, orderId) {
  if (!session.user) return signInFirst(main, 'Order timeline');
  const events = h('ol', { class: 'events', id: 'events' });
  const slider = h('input', {
    type: 'range',
    min: '1',
    max: '1',
    step: '1',
    value: '1',
    id: 'version-slider',
  });
  const sliderOut = h('output', { for: 'version-slider', id: 'version-output' }, 'version 1');
  const state = h('div', { class: 'card', id: 'state-at', 'aria-live': 'polite' });
  const live_ = h('p', { class: 'status', id: 'live-status', 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions', id: 'order-actions' });
  replace(
    main,
    h('h1', {}, `Order ${short(orderId)} timeline`),
    live_,
    actions,
    h(
      'div',
      { class: 'columns' },
      h('section', { 'aria-labelledby': 'events-h' }, h('h2', { id: 'events-h' }, 'Events'), events),
      h(
        'section',
        { 'aria-labelledby': 'travel-h' },
        h('h2', { id: 'travel-h' }, 'Time travel'),
        field('State at version', slider),
        sliderOut,
        state,
      ),
    ),
  );

  let requested = 0;
  const showAt = async (version) => {
    const ticket = ++requested;
    sliderOut.textContent = `version ${version}`;
    slider.setAttribute('aria-valuetext', `version ${version}`);
    const { order } = await api.get(`/api/orders/${orderId}/at?version=${version}`);
    if (ticket !== requested) return;
    replace(
      state,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Status'),
        h('dd', { id: 'state-status' }, h('span', { class: `badge ${order.status}` }, order.status)),
        h('dt', {}, 'Version'),
        h('dd', {}, String(order.version)),
        h('dt', {}, 'Total'),
        h('dd', {}, money(order.total)),
        h('dt', {}, 'Items'),
        h('dd', {}, order.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')),
        order.carrier && [
          h('dt', {}, 'Shipped with'),
          h('dd', {}, `${order.carrier} ${order.trackingNumber}`),
        ],
      ),
    );
  };
  slider.addEventListener('input', () =>
    showAt(Number(slider.value)).catch((e) => toast(e.message, 'error')),
  );

  const loadHistory = async () => {
    const { entries } = await api.get(`/api/orders/${orderId}/history`);
    replace(
      events,
      entries.map((e) =>
        h(
          'li',
          { 'data-type': e.eventType },
          h('p', { class: 'sentence' }, h('strong', {}, `v${e.version}`), ' ', sentence(e, session.user)),
          h('time', { datetime: e.recordedAt }, when(e.recordedAt)),
          h(
            'details',
            {},
            h('summary', {}, 'Raw event'),
            h(
              'pre',
              { tabindex: '0', 'aria-label': `v${e.version} ${e.eventType} data` },
              JSON.stringify({ type: e.eventType, id: e.eventId, data: e.data }, null, 2),
            ),
          ),
        ),
      ),
    );
    const atEnd = Number(slider.value) === Number(slider.max);
    slider.max = String(Math.max(1, entries.length));
    if (atEnd) slider.value = slider.max;
    await showAt(Number(slider.value));
  };

  const adminShip = (order) => {
    if (session.user.role !== 'admin') return [];
    const carrier = h('input', { id: 'ship-carrier', value: 'DHL', required: true });
    const tracking = h('input', {
      id: 'ship-tracking',
      value: `JD${Date.now().toString().slice(-8)}`,
      required: true,
    });
    const post = (path, body) =>
      api.post(`/api/orders/${orderId}/${path}`, body).then(
        () => toast(`Order ${path === 'ship' ? 'shipped' : 'delivered'}`),
        (e) => toast(e.message, 'error'),
      );
    if (order.status === 'paid') {
      return h(
        'form',
        {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            post('ship', { carrier: carrier.value, trackingNumber: tracking.value });
          },
        },
        field('Carrier', carrier),
        field('Tracking number', tracking),
        h('button', { type: 'submit' }, 'Ship order'),
      );
    }
    if (order.status === 'shipped')
      return h('button', { type: 'button', onclick: () => post('deliver', {}) }, 'Mark delivered');
    return [];
  };

  let lastVersion = 0;
  const stop = live(`/api/events/orders/${orderId}`, {
    order: (order) => {
      replace(
        live_,
        'Now ',
        h('span', { class: `badge ${order.status}`, 'data-status': order.status }, order.status),
        ` · version ${order.version} · ${money(order.total)}`,
      );
      replace(
        actions,
        order.userId === session.user.id ? orderActions(order, () => {}) : [],
        adminShip(order),
      );
      if (order.version !== lastVersion) {
        lastVersion = order.version;
        loadHistory().catch((e) => toast(e.message, 'error'));
      }
    },
    problem: (p) => toast(p.detail, 'error'),
  });
  return stop;
}

/**
 * One event as a sentence: who did what, with the amount. Events name the customer, not the
 * admin who shipped; a payment timeout is Conveyor's own doing.
 */
export function sentence(entry, viewer) {
  const d = entry.data ?? {};
  const customer = entry.state?.userId && entry.state.userId === viewer?.id ? 'You' : 'The customer';
  const items = (d.items ?? []).map((i) => `${i.quantity} × ${i.sku}`).join(', ');
  switch (entry.eventType) {
    case 'OrderPlaced': {
      const due = d.paymentDueAt ? ` Payment is due by ${when(d.paymentDueAt)}.` : '';
      return `${customer} placed the order: ${items}, ${money(d.total)}.${due}`;
    }
    case 'OrderPaid':
      return `${customer} paid ${money(d.amount)}.`;
    case 'OrderShipped':
      return `An admin shipped it with ${d.carrier}, tracking number ${d.trackingNumber}.`;
    case 'OrderDelivered':
      return 'An admin marked it delivered.';
    case 'OrderCancelled':
      return d.reason === 'payment timeout'
        ? 'Conveyor cancelled it: it was not paid in time.'
        : `It was cancelled: “${d.reason}”.`;
    default:
      return `${entry.eventType} (see the raw event).`;
  }
}
