import { api, live, postStream } from './api.js';
import { lineChart } from './charts.js';
import { consumersSection } from './consumers.js';
import { sequencesSection } from './dead-letter-sequences.js';
import { h, replace, toast, when } from './dom.js';
import { adminsOnly, signInFirst } from './guards.js';
import { timersSection } from './timers.js';

const WINDOW = 60;

/** Health, live charts, lag/backlog/breakers, dead-letter and sequence triage, consumer controls, timers due soon, projection rebuild. */
export function opsPage(main, session) {
  if (!session.user) return signInFirst(main, 'Operations');
  if (session.user.role !== 'admin') return adminsOnly(main, 'Operations');
  const tiles = h('ul', { class: 'tiles', id: 'health', 'aria-live': 'polite' });
  const charts = h('div', { class: 'charts' });
  const gauges = h('div', { class: 'table-wrap', id: 'gauges' });
  const dlqBody = h('tbody', { id: 'dead-letters' });
  const inspect = h('div', { id: 'dead-letter-detail', 'aria-live': 'polite' });
  const progress = h('progress', {
    id: 'rebuild-progress',
    max: '1',
    value: '0',
    'aria-labelledby': 'rebuild-h',
  });
  const progressText = h('p', { id: 'rebuild-status', 'aria-live': 'polite' }, 'Idle.');
  const rebuildButton = h('button', { type: 'button', id: 'rebuild' }, 'Rebuild projections');
  const sequences = sequencesSection();
  const consumers = consumersSection();
  const timers = timersSection();
  replace(
    main,
    h('h1', {}, 'Operations'),
    h('section', { 'aria-labelledby': 'health-h' }, h('h2', { id: 'health-h' }, 'Service health'), tiles),
    h('section', { 'aria-labelledby': 'charts-h' }, h('h2', { id: 'charts-h' }, 'Traffic'), charts),
    h(
      'section',
      { 'aria-labelledby': 'gauges-h' },
      h('h2', { id: 'gauges-h' }, 'Lag, backlog and breakers'),
      gauges,
    ),
    h(
      'section',
      { 'aria-labelledby': 'dlq-h' },
      h('h2', { id: 'dlq-h' }, 'Dead letters'),
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => loadDeadLetters() },
        'Refresh dead letters',
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          {},
          h('caption', {}, 'Messages the notification consumer gave up on'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Id', 'Subject', 'Reason', 'Failed', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          dlqBody,
        ),
      ),
      inspect,
    ),
    sequences.section,
    consumers.section,
    timers.section,
    h(
      'section',
      { 'aria-labelledby': 'rebuild-h' },
      h('h2', { id: 'rebuild-h' }, 'Projection rebuild'),
      rebuildButton,
      progress,
      progressText,
    ),
  );

  const history = { throughput: [], errors: [] };
  let previous;
  const stop = live('/api/events/ops', {
    snapshot: (snap) => {
      replace(
        tiles,
        snap.health.map((s) =>
          h(
            'li',
            { class: `tile ${s.ready ? 'ok' : 'down'}` },
            h('strong', {}, s.name),
            h('span', {}, s.ready ? 'ready' : 'not ready'),
            h(
              'small',
              {},
              Object.entries(s.checks)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ') || s.error,
            ),
          ),
        ),
      );
      const totals = sumUp(snap.metrics);
      if (previous) {
        const seconds = Math.max(0.5, (Date.parse(snap.at) - Date.parse(previous.at)) / 1000);
        push(history.throughput, Math.max(0, (totals.events - previous.totals.events) / seconds));
        const calls = totals.grpc - previous.totals.grpc;
        push(
          history.errors,
          calls > 0 ? (100 * Math.max(0, totals.grpcErrors - previous.totals.grpcErrors)) / calls : 0,
        );
      }
      previous = { at: snap.at, totals };
      replace(
        charts,
        lineChart({
          title: 'Event throughput',
          unit: 'events/s',
          series: [{ name: 'published + consumed', values: history.throughput, className: 's1' }],
        }),
        lineChart({
          title: 'gRPC error rate',
          unit: '%',
          series: [{ name: 'errors', values: history.errors, className: 's2' }],
        }),
      );
      replace(gauges, gaugeTable(snap.metrics));
    },
    problem: (p) => toast(p.detail, 'error'),
  });

  async function loadDeadLetters() {
    const { deadLetters } = await api.get('/api/ops/dead-letters');
    replace(
      dlqBody,
      deadLetters.length === 0
        ? h('tr', {}, h('td', { colspan: '5' }, 'No dead letters.'))
        : deadLetters.map((d) =>
            h(
              'tr',
              { 'data-id': d.id },
              h('td', {}, d.id),
              h('td', {}, d.originalSubject),
              h('td', {}, d.reason),
              h('td', {}, when(d.failedAt)),
              h(
                'td',
                { class: 'actions' },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    'aria-label': `Inspect dead letter ${d.id}`,
                    onclick: () => showDeadLetter(d.id),
                  },
                  'Inspect',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Redrive dead letter ${d.id}`,
                    onclick: () => redrive(d.id),
                  },
                  'Redrive',
                ),
              ),
            ),
          ),
    );
  }
  async function showDeadLetter(id) {
    const { deadLetter } = await api.get(`/api/ops/dead-letters/${id}`);
    replace(
      inspect,
      h(
        'div',
        { class: 'card' },
        h('h3', {}, `Dead letter ${id}`),
        h(
          'p',
          {},
          `${deadLetter.originalSubject} · ${deadLetter.deliveries} deliveries · ${deadLetter.reason}`,
        ),
        h('h4', {}, 'Headers'),
        h('pre', { tabindex: '0' }, JSON.stringify(deadLetter.headers, null, 2)),
        h('h4', {}, 'Payload'),
        h('pre', { tabindex: '0' }, deadLetter.payload),
      ),
    );
  }
  async function redrive(id) {
    const { redriven } = await api.post(`/api/ops/dead-letters/${id}/redrive`, {});
    toast(
      redriven.length ? `Redrove dead letter ${redriven.join(', ')}` : `Dead letter ${id} was already gone`,
    );
    replace(inspect);
    await loadDeadLetters();
  }
  rebuildButton.addEventListener('click', async () => {
    rebuildButton.disabled = true;
    progress.value = 0;
    try {
      await postStream('/api/ops/projections/rebuild', (event, data) => {
        if (event === 'progress') {
          progress.max = Math.max(1, data.total);
          progress.value = data.processed;
          progressText.textContent = `${data.phase}: ${data.processed} of ${data.total} events`;
        } else if (event === 'done') {
          progress.value = progress.max;
          progressText.textContent = 'Rebuild done.';
        } else if (event === 'problem') {
          progressText.textContent = `Rebuild failed: ${data.detail}`;
        }
      });
    } catch (error) {
      progressText.textContent = `Rebuild failed: ${error.message}`;
    } finally {
      rebuildButton.disabled = false;
    }
  });
  loadDeadLetters().catch((e) => toast(e.message, 'error'));
  sequences.load().catch((e) => toast(e.message, 'error'));
  consumers.load().catch((e) => toast(e.message, 'error'));
  timers.load().catch((e) => toast(e.message, 'error'));
  return stop;
}

function push(values, v) {
  values.push(v);
  if (values.length > WINDOW) values.shift();
}

function sumUp(metrics) {
  return metrics.reduce(
    (t, m) => ({
      events: t.events + m.eventsPublished + m.eventsConsumed,
      grpc: t.grpc + m.grpcRequests,
      grpcErrors: t.grpcErrors + m.grpcErrors,
    }),
    { events: 0, grpc: 0, grpcErrors: 0 },
  );
}

function gaugeTable(metrics) {
  return h(
    'table',
    {},
    h('caption', {}, 'Per service, from its /metrics'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Service', 'Metrics', 'Outbox backlog', 'Consumer lag', 'Dead-lettered', 'Circuit breakers'].map(
          (t) => h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      metrics.map((m) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, m.service),
          h('td', {}, m.up ? 'up' : 'down'),
          h('td', {}, String(m.outboxBacklog)),
          h(
            'td',
            {},
            Object.entries(m.consumerLag)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ') || 'not reported',
          ),
          h('td', {}, String(m.deadLettered)),
          h(
            'td',
            {},
            Object.entries(m.breakers)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ') || 'none',
          ),
        ),
      ),
    ),
  );
}
