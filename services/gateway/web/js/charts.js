import { h } from './dom.js';

/**
 * A small live line chart in inline SVG. `series` is [{ name, values, className }];
 * the chart has a title and a text summary for screen readers.
 */
export function lineChart({ title, unit, series, width = 480, height = 160 }) {
  const pad = { left: 44, right: 8, top: 10, bottom: 22 };
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i) => pad.left + (i * (width - pad.left - pad.right)) / (n - 1);
  const y = (v) => height - pad.bottom - (v * (height - pad.top - pad.bottom)) / max;
  const latest = series.map((s) => `${s.name} ${format(s.values.at(-1) ?? 0)} ${unit}`).join(', ');
  return h(
    'figure',
    { class: 'chart' },
    h(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: ${latest}` },
      h('line', { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), class: 'axis' }),
      h('line', { x1: pad.left, y1: y(max), x2: width - pad.right, y2: y(max), class: 'grid' }),
      h('text', { x: pad.left - 4, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, format(max)),
      h('text', { x: pad.left - 4, y: y(0) + 4, class: 'tick', 'text-anchor': 'end' }, '0'),
      series.map((s) =>
        h('polyline', {
          class: `line ${s.className}`,
          fill: 'none',
          points: s.values.map((v, i) => `${x(i)},${y(v)}`).join(' '),
        }),
      ),
    ),
    h(
      'figcaption',
      {},
      h('strong', {}, title),
      ' — ',
      series.map((s) =>
        h('span', { class: `legend ${s.className}` }, `${s.name}: ${format(s.values.at(-1) ?? 0)} ${unit} `),
      ),
    ),
  );
}

const format = (v) => (v >= 100 ? Math.round(v).toString() : (Math.round(v * 100) / 100).toString());
