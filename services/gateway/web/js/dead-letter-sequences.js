import { api } from './api.js';
import { h, replace, toast } from './dom.js';

const REASON_SHOWN = 120;
const clip = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/**
 * Sequenced dead letters of orders and notifications (ADR 0031): a row per blocked key's head
 * with what waits behind it; redrive, or discard after an in-page confirmation. Ids are numbered
 * per service, so every action names the service beside the id.
 */
export function sequencesSection() {
  const body = h('tbody', { id: 'dead-letter-sequences' });
  const outcome = h('p', { id: 'sequence-result', 'aria-live': 'polite' });
  const question = h('p', { id: 'discard-question' });
  const dialog = h(
    'dialog',
    { id: 'discard-dialog', 'aria-labelledby': 'discard-h', 'aria-describedby': 'discard-question' },
    h('h3', { id: 'discard-h' }, 'Discard this dead letter?'),
    question,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: () => dialog.close('discard') }, 'Discard'),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close('cancel') }, 'Cancel'),
    ),
  );
  const columns = ['Service', 'Consumer', 'Key', 'State', 'Event', 'Reason', 'Parked behind', 'Actions'];
  const section = h(
    'section',
    { 'aria-labelledby': 'sequences-h' },
    h('h2', { id: 'sequences-h' }, 'Sequenced dead letters'),
    h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh sequences'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'Events that keep failing, each holding back the later events of its key'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            columns.map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        body,
      ),
    ),
    outcome,
    dialog,
  );

  async function load() {
    const { sequences, nextPageToken } = await api.get('/api/ops/dead-letter-sequences');
    replace(
      body,
      sequences.length === 0
        ? h('tr', {}, h('td', { colspan: String(columns.length) }, 'No blocked sequences.'))
        : sequences.map(row),
      nextPageToken
        ? h(
            'tr',
            {},
            h('td', { colspan: String(columns.length) }, 'More are blocked: act on these, then refresh.'),
          )
        : null,
    );
  }

  function row(s) {
    const { head } = s;
    const label = `${s.service} ${head.id}`;
    return h(
      'tr',
      { 'data-service': s.service, 'data-id': head.id },
      h('td', {}, s.service),
      h('td', {}, head.consumer),
      h('td', {}, h('code', {}, head.sequenceKey)),
      h('td', {}, h('span', { class: `badge ${head.state}` }, head.state)),
      h('td', {}, head.eventType || head.subject),
      h('td', { title: head.reason }, clip(head.reason, REASON_SHOWN)),
      h('td', { class: 'parked' }, String(s.parkedBehind)),
      h(
        'td',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', 'aria-label': `Redrive sequence ${label}`, onclick: (e) => act('redrive', s, e) },
          'Redrive',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Discard dead letter ${label}`,
            onclick: (e) => act('discard', s, e),
          },
          'Discard',
        ),
      ),
    );
  }

  /** Opens the dialog; resolves true when the admin chose Discard (Escape or Cancel: false). */
  function confirmDiscard(s) {
    replace(
      question,
      `${s.head.eventType || s.head.subject} of ${s.head.sequenceKey} (${s.service} ${s.head.id}) is dropped `,
      'without being applied; this cannot be undone. ',
      s.parkedBehind > 0
        ? `The ${s.parkedBehind} event(s) parked behind it are applied next.`
        : 'Nothing waits behind it.',
    );
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) =>
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'discard'), { once: true }),
    );
  }

  async function act(kind, s, event) {
    // Read before any await: currentTarget is null once the click has been dispatched.
    const buttons = event.currentTarget.parentElement.querySelectorAll('button');
    if (kind === 'discard' && !(await confirmDiscard(s))) return;
    for (const b of buttons) b.disabled = true;
    const path = `/api/ops/dead-letter-sequences/${s.service}/${encodeURIComponent(s.head.id)}/${kind}`;
    try {
      const result = await api.post(path, kind === 'discard' ? { confirm: true } : {});
      outcome.textContent = describe(kind, result);
      toast(outcome.textContent);
    } catch (error) {
      outcome.textContent = `${kind === 'discard' ? 'Discard' : 'Redrive'} of ${s.service} ${s.head.id} failed: ${error.message}`;
      toast(error.message, 'error');
    }
    await load();
  }

  return { section, load };
}

function describe(kind, r) {
  const parts = [
    `${kind === 'discard' ? 'Discarded' : 'Redrove'} ${r.service} ${r.id}: applied ${r.applied}`,
  ];
  if (r.deadAgainId) parts.push(`dead again as ${r.deadAgainId}: ${clip(r.deadAgainReason, REASON_SHOWN)}`);
  if (r.continuing) parts.push('the rest are applied in the background');
  return `${parts.join('; ')}.`;
}
