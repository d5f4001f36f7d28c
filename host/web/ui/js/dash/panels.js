// Panel renderers by Grafana panel type. Each has a query mode ('range', 'instant' or none)
// and create(body, panel, env) → {update(result) → {series, points}, destroy()}. Charts go
// through lib/chart.js (uPlot); stat, gauge and bar gauge are small DOM/SVG drawings.
import { timeChart, heatmapChart } from '../lib/chart.js';
import { fieldFor, fixedColor } from './model.js';
import { formatParts, formatValue } from './units.js';
import { PALETTE, normThresholds, resolveColor, thresholdFor } from './colors.js';
import { reduce, toHeatmap } from './query.js';
import { renderMarkdown } from './markdown.js';
import { h } from './util.js';
import { interpolate } from './vars.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

/** A field's displayName with Grafana's `${__field.labels.x}`, `${__field.name}` filled in. */
function displayName(field, x) {
  const t = field.displayName;
  if (!t) return x.name;
  const labels = x.metric || {};
  return String(t)
    .replace(/\$\{__field\.labels\.([\w]+)\}/g, (m, k) => labels[k] ?? '')
    .replace(/\$\{__field\.labels\}/g, () => Object.entries(labels).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`).join(', '))
    .replace(/\$\{__(?:field|series)\.name\}/g, x.name)
    .replace(/\$\{__field\.displayName\}/g, x.name);
}

function countPoints(series) {
  let n = 0;
  for (const x of series) for (const v of x.values) if (v != null) n++;
  return n;
}

/** Value mappings (fieldConfig mappings: value, range, special null/nan). */
function mapValue(v, mappings) {
  for (const m of Array.isArray(mappings) ? mappings : []) {
    if (!m || typeof m !== 'object') continue;
    const o = m.options || {};
    if (m.type === 'value') {
      const hit = o[String(v)];
      if (hit) return hit;
    } else if (m.type === 'range') {
      const from = o.from == null ? -Infinity : Number(o.from);
      const to = o.to == null ? Infinity : Number(o.to);
      if (v != null && v >= from && v <= to) return o.result || null;
    } else if (m.type === 'special') {
      const match = o.match;
      if ((match === 'null' || match === 'null+nan') && v == null) return o.result || null;
      if ((match === 'nan' || match === 'null+nan') && Number.isNaN(v)) return o.result || null;
      if (match === 'true' && v === 1) return o.result || null;
      if (match === 'false' && v === 0) return o.result || null;
    }
  }
  return null;
}

/** Display of one reduced value: text parts and colour by mapping, then thresholds. */
function display(v, field, min, max) {
  const th = normThresholds(field.thresholds);
  const mapped = mapValue(v, field.mappings);
  const parts = mapped && mapped.text != null ? { prefix: '', text: mapped.text, suffix: '' } : formatParts(v, field.unit, field.decimals);
  let color = mapped && mapped.color ? mapped.color : null;
  if (!color) {
    const fc = fixedColor(field);
    if (fc) color = fc;
    else {
      const step = thresholdFor(v, th, min, max);
      color = step ? step.color : 'green';
    }
  }
  return { parts, color: resolveColor(color) };
}

function niceCeil(x) {
  if (!(x > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function minMax(field, values) {
  const nn = values.filter((v) => v != null && Number.isFinite(v));
  let min = field.min;
  let max = field.max;
  if (min == null) min = field.unit === 'percentunit' || field.unit === 'percent' ? 0 : Math.min(0, ...nn);
  if (max == null) max = field.unit === 'percentunit' ? 1 : field.unit === 'percent' ? 100 : niceCeil(Math.max(0, ...nn));
  return [Number(min), Number(max)];
}

/** One value per series for stat/gauge/bar gauge (range series reduced, instant rows as is). */
function reducedValues(panel, res) {
  const calcs = panel.options.reduceOptions && panel.options.reduceOptions.calcs;
  const calc = (Array.isArray(calcs) && typeof calcs[0] === 'string' && calcs[0]) || 'lastNotNull';
  const out = [];
  for (const x of res.series) out.push({ name: x.name, metric: x.metric, refId: x.refId, value: reduce(x.values, calc), values: x.values });
  for (const r of res.rows) out.push({ name: r.name, metric: r.metric, refId: r.refId, value: r.value, values: [r.value] });
  // At most 100 boxes by default: thousands of stats would draw slowly and say nothing.
  const limit = Number(panel.options.reduceOptions?.limit) || 100;
  return out.slice(0, limit);
}

function sparkline(values, color) {
  const nn = values.filter((v) => v != null);
  if (nn.length < 2) return null;
  const lo = Math.min(...nn);
  const hi = Math.max(...nn);
  const W = 200;
  const H = 50;
  let d = '';
  let firstX = null;
  let lastX = 0;
  values.forEach((v, i) => {
    if (v == null) return;
    const x = (i / (values.length - 1)) * W;
    const y = H - (hi > lo ? ((v - lo) / (hi - lo)) * (H - 4) + 2 : H / 2);
    d += `${firstX == null ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    if (firstX == null) firstX = x;
    lastX = x;
  });
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'stat-spark' });
  svg.append(s('path', { d: `${d}L${lastX.toFixed(1)},${H}L${firstX.toFixed(1)},${H}Z`, fill: color, 'fill-opacity': '0.2', stroke: 'none' }));
  svg.append(s('path', { d, fill: 'none', stroke: color, 'stroke-width': '1.5', 'vector-effect': 'non-scaling-stroke' }));
  return svg;
}

function timeseries(body, panel, env) {
  const f = fieldFor(panel, '', '');
  const custom = f.custom || {};
  const legend = panel.options.legend || {};
  const chart = timeChart(body, {
    unit: f.unit,
    decimals: f.decimals,
    min: f.min,
    max: f.max,
    softMin: custom.axisSoftMin,
    softMax: custom.axisSoftMax,
    stacking: (custom.stacking && custom.stacking.mode) || 'none',
    fillOpacity: custom.fillOpacity,
    lineWidth: custom.lineWidth,
    drawStyle: custom.drawStyle,
    lineInterpolation: custom.lineInterpolation,
    showPoints: custom.showPoints,
    spanNulls: custom.spanNulls === true,
    logBase: custom.scaleDistribution && custom.scaleDistribution.type === 'log' ? Number(custom.scaleDistribution.log) || 10 : 0,
    axisLabel: custom.axisLabel || '',
    thresholds: normThresholds(f.thresholds),
    thresholdsStyle: (custom.thresholdsStyle && custom.thresholdsStyle.mode) || 'off',
    legend: { show: legend.showLegend !== false && legend.displayMode !== 'hidden', placement: legend.placement, calcs: Array.isArray(legend.calcs) ? legend.calcs : [] },
    tooltip: panel.options.tooltip?.mode === 'none' ? 'none' : 'multi',
    syncKey: env.syncKey,
    utc: env.utc,
    annotations: env.annotations,
    onZoom: env.onZoom,
    onReset: env.onReset,
  });
  return {
    update(res) {
      const series = res.series.map((x, i) => {
        const sf = fieldFor(panel, x.name, x.refId);
        const c = sf.custom || {};
        return {
          label: displayName(sf, x),
          values: x.values,
          color: fixedColor(sf) || PALETTE[i % PALETTE.length],
          unit: sf.unit !== f.unit ? sf.unit : undefined,
          fillOpacity: c.fillOpacity !== custom.fillOpacity ? c.fillOpacity : undefined,
          lineWidth: c.lineWidth !== custom.lineWidth ? c.lineWidth : undefined,
          hidden: c.hideFrom && c.hideFrom.viz,
          negativeY: c.transform === 'negative-Y',
          axis: c.axisPlacement === 'right' ? 'right' : undefined,
        };
      });
      chart.setData({ xs: res.xs, range: [env.range().from / 1000, env.range().to / 1000], series });
      return { series: series.length, points: countPoints(series) };
    },
    redraw: () => chart.redraw(),
    destroy: () => chart.destroy(),
  };
}

function stat(body, panel) {
  const wrap = h('div', { class: 'stat-grid' });
  body.append(wrap);
  return {
    update(res) {
      const vals = reducedValues(panel, res);
      wrap.replaceChildren();
      const o = panel.options;
      const colorMode = o.colorMode || 'value';
      const textMode = o.textMode || 'auto';
      wrap.dataset.orientation = o.orientation === 'horizontal' ? 'horizontal' : 'auto';
      for (const v of vals) {
        const f = fieldFor(panel, v.name, v.refId);
        const [min, max] = minMax(f, vals.map((x) => x.value));
        const d = display(v.value, f, min, max);
        const box = h('div', { class: 'stat', 'data-color-mode': colorMode });
        if (colorMode === 'background' || colorMode === 'background_solid') box.style.background = d.color;
        const showName = textMode === 'name' || textMode === 'value_and_name' || (textMode === 'auto' && vals.length > 1);
        if (showName) box.append(h('div', { class: 'stat-name' }, displayName(f, v)));
        if (textMode !== 'name' && textMode !== 'none') {
          const value = h('div', { class: 'stat-value' }, d.parts.prefix, d.parts.text, h('span', { class: 'stat-unit' }, d.parts.suffix));
          if (colorMode === 'value') value.style.color = d.color;
          box.append(value);
        }
        if ((o.graphMode || 'area') === 'area' && v.values.length > 1) {
          const sp = sparkline(v.values, colorMode === 'background' ? 'rgba(255,255,255,0.8)' : d.color);
          if (sp) box.append(sp);
        }
        wrap.append(box);
      }
      return { series: vals.length, points: res.series.length ? countPoints(res.series) : res.rows.length };
    },
    destroy() {},
  };
}

function gauge(body, panel) {
  const wrap = h('div', { class: 'gauge-grid' });
  body.append(wrap);
  return {
    update(res) {
      const vals = reducedValues(panel, res);
      wrap.replaceChildren();
      for (const v of vals) {
        const f = fieldFor(panel, v.name, v.refId);
        const [min, max] = minMax(f, vals.map((x) => x.value));
        const d = display(v.value, f, min, max);
        const th = normThresholds(f.thresholds);
        const frac = v.value == null || max === min ? 0 : Math.max(0, Math.min(1, (v.value - min) / (max - min)));
        const svg = s('svg', { viewBox: '0 0 200 130', class: 'gauge-svg' });
        const R = 80;
        const cx = 100;
        const cy = 100;
        const A0 = Math.PI * 0.8;
        const A1 = Math.PI * 2.2;
        const pt = (a, r) => [cx + r * Math.cos(a), cy + r * Math.sin(a)];
        const arc = (a, b, r) => {
          const [x0, y0] = pt(a, r);
          const [x1, y1] = pt(b, r);
          return `M${x0.toFixed(2)},${y0.toFixed(2)}A${r},${r} 0 ${b - a > Math.PI ? 1 : 0} 1 ${x1.toFixed(2)},${y1.toFixed(2)}`;
        };
        svg.append(s('path', { d: arc(A0, A1, R), class: 'gauge-track', fill: 'none', 'stroke-width': '14' }));
        if (frac > 0) svg.append(s('path', { d: arc(A0, A0 + (A1 - A0) * frac, R), fill: 'none', stroke: d.color, 'stroke-width': '14' }));
        if (th && panel.options.showThresholdMarkers !== false) {
          th.steps.forEach((st, i) => {
            const next = th.steps[i + 1];
            const lo = Number.isFinite(st.value) ? (th.mode === 'percentage' ? st.value / 100 : (st.value - min) / (max - min)) : 0;
            const hi = next ? (th.mode === 'percentage' ? next.value / 100 : (next.value - min) / (max - min)) : 1;
            const a = Math.max(0, Math.min(1, lo));
            const b = Math.max(0, Math.min(1, hi));
            if (b > a) svg.append(s('path', { d: arc(A0 + (A1 - A0) * a, A0 + (A1 - A0) * b, R + 11), fill: 'none', stroke: resolveColor(st.color), 'stroke-width': '4' }));
          });
        }
        const t = s('text', { x: '100', y: '108', 'text-anchor': 'middle', class: 'gauge-text', fill: d.color });
        t.textContent = d.parts.prefix + d.parts.text + d.parts.suffix;
        svg.append(t);
        const box = h('div', { class: 'gauge' }, svg);
        if (vals.length > 1 || panel.options.showName) box.append(h('div', { class: 'stat-name' }, displayName(f, v)));
        wrap.append(box);
      }
      return { series: vals.length, points: res.series.length ? countPoints(res.series) : res.rows.length };
    },
    destroy() {},
  };
}

function bargauge(body, panel) {
  const wrap = h('div', { class: 'bargauge' });
  body.append(wrap);
  return {
    update(res) {
      const vals = reducedValues(panel, res);
      wrap.replaceChildren();
      const vertical = panel.options.orientation === 'vertical';
      wrap.dataset.orientation = vertical ? 'vertical' : 'horizontal';
      const mode = panel.options.displayMode || 'gradient';
      for (const v of vals) {
        const f = fieldFor(panel, v.name, v.refId);
        const [min, max] = minMax(f, vals.map((x) => x.value));
        const d = display(v.value, f, min, max);
        const frac = v.value == null || max === min ? 0 : Math.max(0, Math.min(1, (v.value - min) / (max - min)));
        const fill = h('div', { class: 'bar-fill' });
        fill.style[vertical ? 'height' : 'width'] = `${(frac * 100).toFixed(2)}%`;
        if (mode === 'gradient') {
          const th = normThresholds(f.thresholds);
          const cols = th ? th.steps.map((x) => resolveColor(x.color)) : [d.color];
          fill.style.background = cols.length > 1 ? `linear-gradient(${vertical ? 'to top' : 'to right'}, ${cols.join(', ')})` : d.color;
        } else fill.style.background = d.color;
        if (mode === 'lcd') fill.classList.add('bar-lcd');
        wrap.append(
          h(
            'div',
            { class: 'bar-row' },
            h('div', { class: 'bar-name', title: v.name }, displayName(f, v)),
            h('div', { class: 'bar-track' }, fill),
            h('div', { class: 'bar-value', style: { color: d.color } }, d.parts.prefix + d.parts.text + d.parts.suffix),
          ),
        );
      }
      return { series: vals.length, points: res.series.length ? countPoints(res.series) : res.rows.length };
    },
    destroy() {},
  };
}

/** Table of instant rows: the labels as columns, one Value column per query; sortable. */
export function table(body, panel) {
  const wrap = h('div', { class: 'dash-table-wrap' });
  body.append(wrap);
  let sortCol = null;
  let sortDesc = false;
  let initialSort = null;
  let last = null;
  function draw() {
    const res = last;
    const refIds = [...new Set(res.rows.map((r) => r.refId))];
    const multi = refIds.length > 1;
    const labelCols = [];
    // Several queries merge on their labels; their metric names would keep the rows apart.
    for (const r of res.rows) for (const k of Object.keys(r.metric)) if (!labelCols.includes(k) && !(multi && k === '__name__')) labelCols.push(k);
    labelCols.sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
    // Rows with the same labels from different queries merge into one line, as Grafana's merge.
    const merged = new Map();
    for (const r of res.rows) {
      const key = JSON.stringify(labelCols.map((k) => r.metric[k] ?? ''));
      let m = merged.get(key);
      if (!m) merged.set(key, (m = { metric: r.metric, time: r.time, values: {} }));
      m.values[r.refId] = r.value;
    }
    const valueCols = refIds.map((id) => (multi ? `Value #${id}` : 'Value'));
    const cols = [{ name: 'Time', get: (m) => m.time, time: true }, ...labelCols.map((k) => ({ name: k, get: (m) => m.metric[k] ?? '' })), ...refIds.map((id, i) => ({ name: valueCols[i], get: (m) => m.values[id], value: true, refId: id }))];
    const hidden = new Set();
    for (const o of panel.fieldConfig.overrides || []) {
      for (const p of o.properties || []) if (p.id === 'custom.hidden' && p.value && o.matcher?.id === 'byName') hidden.add(o.matcher.options);
    }
    // Grafana's "organize" and "filter by name" transformations: hide, rename and order columns.
    const transforms = Array.isArray(panel.transformations) ? panel.transformations.filter((t) => t && !t.disabled) : [];
    const organize = transforms.find((t) => t.id === 'organize');
    const filter = transforms.find((t) => t.id === 'filterFieldsByName');
    const exclude = (organize && organize.options && organize.options.excludeByName) || {};
    const include = filter && filter.options && filter.options.include && Array.isArray(filter.options.include.names) ? new Set(filter.options.include.names) : null;
    if (!panel.options.showTime && !(include && include.has('Time')) && !(organize && exclude.Time === false)) hidden.add('Time');
    let shown = cols.filter((c) => !hidden.has(c.name) && !exclude[c.name] && (!include || include.has(c.name)));
    const rename = (organize && organize.options && organize.options.renameByName) || {};
    const order = (organize && organize.options && organize.options.indexByName) || {};
    if (Object.keys(order).length) shown = [...shown].sort((a, b) => (order[a.name] ?? 1e9) - (order[b.name] ?? 1e9));
    for (const c of shown) if (rename[c.name]) c.title = rename[c.name];
    let list = [...merged.values()];
    if (sortCol == null && initialSort) {
      const i = shown.findIndex((c) => (c.title || fieldFor(panel, c.name, c.refId).displayName || c.name) === initialSort);
      if (i >= 0) sortCol = i;
    }
    if (sortCol != null && shown[sortCol]) {
      const c = shown[sortCol];
      list.sort((a, b) => {
        const x = c.get(a);
        const y = c.get(b);
        const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
        return sortDesc ? -r : r;
      });
    }
    const thead = h(
      'tr',
      null,
      shown.map((c, i) => {
        const f = fieldFor(panel, c.name, c.refId);
        return h('th', { class: sortCol === i ? (sortDesc ? 'sorted-desc' : 'sorted-asc') : null, tabindex: '0', 'aria-sort': sortCol === i ? (sortDesc ? 'descending' : 'ascending') : null, onclick: () => sortBy(i), onkeydown: (e) => e.key === 'Enter' && sortBy(i) }, c.title || f.displayName || c.name);
      }),
    );
    const tbody = h(
      'tbody',
      null,
      list.map((m) =>
        h(
          'tr',
          null,
          shown.map((c) => {
            const v = c.get(m);
            if (c.time) return h('td', { class: 'num' }, new Date(v).toLocaleString());
            if (!c.value) return h('td', null, v);
            const f = fieldFor(panel, c.name, c.refId);
            const d = display(v, f, f.min ?? 0, f.max ?? 100);
            const mode = f.custom?.cellOptions?.type || f.custom?.displayMode || 'auto';
            const td = h('td', { class: 'num' }, d.parts.prefix + d.parts.text + d.parts.suffix);
            if (mode === 'color-text') td.style.color = d.color;
            if (mode === 'color-background' || mode === 'color-background-solid') {
              td.style.background = d.color;
              td.style.color = '#fff';
            }
            return td;
          }),
        ),
      ),
    );
    wrap.replaceChildren(h('table', { class: 'dash-table' }, panel.options.showHeader === false ? null : h('thead', null, thead), tbody));
  }
  function sortBy(i) {
    if (sortCol === i) sortDesc = !sortDesc;
    else {
      sortCol = i;
      sortDesc = false;
    }
    draw();
  }
  return {
    update(res) {
      // Range answers in a table show each series' last value.
      const rows = res.rows.length ? res.rows : res.series.map((x) => ({ refId: x.refId, metric: x.metric, name: x.name, value: reduce(x.values, 'lastNotNull'), time: res.end }));
      last = { ...res, rows };
      const sb = Array.isArray(panel.options.sortBy) ? panel.options.sortBy[0] : null;
      if (sb && sortCol == null && initialSort == null) {
        sortDesc = !!sb.desc;
        initialSort = sb.displayName || '';
      }
      draw();
      return { series: new Set(rows.map((r) => JSON.stringify(r.metric))).size, points: rows.length };
    },
    destroy() {},
  };
}

function text(body, panel, env) {
  const o = panel.options || {};
  const content = interpolate(o.content ?? panel.content ?? '', env.vars(), {}, 'text');
  const mode = o.mode || panel.mode || 'markdown';
  const box = h('div', { class: 'text-panel' });
  if (mode === 'markdown') box.append(renderMarkdown(content));
  else if (mode === 'code') box.append(h('pre', null, h('code', null, content)));
  else {
    // HTML mode is shown as its text only: no raw HTML from dashboards reaches the page.
    const doc = new DOMParser().parseFromString(String(content), 'text/html');
    box.append(renderMarkdown(doc.body.textContent || ''));
  }
  body.append(box);
  return { update: () => ({ series: 0, points: 0 }), destroy() {} };
}

function heatmap(body, panel, env) {
  const opts = panel.options || {};
  const chart = heatmapChart(body, { syncKey: env.syncKey, utc: env.utc, onZoom: env.onZoom, onReset: env.onReset, color: resolveColor(opts.color?.fill || 'orange') });
  return {
    update(res) {
      const hm = toHeatmap(res);
      const unit = opts.yAxis?.unit;
      if (unit) hm.buckets = hm.buckets.map((b) => (Number.isFinite(Number(b)) ? formatValue(Number(b), unit) : b));
      chart.setData({ ...hm, range: [env.range().from / 1000, env.range().to / 1000] });
      let pts = 0;
      for (const row of hm.counts) for (const c of row) if (c != null) pts++;
      return { series: hm.buckets.length, points: pts };
    },
    destroy: () => chart.destroy(),
  };
}

function unsupported(body, panel) {
  body.append(h('div', { class: 'dash-panel-placeholder' }, `Panel type "${panel.type}" is not supported`));
  return { update: () => ({ series: 0, points: 0 }), destroy() {} };
}

export const RENDERERS = {
  timeseries: { mode: 'range', create: timeseries },
  graph: { mode: 'range', create: timeseries },
  stat: { mode: 'range', create: stat },
  singlestat: { mode: 'range', create: stat },
  gauge: { mode: 'range', create: gauge },
  bargauge: { mode: 'range', create: bargauge },
  table: { mode: 'instant', create: table },
  text: { mode: null, create: text },
  heatmap: { mode: 'range', create: heatmap },
};

export function rendererFor(type) {
  return RENDERERS[type] || { mode: null, create: unsupported, unsupported: true };
}

