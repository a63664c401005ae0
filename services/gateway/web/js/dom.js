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

export function money(m) {
  if (!m) return '';
  return new Intl.NumberFormat('en', { style: 'currency', currency: m.currency || 'EUR' }).format(
    m.amountMinor / 100,
  );
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export const short = (id) => (id ? id.slice(-8) : '');

let toastTimer;
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.textContent = '';
  }, 6000);
}

let counter = 0;
export const uid = (prefix) => `${prefix}-${++counter}`;

/** A labelled form field. */
export function field(label, input) {
  const id = input.id || uid('f');
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}
