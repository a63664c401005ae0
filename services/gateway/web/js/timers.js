import { api } from './api.js';
import { h, relativeTime, replace, when } from './dom.js';

const KINDS = { 'order.payment-timeout': 'Cancel if still unpaid' };

/** Durable timers (ADR 0032) due soonest across the services, e.g. unpaid orders' payment timeouts. */
export function timersSection() {
  const body = h('tbody', { id: 'timers' });
  const summary = h('p', { id: 'timers-summary', 'aria-live': 'polite' });
  const section = h(
    'section',
    { 'aria-labelledby': 'timers-h' },
    h('h2', { id: 'timers-h' }, 'Timers due soon'),
    h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh timers'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'What the system will do by itself next, soonest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Due', 'What', 'For', 'Attempts', 'Last error'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        body,
      ),
    ),
    summary,
  );

  async function load() {
    const { timers, total } = await api.get('/api/ops/timers?limit=20');
    replace(
      body,
      timers.length === 0
        ? h('tr', {}, h('td', { colspan: '5' }, 'No timers set.'))
        : timers.map((t) =>
            h(
              'tr',
              { 'data-key': t.key },
              h(
                'td',
                {},
                t.firing ? 'firing now' : relativeTime(t.dueAt),
                h('br'),
                h('small', {}, when(t.dueAt)),
              ),
              h('td', {}, KINDS[t.kind] ?? t.kind),
              h('td', {}, target(t)),
              h('td', {}, String(t.attempts)),
              h('td', {}, t.lastError || '—'),
            ),
          ),
    );
    summary.textContent =
      total > timers.length ? `The soonest ${timers.length} of ${total} timers.` : `${total} timer(s) set.`;
  }

  return { section, load };
}

/** An order's timer links to its timeline; any other shows its key. */
function target(timer) {
  const order = /^order-[a-z-]+:([0-9a-f-]{36})$/.exec(timer.key)?.[1];
  if (order) return h('a', { href: `#/orders/${order}` }, `Order ${order.slice(-8)}`);
  return h('code', {}, timer.key);
}
