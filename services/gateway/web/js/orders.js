import { api } from './api.js';
import { h, money, replace, short, when } from './dom.js';
import { signInFirst } from './guards.js';

export function ordersPage(main, session) {
  if (!session.user) return signInFirst(main, 'Orders');
  const body = h('tbody');
  replace(
    main,
    h('h1', {}, 'Orders'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h(
          'caption',
          {},
          session.user.role === 'admin' ? 'Every order, newest first' : 'Your orders, newest first',
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Order', 'Status', 'Total', 'Items', 'Placed'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        body,
      ),
    ),
  );
  api
    .get('/api/orders')
    .then(({ orders }) =>
      replace(
        body,
        orders.length === 0
          ? h('tr', {}, h('td', { colspan: '5' }, 'No orders yet.'))
          : orders.map((o) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/orders/${o.id}` }, `Order ${short(o.id)}`)),
                h('td', {}, h('span', { class: `badge ${o.status}` }, o.status)),
                h('td', {}, money(o.total)),
                h('td', {}, String(o.itemCount)),
                h('td', {}, when(o.placedAt)),
              ),
            ),
      ),
    );
  return undefined;
}
