// Builds DOM nodes without innerHTML: text is always text, so data from the
// API can never become markup.
export function h(tag, attrs = {}, ...children) {
  const svg = ['svg', 'path', 'polyline', 'line', 'text', 'g', 'rect', 'title'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.setAttribute('class', value);
    else if (key in el && !svg && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(parent, ...children) {
  parent.replaceChildren(
    ...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false),
  );
}

// Money, dates and times in the browser's locale (undefined: navigator.language).
export function money(m) {
  if (!m) return '';
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currency || 'EUR' }).format(
    m.amountMinor / 100,
  );
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A date and time as the browser's locale writes them ("6 Dec 2026, 19:44"; "—" when missing). */
export function when(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : '—';
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "in 29 minutes", "2 hours ago", in the browser's locale. */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps = [
    [60, 'second'],
    [3600, 'minute'],
    [86400, 'hour'],
    [Number.POSITIVE_INFINITY, 'day'],
  ];
  const sizes = { second: 1, minute: 60, hour: 3600, day: 86400 };
  const [, unit] = steps.find(([limit]) => Math.abs(seconds) < limit);
  return relative.format(Math.round(seconds / sizes[unit]), unit);
}

export const short = (id) => (id ? id.slice(-8) : '');

let toastTimer;
/**
 * A message in the corner for 6 s (or until dismissed). The page keeps room below its content
 * (main's bottom padding), so scrolled to the end nothing stays under it.
 */
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  const dismiss = () => {
    clearTimeout(toastTimer);
    el.replaceChildren();
  };
  el.replaceChildren(
    h('span', {}, text),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', onclick: dismiss }, '×'),
  );
  el.dataset.kind = kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(dismiss, 6000);
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

/** A labelled form field. */
export function field(label, input) {
  const id = input.id || uid('f');
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}
