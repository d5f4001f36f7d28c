// PromQL completion for Explore's textarea: metric names, label names and values (scoped by
// the selector's metric), functions, aggregations and keywords, in a dropdown navigated with
// the arrows, Tab/Enter to accept and Escape to close.
import { fetchJSON, h } from './util.js';

export const FUNCTIONS = [
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil',
  'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week',
  'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv', 'exp', 'floor', 'histogram_avg', 'histogram_count',
  'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum',
  'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln',
  'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi', 'predict_linear',
  'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin', 'sinh',
  'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time',
  'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year',
];
export const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];
export const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', '@', 'start()', 'end()'];
const DURATIONS = ['1m', '5m', '10m', '15m', '30m', '1h', '6h', '1d', '$__rate_interval', '$__interval'];

/** The completion context at the cursor: {kind, prefix, metric?, label?}. */
export function contextAt(text, pos) {
  const before = text.slice(0, pos);
  const open = before.lastIndexOf('{');
  const close = before.lastIndexOf('}');
  if (open > close) {
    const inner = before.slice(open + 1);
    const mm = /([a-zA-Z_:][\w:]*)\s*$/.exec(before.slice(0, open));
    const metric = mm ? mm[1] : '';
    let m = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/.exec(inner);
    if (m) return { kind: 'labelValue', label: m[1], prefix: m[3], metric };
    m = /(?:^|,)\s*([a-zA-Z_]\w*)?$/.exec(inner);
    if (m) return { kind: 'labelName', prefix: m[1] || '', metric };
    return null;
  }
  if (/\[[\w$]*$/.test(before) && before.lastIndexOf('[') > before.lastIndexOf(']')) {
    return { kind: 'duration', prefix: /[\w$]*$/.exec(before)[0] };
  }
  let m = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([\w\s,]*)$/.exec(before);
  if (m) return { kind: 'labelName', prefix: /(\w*)$/.exec(m[1])[1], metric: firstMetric(text) };
  m = /([a-zA-Z_:][\w:]*)$/.exec(before);
  if (m) return { kind: 'any', prefix: m[1] };
  return null;
}

/** The first metric name in an expression (strings, matchers and `by (...)` lists skipped). */
export function firstMetric(text) {
  const skip = new Set([...FUNCTIONS, ...AGGREGATIONS, ...KEYWORDS]);
  const cleaned = text
    .replace(/"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?/g, '""')
    .replace(/\{[^}]*\}?/g, '{}')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)?/g, ' ');
  const re = /(?:^|[^\w:"$])([a-zA-Z_:][\w:]*)(?=\s*(?:\{|\[|\)|$|\s|[-+*/%^<>=!,]))/g;
  let m;
  while ((m = re.exec(cleaned))) if (!skip.has(m[1])) return m[1];
  return '';
}

/** Ranks candidates: prefix matches first, then substring matches, both alphabetical. */
function rank(list, prefix, kind, limit = 60) {
  const p = prefix.toLowerCase();
  const starts = [];
  const contains = [];
  for (const c of list) {
    const l = c.toLowerCase();
    if (l.startsWith(p)) starts.push(c);
    else if (p && l.includes(p)) contains.push(c);
    if (starts.length > limit) break;
  }
  return [...starts, ...contains].slice(0, limit).map((v) => ({ value: v, kind }));
}

/** Attaches completion to a textarea; onRun() is called for Enter when the list is closed. */
export function attachCompletion(textarea, { onRun, container }) {
  const cache = new Map();
  const get = (url) => {
    if (!cache.has(url)) cache.set(url, fetchJSON(url).then((r) => r.data || []).catch(() => []));
    return cache.get(url);
  };
  const list = h('ul', { class: 'expr-complete', role: 'listbox', hidden: true, id: `cmp-${Math.random().toString(36).slice(2)}` });
  container.append(list);
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', list.id);
  let items = [];
  let sel = 0;
  let ctx = null;
  let seq = 0;

  function close() {
    list.hidden = true;
    items = [];
    textarea.setAttribute('aria-expanded', 'false');
  }

  function show() {
    list.replaceChildren(
      ...items.map((it, i) =>
        h(
          'li',
          {
            role: 'option',
            id: `${list.id}-${i}`,
            'aria-selected': String(i === sel),
            onmousedown: (e) => {
              e.preventDefault();
              sel = i;
              accept();
            },
          },
          h('span', null, it.value),
          h('span', { class: 'kind' }, it.kind),
        ),
      ),
    );
    list.hidden = !items.length;
    textarea.setAttribute('aria-expanded', String(!!items.length));
    if (items.length) {
      textarea.setAttribute('aria-activedescendant', `${list.id}-${sel}`);
      const li = list.children[sel];
      if (li && li.scrollIntoView) li.scrollIntoView({ block: 'nearest' });
    }
    list.style.top = `${textarea.offsetTop + textarea.offsetHeight + 2}px`;
    list.style.left = `${textarea.offsetLeft}px`;
  }

  async function update(force) {
    const my = ++seq;
    let c = contextAt(textarea.value, textarea.selectionStart);
    // Ctrl+Space where no word has started yet lists everything.
    if (!c && force) c = { kind: 'any', prefix: '' };
    ctx = c;
    if (!c || (c.kind === 'any' && !force && c.prefix.length < 1)) return close();
    let cands = [];
    if (c.kind === 'any') {
      const metrics = await get('api/v1/label/__name__/values');
      cands = [...rank(AGGREGATIONS, c.prefix, 'aggregation', 10), ...rank(FUNCTIONS, c.prefix, 'function', 15), ...rank(KEYWORDS, c.prefix, 'keyword', 5), ...rank(metrics, c.prefix, 'metric')];
    } else if (c.kind === 'labelName') {
      const url = c.metric ? `api/v1/labels?match[]=${encodeURIComponent(c.metric)}` : 'api/v1/labels';
      cands = rank((await get(url)).filter((l) => l !== '__name__'), c.prefix, 'label');
    } else if (c.kind === 'labelValue') {
      const url = `api/v1/label/${encodeURIComponent(c.label)}/values${c.metric ? `?match[]=${encodeURIComponent(c.metric)}` : ''}`;
      cands = rank(await get(url), c.prefix, 'value');
    } else if (c.kind === 'duration') cands = rank(DURATIONS, c.prefix, 'duration');
    if (my !== seq) return;
    // An exact, complete match needs no list.
    items = cands.filter((x) => !(x.value === c.prefix && c.kind !== 'labelValue'));
    sel = 0;
    show();
  }

  function accept() {
    const it = items[sel];
    if (!it || !ctx) return;
    const pos = textarea.selectionStart;
    const start = pos - ctx.prefix.length;
    let ins = it.value;
    let after = textarea.value.slice(pos);
    if (ctx.kind === 'labelValue') {
      ins = it.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
      if (!after.startsWith('"')) ins += '"';
    } else if (ctx.kind === 'labelName' && /\{[^}]*$/.test(textarea.value.slice(0, pos))) {
      if (!/^\s*(=|!=|=~|!~)/.test(after)) ins += '="';
    } else if ((it.kind === 'function' || it.kind === 'aggregation') && !after.startsWith('(')) ins += '(';
    else if (ctx.kind === 'duration' && !after.startsWith(']')) ins += ']';
    textarea.value = textarea.value.slice(0, start) + ins + after;
    const caret = start + ins.length;
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    close();
    if (ctx.kind === 'labelName' || it.kind === 'function' || it.kind === 'aggregation') update(true);
  }

  textarea.addEventListener('input', () => update(false));
  textarea.addEventListener('blur', () => setTimeout(close, 150));
  textarea.addEventListener('keydown', (e) => {
    const open = !list.hidden && items.length;
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      update(true);
      return;
    }
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        sel = (sel + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
        show();
        return;
      }
      if ((e.key === 'Tab' || e.key === 'Enter') && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
        e.preventDefault();
        accept();
        return;
      }
      if (e.key === 'Escape') {
        // Closing the list must not also leave the box (the shell blurs on Escape).
        e.preventDefault();
        e.stopPropagation();
        close();
        return;
      }
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || !e.shiftKey)) {
      e.preventDefault();
      close();
      onRun();
    }
  });
  return { close };
}
