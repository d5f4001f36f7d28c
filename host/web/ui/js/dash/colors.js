// Grafana's colours: the named palette (green, semi-dark-red, ...), the classic series
// palette, and threshold steps (absolute or percentage) mapped to a colour.

const HUES = {
  red: ['#C4162A', '#E02F44', '#F2495C', '#FF7383', '#FFA6B0'],
  orange: ['#FA6400', '#FF780A', '#FF9830', '#FFB357', '#FFCB7D'],
  yellow: ['#E0B400', '#F2CC0C', '#FADE2A', '#FFEE52', '#FFF899'],
  green: ['#37872D', '#56A64B', '#73BF69', '#96D98D', '#C8F2C2'],
  blue: ['#1F60C4', '#3274D9', '#5794F2', '#8AB8FF', '#C0D8FF'],
  purple: ['#8F3BB8', '#A352CC', '#B877D9', '#CA95E5', '#DEB6F2'],
};
const SHADES = ['dark-', 'semi-dark-', '', 'light-', 'super-light-'];

const NAMED = {};
for (const [hue, list] of Object.entries(HUES)) {
  list.forEach((c, i) => (NAMED[SHADES[i] + hue] = c));
}
Object.assign(NAMED, {
  transparent: 'rgba(0,0,0,0)',
  white: '#ffffff',
  black: '#000000',
  'rgb(0, 0, 0)': '#000000',
});

// Grafana's classic series palette (palette-classic), readable on light and dark backgrounds.
export const PALETTE = [
  '#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0',
  '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477',
  '#B7DBAB', '#F4D598', '#70DBED', '#F9BA8F', '#F29191', '#82B5D8', '#E5A8E2', '#AEA2E0',
];

/** A Grafana colour (name, #hex, rgb()) as a CSS colour; `text` is the page's text colour. */
export function resolveColor(c, fallback = '#73BF69') {
  if (!c) return fallback;
  const s = String(c).trim();
  if (s === 'text') return 'var(--fg)';
  if (NAMED[s]) return NAMED[s];
  if (/^#[0-9a-f]{3,8}$/i.test(s) || /^(rgb|hsl)a?\(/i.test(s)) return s;
  return fallback;
}

/** Same, but a concrete value usable on a canvas (CSS variables resolved). */
export function canvasColor(c, fallback) {
  const r = resolveColor(c, fallback);
  if (r.startsWith('var(')) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(r.slice(4, -1)).trim();
    return v || '#888888';
  }
  return r;
}

/** `#rrggbb` (or a name) with an alpha, for fills. */
export function withAlpha(c, a) {
  const r = canvasColor(c, '#888888');
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(r);
  if (m) return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${a})`;
  const s = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(r);
  if (s) return `rgba(${parseInt(s[1] + s[1], 16)},${parseInt(s[2] + s[2], 16)},${parseInt(s[3] + s[3], 16)},${a})`;
  return r;
}

/**
 * Normalises thresholds: {mode: 'absolute'|'percentage', steps: [{value: null|-Infinity|n, color}]}
 * sorted, the base step's value -Infinity.
 */
export function normThresholds(t) {
  if (!t || !Array.isArray(t.steps) || !t.steps.length) return null;
  const steps = t.steps
    .map((s) => ({ value: s.value == null ? -Infinity : Number(s.value), color: s.color }))
    .filter((s) => !Number.isNaN(s.value))
    .sort((a, b) => a.value - b.value);
  return { mode: t.mode === 'percentage' ? 'percentage' : 'absolute', steps };
}

/** The threshold step a value falls in (percentage steps need the field's min and max). */
export function thresholdFor(v, th, min = 0, max = 100) {
  if (!th || v == null || Number.isNaN(v)) return null;
  let x = v;
  if (th.mode === 'percentage') x = max === min ? 0 : ((v - min) / (max - min)) * 100;
  let cur = th.steps[0];
  for (const s of th.steps) if (x >= s.value) cur = s;
  return cur;
}

/** Absolute threshold values (percentage steps scaled to the min..max range). */
export function absoluteSteps(th, min, max) {
  if (!th) return [];
  return th.steps.map((s) => ({
    color: s.color,
    value: th.mode === 'percentage' && Number.isFinite(s.value) ? min + ((max - min) * s.value) / 100 : s.value,
  }));
}
