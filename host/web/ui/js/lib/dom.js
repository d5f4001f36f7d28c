// DOM and formatting helpers shared by the views. Everything is built with h() so that text is
// always inserted as text (never parsed as HTML): label values and error messages come from
// scraped data and must not be able to inject markup.

/**
 * Creates an element. attrs: plain attributes, plus `class`, `style` (string or object),
 * `dataset` (object), `on<event>` handlers and boolean/`null` values (null/false omit the
 * attribute). Children may be nodes, strings, numbers, arrays (flattened) or null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'style') {
        // Through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' allows.
        if (typeof v === 'object') Object.assign(el.style, v);
        else el.style.cssText = v;
      } else if (k === 'dataset') {
        for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[dk] = dv;
      } else if (k === 'value' || k === 'checked' || k === 'selected') {
        el[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Escapes a label value the way PromQL and Alertmanager matchers quote strings. */
export function quote(s) {
  return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** `{a="b", c="d"}` from a label object, __name__ first as a metric name. */
export function labelString(labels, { withName = true } = {}) {
  const entries = Object.entries(labels || {}).filter(([k]) => k !== '__name__');
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const inner = entries.map(([k, v]) => `${k}=${quote(v)}`).join(', ');
  const name = withName && labels && labels.__name__ ? labels.__name__ : '';
  return name + '{' + inner + '}';
}

/** Label chips, each `name=value`, skipping the names in `skip`. */
export function labelChips(labels, skip = []) {
  const keys = Object.keys(labels || {}).filter((k) => !skip.includes(k)).sort();
  if (!keys.length) return null;
  return h('span', { class: 'labels' }, keys.map((k) =>
    h('span', { class: 'label', title: `${k}="${labels[k]}"` }, h('b', null, k), '=', labels[k])));
}

/** A coloured state badge; kind is one of ok, warn, crit, info, muted. */
export function badge(text, kind = 'muted', attrs = {}) {
  return h('span', { ...attrs, class: `badge badge-${kind}` + (attrs.class ? ' ' + attrs.class : '') }, text);
}

/** A short human duration from seconds: 950ms, 12s, 4m 3s, 2h 5m, 3d 4h. */
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return '–';
  const neg = sec < 0;
  let s = Math.abs(sec);
  let out;
  if (s < 1e-3) out = (s * 1e6).toFixed(0) + 'µs';
  else if (s < 1) out = (s * 1e3).toFixed(s < 0.01 ? 2 : 0) + 'ms';
  else if (s < 60) out = s.toFixed(s < 10 ? 1 : 0) + 's';
  else if (s < 3600) out = Math.floor(s / 60) + 'm ' + Math.floor(s % 60) + 's';
  else if (s < 86400) out = Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  else out = Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  return (neg ? '-' : '') + out;
}

/** Parses a Prometheus duration (`1h30m`, `2h`, `90s`, `1d`, `1w`, `500ms`) into seconds, or NaN. */
export function parseDuration(str) {
  const s = String(str || '').trim();
  if (!s) return NaN;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  let m;
  let pos = 0;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]) * mult[m[2]];
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? total : NaN;
}

/** Parses an RFC 3339 time into epoch milliseconds; the zero time (year 1) is null. */
export function parseTime(t) {
  if (!t) return null;
  const ms = Date.parse(t);
  if (!isFinite(ms) || ms <= 0) return null;
  return ms;
}

/** "3m 2s ago" / "in 2h 4m" from an RFC 3339 string or epoch ms; "never" for the zero time. */
export function fmtAgo(t, now = Date.now()) {
  const ms = typeof t === 'number' ? t : parseTime(t);
  if (ms === null) return 'never';
  const d = (now - ms) / 1000;
  if (Math.abs(d) < 1) return 'just now';
  return d >= 0 ? fmtDuration(d) + ' ago' : 'in ' + fmtDuration(-d);
}

/** A <time> element showing "ago" with the absolute time as its tooltip. */
export function timeAgo(t) {
  const ms = typeof t === 'number' ? t : parseTime(t);
  // Out of Date's range too: an empty head reports minTime as the largest int64, as Prometheus.
  if (ms === null || !Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: new Date(ms).toISOString(), title: fmtTime(ms) }, fmtAgo(ms));
}

/** Local date and time, second precision: 2026-12-05 09:06:41. */
export function fmtTime(t) {
  const ms = typeof t === 'number' ? t : parseTime(t);
  if (ms === null || !Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return '–';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Bytes in binary units: 1.5 KiB, 20 MiB. */
export function fmtBytes(n) {
  if (n === null || n === undefined || !isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (n < 0 ? '-' : '') + (i === 0 ? v.toFixed(0) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + units[i];
}

/** A number with SI suffixes for large values and sensible precision: 1.23k, 45.6M, 0.0012. */
export function fmtNum(n, digits = 3) {
  if (n === null || n === undefined || n === '') return '–';
  const v = typeof n === 'string' ? parseFloat(n) : n;
  if (!isFinite(v)) return String(n);
  const a = Math.abs(v);
  if (a >= 1e15) return v.toExponential(2);
  for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= d) return +(v / d).toPrecision(digits) + s;
  }
  if (a === 0) return '0';
  if (a < 1e-3) return v.toExponential(2);
  return String(+v.toPrecision(digits));
}

/** A percentage from a ratio: 0.9990 → 99.9%. */
export function fmtPct(r, digits = 2) {
  if (r === null || r === undefined || !isFinite(r)) return '–';
  const p = r * 100;
  return +p.toFixed(Math.abs(p) >= 100 ? 0 : digits) + '%';
}

/**
 * Runs fn every `ms` (the first time after `ms`: the view has just loaded) while the tab is
 * visible; a hidden tab pauses it and a
 * visible one runs it at once. Returns a stop function. Runs never overlap.
 */
export function poll(fn, ms) {
  let timer = null;
  let stopped = false;
  let running = false;
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(run, ms);
  };
  const run = async () => {
    if (stopped || running) return;
    running = true;
    try { await fn(); } catch (e) { /* the view shows its own errors */ }
    running = false;
    schedule();
  };
  const onVis = () => { if (!document.hidden) run(); else clearTimeout(timer); };
  document.addEventListener('visibilitychange', onVis);
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVis);
  };
}

/** A page header: title, optional subtitle and right-hand tools. */
export function pageHeader(title, subtitle, ...tools) {
  return h('header', { class: 'page-head' },
    h('div', null, h('h1', null, title), subtitle ? h('p', { class: 'muted sub' }, subtitle) : null),
    h('div', { class: 'tools' }, tools));
}

/** An inline notice: kind ok | warn | crit | info. */
export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'crit' ? 'alert' : 'status' }, children);
}

/** The empty or unavailable state of a view or section. */
export function empty(title, detail) {
  return h('div', { class: 'empty' }, h('strong', null, title), detail ? h('p', { class: 'muted' }, detail) : null);
}

/** Simple sortable-by-click table header cell helper: returns a <th> that calls onSort(key). */
export function th(label, key, sort, onSort, attrs = {}) {
  if (!key) return h('th', attrs, label);
  const [k, dir] = (sort || '').split(':');
  const active = k === key;
  return h('th', { ...attrs, class: 'sortable' + (active ? ' sorted' : ''), 'aria-sort': active ? (dir === 'desc' ? 'descending' : 'ascending') : null },
    h('button', { type: 'button', onclick: () => onSort(active && dir !== 'desc' ? `${key}:desc` : `${key}:asc`) },
      label, active ? (dir === 'desc' ? ' ▼' : ' ▲') : ''));
}

/** Compares for sorting: numbers numerically, strings naturally, nulls last. */
export function cmp(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** A long error text clamped to a few lines; a click shows all of it. */
export function errText(text) {
  const el = h('span', { class: 'err-text clamp', title: 'Click to show all', onclick: () => el.classList.toggle('clamp') }, text);
  return el;
}

/** A debounced version of fn. */
export function debounce(fn, ms = 200) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
