// Runs a panel's targets against the Prometheus API with Grafana's interval and step, and
// turns the answers into series on one time grid (nulls where a series has no sample, so
// charts show gaps), instant rows for tables and stats, and heatmap buckets.
import { fetchJSON, postForm, seriesName } from './util.js';
import { alignRange, panelInterval, parseDuration } from './time.js';
import { builtins, interpolate } from './vars.js';

/** Prometheus sample value text to a number (NaN and infinities as Prometheus writes them). */
export function sampleValue(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** Grafana's legendFormat: `{{label}}` from the series labels; empty means the series name. */
export function legendName(metric, legendFormat, expr, name) {
  if (legendFormat && legendFormat !== '__auto') {
    return legendFormat.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (m, k) => metric[k] ?? '');
  }
  if (metric && Object.keys(metric).length) return name ?? seriesName(metric);
  return expr;
}

function shouldPost(expr) {
  return expr.length > 1500;
}

async function promQuery(path, params, signal) {
  if (shouldPost(params.query)) return postForm(path, params, { signal });
  return fetchJSON(`${path}?${new URLSearchParams(params)}`, { signal });
}

/**
 * Plans a panel's queries: the interval and step from the range and the panel's width (its
 * max data points), the built-in variables, and each visible target's interpolated expr.
 */
export function planPanel(panel, { vars, range, width }) {
  const rangeMs = Math.max(1000, range.to - range.from);
  const maxDataPoints = Number(panel.maxDataPoints) || Math.max(100, Math.round(width || 800));
  // Old dashboards write the min interval as ">10s".
  const minInterval = (interpolate(panel.interval || '', vars) || '').replace(/^>/, '');
  const targets = panel.targets.filter((t) => !t.hide && !t.unsupported && t.expr && t.expr.trim());
  // The smallest target interval wins over the panel's, as in Grafana's per-query min step.
  const plans = targets.map((t) => {
    const own = (interpolate(t.interval || '', vars) || '').replace(/^>/, '') || minInterval;
    const iv = panelInterval(rangeMs, maxDataPoints, parseDuration(own) ? own : '', undefined);
    const stepMs = Math.max(iv.stepMs, iv.intervalMs * (t.intervalFactor || 1));
    const scoped = builtins({ intervalMs: iv.intervalMs, rateIntervalMs: iv.rateIntervalMs, rangeMs, from: range.from, to: range.to });
    return { target: t, expr: interpolate(t.expr, vars, scoped), stepMs, scoped, intervalMs: iv.intervalMs };
  });
  return { plans, rangeMs, maxDataPoints };
}

/**
 * Runs a panel's queries. mode 'range' uses query_range (instant targets still use query),
 * 'instant' uses query at the range's end for every target. Returns {kind, xs, stepMs,
 * series: [{refId, metric, name, values}], rows: [{refId, metric, name, value, time}],
 * exprs}.
 */
export async function runPanel(panel, { vars, range, width, signal, limit, mode }) {
  const { plans } = planPanel(panel, { vars, range, width });
  const foreign = panel.targets.find((t) => !t.hide && t.unsupported);
  if (!plans.length && foreign) throw new Error(`Data source type "${foreign.unsupported}" is not supported (only Prometheus queries run here)`);
  if (!plans.length) return { kind: mode, xs: [], series: [], rows: [], exprs: [], stepMs: 0 };
  const stepMs = Math.max(...plans.map((p) => p.stepMs));
  const { start, end } = alignRange(range.from, range.to, stepMs);
  const run = limit || ((fn) => fn());
  const settled = await Promise.allSettled(
    plans.map((p) =>
      run(() => {
        if (mode === 'instant' || p.target.instant) {
          return promQuery('api/v1/query', { query: p.expr, time: String(range.to / 1000) }, signal).then((b) => ({ p, b, instant: true }));
        }
        return promQuery('api/v1/query_range', { query: p.expr, start: String(start / 1000), end: String(end / 1000), step: String(stepMs / 1000) }, signal).then((b) => ({ p, b, instant: false }));
      }),
    ),
  );
  // One failing query of several leaves the others drawn, with its error beside them.
  const answers = settled.filter((x) => x.status === 'fulfilled').map((x) => x.value);
  const failures = settled.filter((x) => x.status === 'rejected').map((x) => x.reason);
  if (failures.some((e) => e && e.name === 'AbortError')) throw failures.find((e) => e.name === 'AbortError');
  if (!answers.length) throw failures[0];
  const errors = [];
  settled.forEach((x, i) => {
    if (x.status === 'rejected') errors.push(`${plans[i].target.refId}: ${x.reason && x.reason.message}`);
  });
  const n = Math.max(1, Math.round((end - start) / stepMs) + 1);
  const xs = new Array(n);
  for (let i = 0; i < n; i++) xs[i] = (start + i * stepMs) / 1000;
  const series = [];
  const rows = [];
  for (const { p, b, instant } of answers) {
    const data = (b && b.data) || {};
    const t = p.target;
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      const [ts, v] = data.result || [0, 'NaN'];
      rows.push({ refId: t.refId, metric: {}, name: legendName({}, t.legendFormat, p.expr), value: sampleValue(v), time: ts * 1000 });
      continue;
    }
    // Series sorted by their labels (as Prometheus does), so colours stay put between refreshes.
    const keyed = (data.result || []).map((r) => [seriesName(r.metric || {}), r]);
    keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key, r] of keyed) {
      const name = legendName(r.metric || {}, t.legendFormat, p.expr, key);
      if (r.histogram) {
        // A native histogram has no single value: reducers see NaN, tables its text.
        const [ts, hg] = r.histogram;
        rows.push({ refId: t.refId, metric: r.metric || {}, name, value: NaN, histogram: hg, time: ts * 1000 });
        continue;
      }
      if (instant || r.value) {
        const [ts, v] = r.value || [0, 'NaN'];
        rows.push({ refId: t.refId, metric: r.metric || {}, name, value: sampleValue(v), time: ts * 1000 });
        continue;
      }
      const values = new Array(n).fill(null);
      for (const [ts, v] of r.values || []) {
        const i = Math.round((ts * 1000 - start) / stepMs);
        const x = sampleValue(v);
        if (i >= 0 && i < n && Number.isFinite(x)) values[i] = x;
      }
      let hists = null;
      if (r.histograms) {
        hists = new Array(n).fill(null);
        for (const [ts, hg] of r.histograms) {
          const i = Math.round((ts * 1000 - start) / stepMs);
          if (i >= 0 && i < n) hists[i] = hg;
        }
      }
      series.push({ refId: t.refId, metric: r.metric || {}, name, values, hists });
    }
  }
  return { kind: mode, xs, stepMs, start, end, series, rows, exprs: plans.map((p) => p.expr), errors };
}

function leValue(le) {
  if (le === '+Inf' || le === 'Inf') return Infinity;
  return Number(le);
}

/** The brackets of the API's bucket boundary rules (0 `(lo,hi]`, 1 `[lo,hi)`, 2 `(lo,hi)`, 3 `[lo,hi]`). */
function bucketText([rule, lo, hi, c]) {
  const open = rule === 1 || rule === 3 ? '[' : '(';
  const close = rule === 0 || rule === 3 ? ']' : ')';
  return `${open}${lo},${hi}${close}:${c}`;
}

/** A native histogram of the API (`{count, sum, buckets}`) as one line of text. */
export function histogramText(hg) {
  if (!hg) return '';
  const buckets = (hg.buckets || []).map(bucketText).join(' ');
  return `count=${hg.count} sum=${hg.sum}${buckets ? ` {${buckets}}` : ''}`;
}

function shortBound(x) {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return String(Number(x.toPrecision(4)));
}

/**
 * Native-histogram heatmap: every bucket of every series' histograms, summed per bucket
 * (lower, upper bound) and step; buckets ordered by bound. Histograms of different
 * resolutions over time give overlapping rows, each drawn at its own bounds' rank.
 */
function nativeHeatmap(res, native) {
  const n = res.xs.length;
  const rows = new Map();
  for (const s of native) {
    s.hists.forEach((hg, i) => {
      if (!hg) return;
      for (const [, lo, hi, c] of hg.buckets || []) {
        const k = `${lo}|${hi}`;
        let r = rows.get(k);
        if (!r) rows.set(k, (r = { lo: sampleValue(lo), hi: sampleValue(hi), counts: new Array(n).fill(null) }));
        r.counts[i] = (r.counts[i] ?? 0) + sampleValue(c);
      }
    });
  }
  const sorted = [...rows.values()].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  return { xs: res.xs, stepS: res.stepMs / 1000, buckets: sorted.map((r) => shortBound(r.hi)), counts: sorted.map((r) => r.counts), bucketLabel: 'le' };
}

/**
 * Heatmap buckets: native histograms by their buckets; series with an `le` label become
 * Prometheus histogram buckets (summed per bound, de-accumulated); other series are bucketed
 * by value into about 20 bands.
 */
export function toHeatmap(res) {
  const native = res.series.filter((s) => s.hists);
  if (native.length) return nativeHeatmap(res, native);
  const withLe = res.series.filter((s) => s.metric.le != null);
  const n = res.xs.length;
  if (withLe.length && withLe.length === res.series.length) {
    const byLe = new Map();
    for (const s of withLe) {
      const k = s.metric.le;
      let acc = byLe.get(k);
      if (!acc) byLe.set(k, (acc = new Array(n).fill(null)));
      s.values.forEach((v, i) => {
        if (v != null) acc[i] = (acc[i] ?? 0) + v;
      });
    }
    const les = [...byLe.keys()].sort((a, b) => leValue(a) - leValue(b));
    const cum = les.map((k) => byLe.get(k));
    const counts = cum.map((row, bi) => row.map((v, i) => (v == null ? null : bi === 0 ? v : Math.max(0, v - (cum[bi - 1][i] ?? 0)))));
    return { xs: res.xs, stepS: res.stepMs / 1000, buckets: les.map((l) => (l === '+Inf' ? '+Inf' : String(Number(l)))), counts, bucketLabel: 'le' };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of res.series) for (const v of s.values) if (v != null) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (!Number.isFinite(lo)) return { xs: res.xs, stepS: res.stepMs / 1000, buckets: [], counts: [] };
  const nb = hi > lo ? 20 : 1;
  const width = hi > lo ? (hi - lo) / nb : 1;
  const counts = Array.from({ length: nb }, () => new Array(n).fill(0));
  for (const s of res.series) {
    s.values.forEach((v, i) => {
      if (v == null) return;
      const b = Math.min(nb - 1, Math.floor((v - lo) / width));
      counts[b][i]++;
    });
  }
  const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));
  return { xs: res.xs, stepS: res.stepMs / 1000, buckets: counts.map((_, i) => fmt(lo + i * width)), counts, bucketLabel: '≥' };
}

/** Reduces values with Grafana's reducer ids (lastNotNull, mean, max, ...). */
export function reduce(values, calc = 'lastNotNull') {
  const nn = values.filter((v) => v != null && !Number.isNaN(v));
  switch (calc) {
    case 'last':
      return values.length ? values[values.length - 1] : null;
    case 'lastNotNull':
      return nn.length ? nn[nn.length - 1] : null;
    case 'first':
      return values.length ? values[0] : null;
    case 'firstNotNull':
      return nn.length ? nn[0] : null;
    case 'mean':
    case 'avg':
      return nn.length ? nn.reduce((a, b) => a + b, 0) / nn.length : null;
    case 'sum':
      return nn.reduce((a, b) => a + b, 0);
    case 'max':
      return nn.length ? Math.max(...nn) : null;
    case 'min':
      return nn.length ? Math.min(...nn) : null;
    case 'count':
      return values.length;
    case 'range':
      return nn.length ? Math.max(...nn) - Math.min(...nn) : null;
    case 'delta':
    case 'diff':
      return nn.length ? nn[nn.length - 1] - nn[0] : null;
    case 'median': {
      if (!nn.length) return null;
      const s = [...nn].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    default:
      return nn.length ? nn[nn.length - 1] : null;
  }
}
