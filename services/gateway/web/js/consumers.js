import { api } from './api.js';
import { field, h, replace, short, toast, when } from './dom.js';

/**
 * Consumer controls (ADR 0033): each durable consumer of orders and notifications with its lag
 * and replicas; pause (with a reason), resume, and reset to a sequence or a time, each asked in a
 * dialog first. A reset needs the consumer paused and leaves it paused.
 */
export function consumersSection() {
  const body = h('tbody', { id: 'consumers' });
  const outcome = h('p', { id: 'consumer-result', 'aria-live': 'polite' });
  const columns = [
    'Consumer',
    'State',
    'Lag',
    'Pending',
    'Unacknowledged',
    'Redelivered',
    'Replicas',
    'Changed',
    'Actions',
  ];

  const pauseReason = h('input', {
    type: 'text',
    maxlength: '200',
    placeholder: 'e.g. mail provider outage',
  });
  const pauseQuestion = h('p', { id: 'pause-question' });
  const pauseDialog = dialog(
    'pause',
    'Pause this consumer?',
    pauseQuestion,
    [field('Reason (optional)', pauseReason)],
    'Pause',
  );

  const resetSequence = h('input', { type: 'number', min: '1', step: '1', inputmode: 'numeric' });
  const resetTime = h('input', { type: 'datetime-local', step: '1' });
  const resetQuestion = h('p', { id: 'reset-question' });
  const resetDialog = dialog(
    'reset',
    'Reset this consumer?',
    resetQuestion,
    [field('From stream sequence', resetSequence), field('or from time (your local time)', resetTime)],
    'Reset',
  );

  const section = h(
    'section',
    { 'aria-labelledby': 'consumers-h' },
    h('h2', { id: 'consumers-h' }, 'Consumers'),
    h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh consumers'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'Durable consumers: what each has still to handle, and who paused it'),
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
    pauseDialog,
    resetDialog,
  );

  async function load() {
    const { consumers } = await api.get('/api/ops/consumers');
    replace(
      body,
      consumers.length === 0
        ? h('tr', {}, h('td', { colspan: String(columns.length) }, 'No consumers reported.'))
        : consumers.map(row),
    );
  }

  function row(c) {
    const name = `${c.service}/${c.stream}/${c.durable}`;
    const obeying = c.replicas.filter((r) => r.current && r.paused === c.paused).length;
    return h(
      'tr',
      { 'data-consumer': name },
      h('th', { scope: 'row' }, h('code', {}, name)),
      h(
        'td',
        {},
        h('span', { class: `badge ${c.paused ? 'paused' : 'running'}` }, c.paused ? 'paused' : 'running'),
      ),
      h('td', { class: 'lag' }, String(c.lag)),
      h('td', {}, String(c.pending)),
      h('td', {}, String(c.ackPending)),
      h('td', {}, String(c.redelivered)),
      h(
        'td',
        { title: c.replicas.map((r) => r.replica).join(', ') },
        `${obeying} of ${c.replicas.length} ${c.paused ? 'paused' : 'running'}`,
      ),
      h(
        'td',
        {},
        c.changedAt
          ? `${when(c.changedAt)} by …${short(c.changedBy)}${c.reason ? ` — ${c.reason}` : ''}`
          : '—',
        c.lastReset ? h('br') : null,
        c.lastReset ? h('small', { title: `reset ${c.lastReset}` }, `reset: starts at ${c.startsAt}`) : null,
      ),
      h(
        'td',
        { class: 'actions' },
        c.paused
          ? h(
              'button',
              { type: 'button', 'aria-label': `Resume ${name}`, onclick: (e) => resume(c, e) },
              'Resume',
            )
          : h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'aria-label': `Pause ${name}`,
                onclick: (e) => pause(c, e),
              },
              'Pause',
            ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Reset ${name}`,
            disabled: !c.paused,
            title: c.paused ? undefined : 'Pause it first',
            onclick: (e) => reset(c, e),
          },
          'Reset',
        ),
      ),
    );
  }

  const pathOf = (c, action) =>
    `/api/ops/consumers/${c.service}/${encodeURIComponent(c.stream)}/${encodeURIComponent(c.durable)}/${action}`;

  async function act(c, event, action, payload, said) {
    const buttons = event.currentTarget.parentElement.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      const updated = await api.post(pathOf(c, action), payload);
      outcome.textContent = said(updated);
      toast(outcome.textContent);
    } catch (error) {
      outcome.textContent = `${action} of ${c.service}/${c.stream}/${c.durable} failed: ${error.message}`;
      toast(error.message, 'error');
    }
    await load();
  }

  async function pause(c, event) {
    const target = event.currentTarget;
    replace(
      pauseQuestion,
      `Every replica of ${c.service} stops pulling ${c.durable} on ${c.stream} within a second; `,
      'events wait in the stream until it is resumed.',
    );
    pauseReason.value = '';
    if (!(await ask(pauseDialog))) return;
    await act(
      c,
      { currentTarget: target },
      'pause',
      { reason: pauseReason.value },
      (u) => `Paused ${u.service}/${u.stream}/${u.durable}; ${u.pending} event(s) wait.`,
    );
  }

  function resume(c, event) {
    return act(c, event, 'resume', {}, (u) => `Resumed ${u.service}/${u.stream}/${u.durable}.`);
  }

  async function reset(c, event) {
    const target = event.currentTarget;
    replace(
      resetQuestion,
      `${c.durable} on ${c.stream} will deliver the stream again from the sequence or time you give `,
      `(its last is #${c.streamLastSequence}); its present position is lost. Events it handled before are `,
      'recognised by its inbox and take no effect twice. It stays paused until you resume it.',
    );
    resetSequence.value = '';
    resetTime.value = '';
    if (!(await ask(resetDialog))) return;
    const payload = { confirm: true };
    if (resetSequence.value) payload.startSequence = Number(resetSequence.value);
    if (resetTime.value) payload.startTime = new Date(resetTime.value).toISOString();
    await act(
      c,
      { currentTarget: target },
      'reset',
      payload,
      (u) =>
        `Reset ${u.service}/${u.stream}/${u.durable} to ${u.startsAt}; resume it to replay ${u.pending} event(s).`,
    );
  }

  return { section, load };
}

/** A modal dialog with a question, fields, the action and Cancel. */
function dialog(kind, title, question, fields, action) {
  const el = h(
    'dialog',
    { id: `${kind}-dialog`, 'aria-labelledby': `${kind}-h`, 'aria-describedby': question.id },
    h('h3', { id: `${kind}-h` }, title),
    question,
    fields,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: () => el.close(kind) }, action),
      h('button', { type: 'button', class: 'secondary', onclick: () => el.close('cancel') }, 'Cancel'),
    ),
  );
  return el;
}

/** Opens a dialog; resolves true when its action was chosen (Escape or Cancel: false). */
function ask(el) {
  el.returnValue = '';
  el.showModal();
  const kind = el.id.replace(/-dialog$/, '');
  return new Promise((resolve) =>
    el.addEventListener('close', () => resolve(el.returnValue === kind), { once: true }),
  );
}
