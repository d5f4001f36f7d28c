// Template variables as Grafana's Prometheus data source runs them: query variables
// (label_values, metrics, query_result, label_names), custom, interval (with auto),
// constant and textbox; multi-value and "All" with Grafana's PromQL regex escaping; the
// `$var`, `${var}`, `${var:format}` and `[[var]]` forms; and the built-in $__interval,
// $__interval_ms, $__rate_interval, $__range, $__range_s, $__range_ms.
import { fetchJSON } from './util.js';
import { formatDuration, parseDuration, roundInterval } from './time.js';

export const ALL = '$__all';
const VAR_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Grafana's prometheusRegularEscape (single values of non-multi variables). */
export function regularEscape(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/** Grafana's prometheusSpecialRegexEscape (values inside a `=~` regex in a PromQL string). */
export function specialRegexEscape(v) {
  return String(v).replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

function regexEscape(v) {
  return String(v).replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** The value text of a variable for PromQL (no explicit format). */
function promFormat(value, v) {
  if (!v.multi && !v.includeAll) return regularEscape(Array.isArray(value) ? value[0] ?? '' : value);
  if (!Array.isArray(value)) return specialRegexEscape(value);
  const esc = value.map(specialRegexEscape);
  return esc.length === 1 ? esc[0] : `(${esc.join('|')})`;
}

function explicitFormat(values, fmt, v) {
  const arr = Array.isArray(values) ? values : [values];
  switch (fmt) {
    case 'raw':
      return arr.join(',');
    case 'regex':
      return arr.length === 1 ? regexEscape(arr[0]) : `(${arr.map(regexEscape).join('|')})`;
    case 'pipe':
      return arr.join('|');
    case 'csv':
      return arr.join(',');
    case 'json':
      return JSON.stringify(Array.isArray(values) ? arr : values);
    case 'doublequote':
      return arr.map((x) => `"${String(x).replace(/"/g, '\\"')}"`).join(',');
    case 'singlequote':
      return arr.map((x) => `'${String(x).replace(/'/g, "\\'")}'`).join(',');
    case 'glob':
      return arr.length === 1 ? arr[0] : `{${arr.join(',')}}`;
    case 'queryparam':
      return arr.map((x) => `var-${encodeURIComponent(v?.name || '')}=${encodeURIComponent(x)}`).join('&');
    case 'percentencode':
      return encodeURIComponent(arr.join(','));
    case 'text':
      return v && v.current && v.current.text != null ? [].concat(v.current.text).join(' + ') : arr.join(' + ');
    default:
      return v ? promFormat(values, v) : arr.join(',');
  }
}

/**
 * Built-in variables for a panel query. intervalMs is $__interval, rangeMs the time range;
 * from and to (ms) give $__from and $__to.
 */
export function builtins({ intervalMs, rateIntervalMs, rangeMs, from, to }) {
  const rs = Math.round(rangeMs / 1000);
  const ends = from != null && to != null ? { __from: String(Math.round(from)), __to: String(Math.round(to)) } : {};
  return {
    ...ends,
    __interval: formatDuration(intervalMs),
    __interval_ms: String(Math.round(intervalMs)),
    __rate_interval: formatDuration(rateIntervalMs),
    __range: `${rs}s`,
    __range_s: String(rs),
    __range_ms: String(Math.round(rangeMs)),
  };
}

/**
 * Replaces variables in `text`. `vars` is the list of resolved variables (with current
 * {value, text}); `scoped` maps built-in names to strings. Unknown names stay as written.
 */
export function interpolate(text, vars, scoped = {}, formatOverride) {
  if (!text || typeof text !== 'string' || !text.includes('$') && !text.includes('[[')) return text;
  const byName = new Map(vars.map((v) => [v.name, v]));
  return text.replace(VAR_RE, (match, a, b, bFmt, c, _field, cFmt) => {
    const name = a || b || c;
    const fmt = formatOverride || bFmt || cFmt;
    if (Object.prototype.hasOwnProperty.call(scoped, name)) return scoped[name];
    const v = byName.get(name);
    if (!v || !v.current) return match;
    let value = v.current.value;
    if (v.type === 'interval' && v.auto && value === '$__auto_interval_' + v.name) value = v._autoValue;
    if (v.type === 'interval' && (value === 'auto' || value === '$__auto')) value = v._autoValue;
    if (fmt === 'text') {
      const t = v.current.text ?? value;
      return Array.isArray(t) ? t.join(' + ') : String(t);
    }
    const all = value === ALL || (Array.isArray(value) && value.includes(ALL));
    if (all) {
      if (v.allValue != null && v.allValue !== '') return v.allValue;
      const options = (v.options || []).filter((o) => o.value !== ALL).map((o) => o.value);
      return explicitFormat(options, fmt, { ...v, multi: true });
    }
    return explicitFormat(value, fmt, v);
  });
}

function sortOptions(opts, sort) {
  const s = Number(sort || 0);
  if (!s) return opts;
  const key = (o) => o.text;
  let cmp;
  if (s === 1 || s === 2) cmp = (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  else if (s === 3 || s === 4) {
    const n = (o) => {
      const m = /-?\d+(\.\d+)?/.exec(o.text);
      return m ? Number(m[0]) : -Infinity;
    };
    cmp = (a, b) => n(a) - n(b);
  } else cmp = (a, b) => key(a).toLowerCase().localeCompare(key(b).toLowerCase());
  const out = [...opts].sort(cmp);
  return s === 2 || s === 4 || s === 6 ? out.reverse() : out;
}

function applyRegex(values, regex) {
  if (!regex) return values.map((x) => ({ text: x, value: x }));
  let re;
  try {
    const m = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
    re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex);
  } catch {
    return values.map((x) => ({ text: x, value: x }));
  }
  const out = [];
  const seen = new Set();
  for (const x of values) {
    const m = re.exec(x);
    if (!m) continue;
    let value = x;
    let text = x;
    if (m.groups && (m.groups.value || m.groups.text)) {
      value = m.groups.value ?? m.groups.text;
      text = m.groups.text ?? value;
    } else if (m.length > 1 && m[1] != null) {
      value = text = m[1];
    }
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ text, value });
  }
  return out;
}

function queryString(q) {
  if (typeof q === 'string') return q;
  if (q && typeof q === 'object') return q.query || q.expr || '';
  return '';
}

/** Runs a Prometheus variable query; returns the raw strings. */
async function runQuery(query, range, signal) {
  const q = query.trim();
  const start = Math.floor(range.from / 1000);
  const end = Math.ceil(range.to / 1000);
  const se = `start=${start}&end=${end}`;
  let m;
  if ((m = /^label_names\(\s*\)$/.exec(q))) {
    return (await fetchJSON(`api/v1/labels?${se}`, { signal })).data || [];
  }
  if ((m = /^label_values\(\s*([a-zA-Z_][\w.]*)\s*\)$/.exec(q))) {
    return (await fetchJSON(`api/v1/label/${encodeURIComponent(m[1])}/values?${se}`, { signal })).data || [];
  }
  if ((m = /^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][\w.]*)\s*\)$/s.exec(q))) {
    const match = encodeURIComponent(m[1]);
    return (await fetchJSON(`api/v1/label/${encodeURIComponent(m[2])}/values?match[]=${match}&${se}`, { signal })).data || [];
  }
  if ((m = /^metrics\((.*)\)$/s.exec(q))) {
    const names = (await fetchJSON(`api/v1/label/__name__/values?${se}`, { signal })).data || [];
    let re;
    try {
      re = new RegExp(m[1].trim());
    } catch {
      re = /.*/;
    }
    return names.filter((n) => re.test(n));
  }
  const qr = /^query_result\((.*)\)$/s.exec(q);
  const expr = qr ? qr[1] : q;
  const body = await fetchJSON(`api/v1/query?query=${encodeURIComponent(expr)}&time=${end}`, { signal });
  const data = body.data || {};
  const list = data.resultType === 'vector' || data.resultType === 'matrix' ? data.result : [{ metric: {}, value: data.result }];
  return list.map((r) => {
    const name = r.metric?.__name__ || '';
    const labels = Object.entries(r.metric || {})
      .filter(([k]) => k !== '__name__')
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    const val = r.value || (r.values && r.values[r.values.length - 1]) || [0, ''];
    return `${name}{${labels}} ${val[1]} ${Math.round(val[0] * 1000)}`;
  });
}

function customOptions(q) {
  // "a,b,c" with `\,` escaping a comma; "text : value" pairs.
  const parts = String(q || '').match(/(?:\\,|[^,])+/g) || [];
  return parts.map((p) => {
    const s = p.replace(/\\,/g, ',').trim();
    const kv = /^(.+?)\s:\s(.+)$/.exec(s);
    return kv ? { text: kv[1].trim(), value: kv[2].trim() } : { text: s, value: s };
  });
}

/** The initial selection of a variable: from the URL, else its saved current, else the first option. */
function choose(v, urlValues) {
  const opts = v.options || [];
  const valid = (x) => x === ALL ? v.includeAll : opts.some((o) => o.value === x) || v.type === 'textbox' || v.type === 'constant' || v.allowCustomValue !== false && urlValues?.length;
  let value;
  if (urlValues && urlValues.length) {
    const vals = urlValues.map((x) => (x === 'All' || x === '$__all' ? ALL : x));
    value = v.multi ? vals : vals[0];
  } else if (v.current && v.current.value != null && v.current.value !== '') {
    value = v.current.value;
    if (value === 'All' || (Array.isArray(value) && value.length === 1 && value[0] === 'All')) value = ALL;
    if (Array.isArray(value) && !v.multi) value = value[0];
    if (!Array.isArray(value) && v.multi && value !== ALL) value = [value];
    const list = Array.isArray(value) ? value : [value];
    if (!list.every(valid)) value = undefined;
  }
  if (value === undefined || (Array.isArray(value) && !value.length)) {
    const first = v.includeAll && !opts.length ? ALL : opts[0] ? opts[0].value : '';
    value = v.multi ? [first] : first;
  }
  const text = (Array.isArray(value) ? value : [value]).map((x) => (x === ALL ? 'All' : opts.find((o) => o.value === x)?.text ?? x));
  return { value, text: v.multi ? text : text[0] };
}

/**
 * Resolves every variable in order (later ones may use earlier ones): fills options and
 * current. `urlVars` maps a name to the values from `var-<name>` URL parameters.
 */
export async function resolveVariables(defs, { range, urlVars, signal, onError }) {
  const out = [];
  for (const def of defs) {
    const v = { ...def, options: [], current: def.current ? { ...def.current } : null };
    const url = urlVars.get(v.name);
    try {
      switch (v.type) {
        case 'constant':
          v.options = [{ text: String(v.query ?? ''), value: String(v.query ?? '') }];
          v.current = { value: String(v.query ?? ''), text: String(v.query ?? '') };
          out.push(v);
          continue;
        case 'textbox': {
          const val = url && url.length ? url[0] : v.current?.value ?? v.query ?? '';
          v.current = { value: String(val), text: String(val) };
          v.options = [{ text: String(val), value: String(val) }];
          out.push(v);
          continue;
        }
        case 'custom':
          v.options = customOptions(v.query);
          break;
        case 'interval': {
          v.options = customOptions(v.query);
          const count = Number(v.auto_count) || 30;
          const min = parseDuration(v.auto_min) || 10000;
          v._autoValue = formatDuration(Math.max(min, roundInterval((range.to - range.from) / count)));
          if (v.auto) v.options.unshift({ text: 'auto', value: '$__auto_interval_' + v.name });
          break;
        }
        case 'query': {
          const q = interpolate(queryString(v.query ?? v.definition), out, {
            __range: `${Math.round((range.to - range.from) / 1000)}s`,
            __range_s: String(Math.round((range.to - range.from) / 1000)),
            __range_ms: String(range.to - range.from),
          });
          const raw = q ? await runQuery(q, range, signal) : [];
          v.options = sortOptions(applyRegex(raw, v.regex), v.sort);
          break;
        }
        case 'datasource':
          v.options = [{ text: 'default', value: 'default' }];
          break;
        default:
          v.options = v.options && v.options.length ? v.options : def.options || [];
      }
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      v.error = e.message;
      if (onError) onError(v, e);
    }
    if (v.includeAll) v.options.unshift({ text: 'All', value: ALL });
    v.current = choose(v, url);
    out.push(v);
  }
  return out;
}

/** Names of the variables a text references (to re-run dependants after a change). */
export function referencedNames(text) {
  const names = new Set();
  if (typeof text !== 'string') return names;
  for (const m of text.matchAll(VAR_RE)) names.add(m[1] || m[2] || m[4]);
  return names;
}
