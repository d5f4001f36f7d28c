// Time-series charts on uPlot: unit-aware axes, a live legend, a tooltip, drag to zoom (handed
// to the caller so the URL changes), double-click to reset, a crosshair shared by every chart
// with the same sync key, stacking, thresholds as lines or areas, and null gaps. The x values
// are Unix seconds; one chart holds any number of series of thousands of points each.
import uPlot from '../../vendor/uplot/uPlot.esm.js';
import { axisFormatter, formatValue, isoDateTime } from '../dash/units.js';
import { PALETTE, canvasColor, withAlpha, absoluteSteps } from '../dash/colors.js';
import { reduce } from '../dash/query.js';

const CALC_NAMES = {
  lastNotNull: 'Last *', last: 'Last', firstNotNull: 'First *', first: 'First', mean: 'Mean', max: 'Max', min: 'Min',
  sum: 'Total', count: 'Count', range: 'Range', delta: 'Delta', diff: 'Difference', median: 'Median',
};

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const fg = () => css('--muted', '#777');
const grid = () => css('--border', 'rgba(128,128,128,0.25)');
const font = () => `11px ${css('--font', 'system-ui, sans-serif')}`;

/** Axis size that fits its longest tick label (uPlot's default is fixed). */
function axisSize(self, values, axisIdx, cycleNum) {
  const axis = self.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values || []).reduce((a, v) => (v && v.length > a.length ? v : a), '');
  if (longest) {
    self.ctx.font = axis.font[0];
    size += self.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size) + 2;
}

/** Grafana-like tick labels: time of day within a day, dates beyond (local time or UTC). */
function timeTicks(utc) {
  return (u, splits, axisIdx, space, incr) => {
    const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
    const p = (n) => String(n).padStart(2, '0');
    return splits.map((s) => {
      const d = new Date(s * 1000);
      const [mo, da, ho, mi, se] = utc
        ? [d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
        : [d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
      const hm = `${p(ho)}:${p(mi)}`;
      if (span > 3 * 86400) return `${p(mo + 1)}/${p(da)}`;
      if (span > 86400) return `${p(mo + 1)}/${p(da)} ${hm}`;
      if (incr < 60) return `${hm}:${p(se)}`;
      return hm;
    });
  };
}

const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

/** Stacks series values (nulls count as 0 in the running sum, like Grafana). */
function stack(seriesVals, percent) {
  const n = seriesVals.length ? seriesVals[0].length : 0;
  const totals = new Float64Array(n);
  if (percent) for (const vals of seriesVals) for (let i = 0; i < n; i++) totals[i] += vals[i] ?? 0;
  const acc = new Float64Array(n);
  return seriesVals.map((vals) => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = vals[i];
      acc[i] += v ?? 0;
      out[i] = v == null ? null : percent ? (totals[i] ? acc[i] / totals[i] : 0) : acc[i];
    }
    return out;
  });
}

function thresholdsPlugin(getOpts) {
  function draw(u, areas) {
    const o = getOpts();
    const th = o.thresholds;
    const style = o.thresholdsStyle || 'off';
    if (!th || style === 'off' || !u.scales.y || u.scales.y.min == null) return;
    const wantArea = style.includes('area');
    const wantLine = style.includes('line') || style.includes('dashed');
    if (areas && !wantArea) return;
    if (!areas && !wantLine) return;
    const { left, top, width, height } = u.bbox;
    const steps = absoluteSteps(th, o.min ?? u.scales.y.min, o.max ?? u.scales.y.max);
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    steps.forEach((s, i) => {
      const y0 = Number.isFinite(s.value) ? u.valToPos(s.value, 'y', true) : top + height;
      if (areas) {
        const next = steps[i + 1];
        const y1 = next ? u.valToPos(next.value, 'y', true) : top;
        ctx.fillStyle = withAlpha(s.color, 0.12);
        ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y0 - y1));
      } else if (Number.isFinite(s.value)) {
        ctx.strokeStyle = canvasColor(s.color);
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.setLineDash(style.includes('dashed') ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
        ctx.beginPath();
        ctx.moveTo(left, Math.round(y0) + 0.5);
        ctx.lineTo(left + width, Math.round(y0) + 0.5);
        ctx.stroke();
      }
    });
    ctx.restore();
  }
  return { hooks: { drawClear: (u) => draw(u, true), draw: (u) => draw(u, false) } };
}

/** Annotations as dashed vertical lines (events) or shaded regions. */
function annotationsPlugin(getOpts) {
  return {
    hooks: {
      draw: (u) => {
        const list = getOpts().annotations ? getOpts().annotations() : [];
        if (!list.length) return;
        const { left, top, width, height } = u.bbox;
        const ctx = u.ctx;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        for (const a of list) {
          const x0 = u.valToPos(a.start / 1000, 'x', true);
          const x1 = u.valToPos(a.end / 1000, 'x', true);
          if (x1 < left || x0 > left + width) continue;
          if (x1 - x0 >= 2) {
            ctx.fillStyle = withAlpha(a.color, 0.12);
            ctx.fillRect(x0, top, x1 - x0, height);
          }
          ctx.strokeStyle = canvasColor(a.color);
          ctx.lineWidth = Math.max(1, devicePixelRatio);
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(Math.round(x0) + 0.5, top);
          ctx.lineTo(Math.round(x0) + 0.5, top + height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

function tooltipPlugin(getOpts, host) {
  const tip = document.createElement('div');
  tip.className = 'chart-tooltip';
  tip.hidden = true;
  host.append(tip);
  return {
    hooks: {
      setCursor: (u) => {
        const { left, top, idx } = u.cursor;
        const o = getOpts();
        if (idx == null || left == null || left < 0 || o.tooltip === 'none') {
          tip.hidden = true;
          return;
        }
        const rows = [];
        for (let i = 1; i < u.series.length; i++) {
          const s = u.series[i];
          if (!s.show) continue;
          const v = o.rawValue ? o.rawValue(i, idx) : u.data[i][idx];
          if (v == null) continue;
          rows.push([s.label, v, s._stroke || s.stroke?.(u, i)]);
        }
        if (!rows.length) {
          tip.hidden = true;
          return;
        }
        rows.sort((a, b) => b[1] - a[1]);
        const shown = rows.slice(0, 12);
        tip.replaceChildren();
        const head = document.createElement('div');
        head.className = 'chart-tooltip-time';
        head.textContent = isoDateTime(u.data[0][idx] * 1000, o.utc);
        tip.append(head);
        for (const [label, v, color] of shown) {
          const r = document.createElement('div');
          r.className = 'chart-tooltip-row';
          const sw = document.createElement('span');
          sw.className = 'chart-swatch';
          sw.style.background = typeof color === 'string' ? color : '#888';
          const l = document.createElement('span');
          l.className = 'chart-tooltip-label';
          l.textContent = label;
          const val = document.createElement('b');
          val.textContent = formatValue(v, o.unitOf ? o.unitOf(label) : o.unit, o.decimals);
          r.append(sw, l, val);
          tip.append(r);
        }
        const notes = o.annotations ? o.annotations() : [];
        if (notes.length) {
          const t = u.posToVal(left, 'x') * 1000;
          const slack = (u.posToVal(left + 6, 'x') - u.posToVal(left, 'x')) * 1000;
          for (const a of notes) {
            if (t < a.start - slack || t > a.end + slack) continue;
            const r = document.createElement('div');
            r.className = 'chart-tooltip-note';
            r.textContent = `▲ ${a.title}`;
            r.style.color = a.color;
            tip.append(r);
          }
        }
        if (rows.length > shown.length) {
          const more = document.createElement('div');
          more.className = 'chart-tooltip-more';
          more.textContent = `+${rows.length - shown.length} more`;
          tip.append(more);
        }
        tip.hidden = false;
        // Measured at the left edge (near the right edge the box would shrink to fit), then
        // placed right of the cursor, or left of it when it would leave the chart.
        tip.style.left = '0px';
        const hostBox = host.getBoundingClientRect();
        const overBox = u.over.getBoundingClientRect();
        const x = overBox.left - hostBox.left + left;
        const y = overBox.top - hostBox.top + top;
        const tw = tip.offsetWidth;
        const th = tip.offsetHeight;
        tip.style.left = `${x + 14 + tw > hostBox.width ? Math.max(0, x - tw - 14) : x + 14}px`;
        tip.style.top = `${Math.max(0, Math.min(y - 10, hostBox.height - th))}px`;
      },
    },
  };
}

/**
 * Creates a time-series chart in `container`. opts: {unit, decimals, min, max, stacking
 * ('none'|'normal'|'percent'), fillOpacity (0-100), lineWidth, drawStyle ('line'|'bars'|
 * 'points'), lineInterpolation, showPoints ('auto'|'never'|'always'), spanNulls, thresholds,
 * thresholdsStyle ('off'|'line'|'area'|'line+area'|'dashed'), legend ({show, placement}),
 * syncKey, onZoom(fromMs, toMs), onReset()}. `setData({xs, range: [fromS, toS], series:
 * [{label, values, color, unit, fillOpacity, lineWidth, hidden}]})` draws.
 */
export function timeChart(container, opts = {}) {
  const root = document.createElement('div');
  root.className = 'chart' + (opts.legend?.placement === 'right' ? ' chart-legend-right' : '');
  const plot = document.createElement('div');
  plot.className = 'chart-plot';
  const legendBox = document.createElement('div');
  legendBox.className = 'chart-legend';
  root.append(plot, legendBox);
  container.append(root);
  const showLegend = opts.legend?.show !== false;
  if (!showLegend) legendBox.hidden = true;

  let u = null;
  let signature = '';
  let range = null;
  let raw = [];
  const current = { ...opts };

  // Axis and grid colours are read at draw time: redraw when the theme changes.
  const redraw = () => u && u.redraw(false, true);
  const themeObs = new MutationObserver(redraw);
  themeObs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class'] });
  const dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  if (dark) dark.addEventListener('change', redraw);

  function size() {
    return { width: Math.max(50, plot.clientWidth), height: Math.max(40, plot.clientHeight) };
  }

  function build(data) {
    const o = current;
    const stacking = o.stacking && o.stacking !== 'none' ? o.stacking : null;
    const series = [{ label: 'Time', value: (self, v) => (v == null ? '' : isoDateTime(v * 1000, o.utc)) }];
    const bands = [];
    data.series.forEach((s, i) => {
      const color = canvasColor(s.color || PALETTE[i % PALETTE.length]);
      const fillOp = (s.fillOpacity ?? o.fillOpacity ?? (stacking ? 30 : 0)) / 100;
      const lw = s.lineWidth ?? o.lineWidth ?? 1;
      const draw = s.drawStyle || o.drawStyle || 'line';
      let paths;
      if (draw === 'bars') paths = uPlot.paths.bars({ size: [0.7, 64] });
      else if (draw === 'points') paths = () => null;
      else if (o.lineInterpolation === 'smooth') paths = uPlot.paths.spline();
      else if (o.lineInterpolation === 'stepAfter') paths = uPlot.paths.stepped({ align: 1 });
      else if (o.lineInterpolation === 'stepBefore') paths = uPlot.paths.stepped({ align: -1 });
      const pointsShow = draw === 'points' || o.showPoints === 'always' ? true : o.showPoints === 'never' ? false : undefined;
      series.push({
        label: s.label,
        scale: s.axis === 'right' ? 'y2' : 'y',
        stroke: color,
        width: lw,
        fill: fillOp > 0 || draw === 'bars' ? withAlpha(color, draw === 'bars' ? Math.max(fillOp, 0.8) : fillOp) : undefined,
        paths,
        spanGaps: !!(s.spanNulls ?? o.spanNulls),
        show: !s.hidden,
        points: pointsShow === undefined ? { size: 4 } : { show: pointsShow, size: draw === 'points' ? 5 : 4, fill: color },
        value: (self, v, si, idx) => {
          if (idx == null) return '';
          const x = raw[si - 1]?.[idx] ?? v;
          return x == null ? '—' : formatValue(x, s.unit || o.unit, o.decimals);
        },
      });
      if (stacking && i > 0) bands.push({ series: [i + 1, i], fill: withAlpha(color, fillOp) });
    });
    const yRange = (self, dmin, dmax) => {
      if (stacking === 'percent') return [0, 1];
      let lo = dmin;
      let hi = dmax;
      if (lo == null || hi == null) {
        lo = 0;
        hi = 1;
      }
      if (o.min != null) lo = o.min;
      if (o.max != null) hi = o.max;
      if (o.softMin != null) lo = Math.min(lo, o.softMin);
      if (o.softMax != null) hi = Math.max(hi, o.softMax);
      if (lo === hi) {
        const d = Math.abs(lo) || 1;
        if (o.min == null) lo -= d * 0.1;
        if (o.max == null) hi += d * 0.1;
      }
      if (o.min == null || o.max == null) {
        const [a, b] = uPlot.rangeNum(lo, hi, 0.05, true);
        if (o.min == null) lo = dmin != null && dmin >= 0 && a < 0 ? 0 : a;
        if (o.max == null) hi = b;
      }
      return [lo, hi];
    };
    const unit = stacking === 'percent' ? 'percentunit' : o.unit;
    // Hundreds of series: no legend table and no per-series cursor points (the tooltip stays).
    const many = data.series.length > 150;
    const legendOn = showLegend && !many;
    legendBox.hidden = !legendOn;
    const getOpts = () => ({
      ...current,
      rawValue: (si, idx) => raw[si - 1]?.[idx],
      unitOf: (label) => data.series.find((s) => s.label === label)?.unit || current.unit,
    });
    // Series placed on the right get their own scale and axis (Grafana's axisPlacement).
    const right = data.series.find((x) => x.axis === 'right');
    const rightAxis = right
      ? [{ scale: 'y2', side: 1, stroke: fg, grid: { show: false }, ticks: { stroke: grid, width: 1 }, font: font(), values: axisFormatter(right.unit || o.unit, right.unit ? undefined : o.decimals), size: axisSize, space: 30 }]
      : [];
    const uopts = {
      ...size(),
      ...(o.utc ? { tzDate: utcDate } : {}),
      series,
      bands,
      scales: {
        x: { time: true, range: (self, dmin, dmax) => (range ? [range[0], range[1]] : [dmin, dmax]) },
        y: o.logBase ? { distr: 3, log: o.logBase } : { range: yRange },
        ...(right ? { y2: { range: (self, dmin, dmax) => uPlot.rangeNum(dmin ?? 0, dmax ?? 1, 0.05, true) } } : {}),
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: font(), values: timeTicks(o.utc), space: 60 },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          font: font(),
          values: axisFormatter(unit, o.decimals),
          size: axisSize,
          space: 30,
          label: o.axisLabel || undefined,
          labelSize: o.axisLabel ? 16 : undefined,
          labelFont: font(),
        },
        ...rightAxis,
      ],
      legend: {
        show: legendOn,
        live: true,
        mount: (self, el) => legendBox.append(el),
      },
      cursor: {
        sync: o.syncKey ? { key: o.syncKey, setSeries: false } : undefined,
        drag: { x: true, y: false, setScale: false },
        points: { size: 6, show: data.series.length <= 50 },
        focus: { prox: 16 },
        bind: {
          dblclick: () => () => {
            if (current.onReset) current.onReset();
            return null;
          },
        },
      },
      focus: { alpha: 0.4 },
      hooks: {
        setSelect: [
          (self) => {
            const w = self.select.width;
            // Synced charts mirror the selection (no event of their own); only the source zooms.
            if (w > 3 && current.onZoom && self.cursor.event) {
              const a = self.posToVal(self.select.left, 'x');
              const b = self.posToVal(self.select.left + w, 'x');
              current.onZoom(Math.round(a * 1000), Math.round(b * 1000));
            }
            self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
      plugins: [thresholdsPlugin(getOpts), annotationsPlugin(getOpts), tooltipPlugin(getOpts, plot)],
    };
    return uopts;
  }

  function toUplotData(data) {
    raw = data.series.map((s) => s.values);
    const stacking = current.stacking && current.stacking !== 'none' ? current.stacking : null;
    // negative-Y series draw below the axis; the legend and tooltip keep their real values.
    const drawn = data.series.map((s) => (s.negativeY ? s.values.map((v) => (v == null ? null : -v)) : s.values));
    const ys = stacking ? stack(drawn, stacking === 'percent') : drawn;
    return [data.xs, ...ys];
  }

  const ro = new ResizeObserver(() => {
    if (u) u.setSize(size());
  });
  ro.observe(plot);

  /** Grafana's legend calcs (mean, max, last...) beside each series' name. */
  function updateCalcs(data) {
    const calcs = (current.legend && current.legend.calcs) || [];
    if (!u || !calcs.length || legendBox.hidden) return;
    const rows = legendBox.querySelectorAll('tr.u-series');
    data.series.forEach((s, i) => {
      const row = rows[i + 1];
      if (!row) return;
      let cell = row.querySelector('.chart-calcs');
      if (!cell) {
        cell = document.createElement('td');
        cell.className = 'chart-calcs';
        row.append(cell);
      }
      cell.textContent = calcs.map((c) => `${CALC_NAMES[c] || c}: ${formatValue(reduce(s.values, c), s.unit || current.unit, current.decimals)}`).join('  ');
    });
  }

  return {
    root,
    setData(data) {
      range = data.range || null;
      const sig = JSON.stringify([data.series.map((s) => [s.label, s.color, s.unit, s.hidden, s.negativeY, s.axis]), current.stacking]);
      const d = toUplotData(data);
      if (u && sig === signature) {
        u.setData(d);
        updateCalcs(data);
        return;
      }
      signature = sig;
      if (u) u.destroy();
      legendBox.replaceChildren();
      u = new uPlot(build(data), d, plot);
      updateCalcs(data);
    },
    setOptions(o) {
      Object.assign(current, o);
      signature = '';
    },
    destroy() {
      ro.disconnect();
      themeObs.disconnect();
      if (dark) dark.removeEventListener('change', redraw);
      if (u) u.destroy();
      u = null;
      root.remove();
    },
    redraw() {
      if (u) u.redraw(false, false);
    },
    get uplot() {
      return u;
    },
  };
}

/**
 * A heatmap of buckets over time on uPlot (axes, shared crosshair, drag zoom as above).
 * setData({xs, range, buckets: [label...], counts: [[count per x] per bucket], stepS}).
 */
export function heatmapChart(container, opts = {}) {
  const root = document.createElement('div');
  root.className = 'chart';
  const plot = document.createElement('div');
  plot.className = 'chart-plot';
  root.append(plot);
  container.append(root);
  const tip = document.createElement('div');
  tip.className = 'chart-tooltip';
  tip.hidden = true;
  plot.append(tip);
  let u = null;
  let hd = { xs: [], buckets: [], counts: [], stepS: 15 };
  let range = null;
  const base = opts.color || '#FF9830';

  function drawCells(self) {
    const { left, top, width, height } = self.bbox;
    const ctx = self.ctx;
    let max = 0;
    for (const row of hd.counts) for (const c of row) if (c != null && c > max) max = c;
    if (!max) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const step = hd.stepS;
    hd.counts.forEach((row, bi) => {
      const y0 = self.valToPos(bi, 'y', true);
      const y1 = self.valToPos(bi + 1, 'y', true);
      row.forEach((c, xi) => {
        if (!c) return;
        const x0 = self.valToPos(hd.xs[xi] - step, 'x', true);
        const x1 = self.valToPos(hd.xs[xi], 'x', true);
        ctx.fillStyle = withAlpha(base, 0.12 + 0.88 * Math.sqrt(c / max));
        ctx.fillRect(Math.round(x0), Math.round(y1), Math.max(1, Math.round(x1) - Math.round(x0) - 1), Math.max(1, Math.round(y0) - Math.round(y1) - 1));
      });
    });
    ctx.restore();
  }

  function build() {
    return {
      width: Math.max(50, plot.clientWidth),
      height: Math.max(40, plot.clientHeight),
      ...(opts.utc ? { tzDate: utcDate } : {}),
      legend: { show: false },
      series: [{}, { label: 'count', paths: () => null, points: { show: false } }],
      scales: {
        x: { time: true, range: (self, a, b) => (range ? [range[0], range[1]] : [a, b]) },
        y: { range: () => [0, Math.max(1, hd.buckets.length)] },
      },
      axes: [
        { stroke: fg, grid: { show: false }, ticks: { stroke: grid }, font: font(), values: timeTicks(opts.utc), space: 60 },
        {
          stroke: fg,
          grid: { show: false },
          ticks: { stroke: grid },
          font: font(),
          size: axisSize,
          splits: () => {
            const n = hd.buckets.length;
            const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plot.clientHeight / 22))));
            const out = [];
            for (let i = 0; i < n; i += every) out.push(i + 0.5);
            return out;
          },
          values: (self, splits) => splits.map((s) => hd.buckets[Math.floor(s)] ?? ''),
        },
      ],
      cursor: {
        sync: opts.syncKey ? { key: opts.syncKey, setSeries: false } : undefined,
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        bind: { dblclick: () => () => (opts.onReset && opts.onReset(), null) },
      },
      hooks: {
        draw: [drawCells],
        setSelect: [
          (self) => {
            const w = self.select.width;
            if (w > 3 && opts.onZoom && self.cursor.event) {
              opts.onZoom(Math.round(self.posToVal(self.select.left, 'x') * 1000), Math.round(self.posToVal(self.select.left + w, 'x') * 1000));
            }
            self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        setCursor: [
          (self) => {
            const { left, top } = self.cursor;
            if (left == null || left < 0 || !hd.xs.length) {
              tip.hidden = true;
              return;
            }
            const x = self.posToVal(left, 'x');
            const bi = Math.floor(self.posToVal(top, 'y'));
            let xi = hd.xs.findIndex((t) => t >= x);
            if (xi < 0) xi = hd.xs.length - 1;
            const c = hd.counts[bi]?.[xi];
            if (bi < 0 || bi >= hd.buckets.length || c == null) {
              tip.hidden = true;
              return;
            }
            tip.textContent = `${isoDateTime(hd.xs[xi] * 1000, opts.utc)} · ${opts.bucketLabel || 'bucket'} ${hd.buckets[bi]} · ${formatValue(c, 'short')}`;
            tip.hidden = false;
            tip.style.left = `${left + self.over.offsetLeft + 12}px`;
            tip.style.top = `${top + self.over.offsetTop}px`;
          },
        ],
      },
    };
  }

  const ro = new ResizeObserver(() => u && u.setSize({ width: Math.max(50, plot.clientWidth), height: Math.max(40, plot.clientHeight) }));
  ro.observe(plot);
  return {
    root,
    setData(data) {
      hd = data;
      range = data.range || null;
      const d = [data.xs, data.xs.map(() => null)];
      if (!u) u = new uPlot(build(), d, plot);
      else u.setData(d);
    },
    destroy() {
      ro.disconnect();
      if (u) u.destroy();
      u = null;
      root.remove();
    },
  };
}
