// Explore: a PromQL box with completion, parse errors marked at their position, a graph
// (range query) and a table (instant query) view, range/end/step controls, the query's cost
// from `stats=all` beside the wall time measured here, a local query history, and the URL
// holding expr, range, end, step and tab.
import { fetchJSON, h, seriesName, setUrlQuery } from '../dash/util.js';
import { attachCompletion } from '../dash/complete.js';
import { formatDuration, parseDuration, parseTime, roundInterval } from '../dash/time.js';
import { formatValue, isoDateTime } from '../dash/units.js';
import { histogramText, sampleValue, toHeatmap } from '../dash/query.js';
import { heatmapChart, timeChart } from '../lib/chart.js';

const HISTORY_KEY = 'sightline.explore.history';
const RANGES = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '2d', '7d', '30d'];

function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function saveHistory(expr) {
  try {
    const list = [expr, ...loadHistory().filter((x) => x !== expr)].slice(0, 50);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(list));
  } catch {
    // Storage may be disabled (private mode); history is a convenience only.
  }
}

/** The character offset of a Prometheus parse error (`1:5: parse error: ...`), or null. */
export function errorOffset(message, text) {
  const m = /(?:^|[\s:"])(\d+):(\d+)(?:-\d+:\d+)?: parse error/.exec(message) || /(\d+):(\d+): /.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  const col = Number(m[2]);
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return Math.max(0, Math.min(text.length, off + col - 1));
}

function fmtNum(n) {
  return n == null ? '—' : Number(n).toLocaleString('en-US');
}

function fmtSecs(s) {
  if (s == null || Number.isNaN(Number(s))) return '—';
  return formatValue(Number(s), 's');
}

export default {
  title: 'Explore',
  async render(root, route, ctx) {
    const q = route.query;
    const st = {
      expr: q.get('expr') || '',
      range: q.get('range') || '1h',
      end: q.get('end') || '',
      step: q.get('step') || '',
      tab: q.get('tab') === 'table' ? 'table' : 'graph',
      zoom: [],
    };

    const backdrop = h('div', { class: 'expr-backdrop', 'aria-hidden': 'true' });
    const textarea = h('textarea', { name: 'expr', rows: '3', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'PromQL expression', placeholder: 'PromQL expression, e.g. rate(http_requests_total[5m])  (Enter runs, Shift+Enter for a new line)' });
    textarea.value = st.expr;
    const errBox = h('div', { class: 'expr-error', role: 'alert', hidden: true });
    const editor = h('div', { class: 'explore-editor' }, h('div', { class: 'expr-wrap' }, backdrop, textarea), errBox);

    const runBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'run' }, 'Run query');
    const rangeIn = h('input', { name: 'range', value: st.range, list: 'explore-ranges', 'aria-label': 'Range', title: 'Range (e.g. 1h, 30m, 2d)' });
    const ranges = h('datalist', { id: 'explore-ranges' }, RANGES.map((r) => h('option', { value: r })));
    // `end` in the URL is Unix seconds; other forms (an ISO date, now-1h) are shown as given.
    const endText = !st.end ? '' : /^\d+(\.\d+)?$/.test(st.end) ? isoDateTime(Number(st.end) * 1000) : st.end;
    const endIn = h('input', { name: 'end', value: endText, placeholder: 'now', 'aria-label': 'End time', title: 'End (YYYY-MM-DD HH:mm:ss, now-1h; empty = now)' });
    const stepIn = h('input', { name: 'step', value: st.step, placeholder: 'auto', 'aria-label': 'Step', title: 'Resolution step (e.g. 15s; empty = auto)' });
    const tabBtn = (name, label) => h('button', { type: 'button', role: 'tab', 'data-tab': name, 'aria-selected': String(st.tab === name), onclick: () => setTab(name) }, label);
    const tabs = h('div', { class: 'explore-tabs', role: 'tablist' }, tabBtn('graph', 'Graph'), tabBtn('table', 'Table'));
    const cost = h('span', { class: 'explore-cost', 'data-cost': '', title: 'Samples and time from stats=all; wall time measured in the browser' }, '');
    const controls = h(
      'div',
      { class: 'explore-controls' },
      runBtn,
      tabs,
      h('label', null, 'Range', rangeIn, ranges),
      h('label', null, 'End', endIn),
      h('label', null, 'Step', stepIn),
      cost,
    );
    const result = h('div', { class: 'explore-result' });
    const historyList = h('ul');
    const history = h('details', { class: 'explore-history' }, h('summary', null, 'Query history'), historyList);
    root.replaceChildren(h('div', { class: 'explore' }, h('h1', { class: 'dash-title' }, 'Explore'), editor, controls, result, history));

    let chart = null;
    let ctrl = null;
    let disposed = false;
    let tableSort = { col: 'value', desc: true };

    function drawHistory() {
      historyList.replaceChildren(
        ...loadHistory().map((x) =>
          h(
            'li',
            null,
            h('button', { type: 'button', title: 'Use this query', onclick: () => ((textarea.value = x), syncBackdrop(null), run(true)) }, x),
          ),
        ),
      );
    }

    function syncBackdrop(pos) {
      const t = textarea.value;
      if (pos == null) {
        backdrop.replaceChildren(t + '\n');
        return;
      }
      const end = Math.min(t.length, pos + Math.max(1, (/^[\w:]+/.exec(t.slice(pos)) || [''])[0].length));
      backdrop.replaceChildren(t.slice(0, pos), h('mark', null, t.slice(pos, end) || ' '), t.slice(end) + '\n');
    }
    textarea.addEventListener('input', () => {
      errBox.hidden = true;
      errBox.removeAttribute('data-error-pos');
      syncBackdrop(null);
    });
    textarea.addEventListener('scroll', () => (backdrop.scrollTop = textarea.scrollTop));
    syncBackdrop(null);

    function writeUrl(push) {
      const p = new URLSearchParams();
      if (st.expr) p.set('expr', st.expr);
      p.set('range', st.range);
      if (st.end) p.set('end', st.end);
      if (st.step) p.set('step', st.step);
      p.set('tab', st.tab);
      setUrlQuery(ctx, p, { replace: !push });
    }

    function setTab(name) {
      st.tab = name;
      for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
      writeUrl(false);
      run(false);
    }

    function readControls() {
      const r = rangeIn.value.trim() || '1h';
      if (!parseDuration(r)) throw new Error(`Invalid range "${r}" (use e.g. 1h, 30m, 2d)`);
      st.range = r;
      const e = endIn.value.trim();
      if (e && e !== 'now') {
        const t = parseTime(e, true);
        if (Number.isNaN(t)) throw new Error(`Invalid end time "${e}"`);
        st.end = String(Math.round(t / 1000));
      } else st.end = '';
      const s = stepIn.value.trim();
      if (s && !parseDuration(s)) throw new Error(`Invalid step "${s}"`);
      st.step = s;
    }

    function showError(msg) {
      const pos = errorOffset(msg, textarea.value);
      errBox.hidden = false;
      errBox.textContent = msg;
      if (pos != null) {
        errBox.dataset.errorPos = String(pos);
        syncBackdrop(pos);
        const line = textarea.value.slice(0, pos).split('\n').length;
        const col = pos - textarea.value.lastIndexOf('\n', pos - 1);
        errBox.prepend(h('span', { class: 'expr-error-where' }, `At line ${line}, column ${col}: `));
      } else errBox.removeAttribute('data-error-pos');
    }

    const warnBox = h('div', { class: 'explore-warnings', role: 'status', hidden: true });
    controls.after(warnBox);
    function showWarnings(body) {
      const list = [...((body && body.warnings) || []), ...((body && body.infos) || [])];
      warnBox.hidden = !list.length;
      warnBox.replaceChildren(...list.map((w) => h('div', null, `⚠ ${w}`)));
    }

    function showCost(stats, wallMs) {
      const s = stats || null;
      const samples = s && s.samples ? s.samples.totalQueryableSamples : null;
      const peak = s && s.samples ? s.samples.peakSamples : null;
      const evalT = s && s.timings ? s.timings.evalTotalTime : null;
      cost.textContent = `samples ${fmtNum(samples)} · peak ${fmtNum(peak)} · eval ${fmtSecs(evalT)} · wall ${Math.round(wallMs)} ms`;
      cost.dataset.samples = samples == null ? '' : String(samples);
      cost.dataset.wallMs = String(Math.round(wallMs));
    }

    async function run(push) {
      const expr = textarea.value.trim();
      try {
        readControls();
      } catch (e) {
        result.replaceChildren(h('p', { class: 'dash-msg-error' }, e.message));
        return;
      }
      const changed = expr !== st.expr;
      st.expr = expr;
      writeUrl(push && changed);
      if (!expr) {
        result.replaceChildren(h('p', { class: 'explore-msg' }, 'Enter a PromQL expression and press Enter.'));
        return;
      }
      if (ctrl) ctrl.abort();
      const c = (ctrl = new AbortController());
      errBox.hidden = true;
      syncBackdrop(null);
      runBtn.disabled = true;
      const endMs = st.end ? Number(st.end) * 1000 : Date.now();
      const rangeMs = parseDuration(st.range);
      const t0 = performance.now();
      try {
        let body;
        if (st.tab === 'graph') {
          const width = result.clientWidth || 1000;
          const stepMs = st.step ? parseDuration(st.step) : Math.max(1000, roundInterval(rangeMs / Math.min(1000, Math.max(100, width))));
          const start = Math.floor((endMs - rangeMs) / stepMs) * stepMs;
          const end = Math.floor(endMs / stepMs) * stepMs;
          const p = new URLSearchParams({ query: expr, start: String(start / 1000), end: String(end / 1000), step: String(stepMs / 1000), stats: 'all' });
          body = await fetchJSON(`api/v1/query_range?${p}`, { signal: c.signal });
          if (c.signal.aborted || disposed) return;
          showCost(body.data?.stats || body.stats, performance.now() - t0);
          showWarnings(body);
          drawGraph(body.data, start, end, stepMs, endMs - rangeMs, endMs);
        } else {
          const p = new URLSearchParams({ query: expr, stats: 'all' });
          if (st.end) p.set('time', st.end);
          body = await fetchJSON(`api/v1/query?${p}`, { signal: c.signal });
          if (c.signal.aborted || disposed) return;
          showCost(body.data?.stats || body.stats, performance.now() - t0);
          showWarnings(body);
          drawTable(body.data);
        }
        saveHistory(expr);
        drawHistory();
      } catch (e) {
        if (e.name === 'AbortError' || c.signal.aborted) return;
        showCost(null, performance.now() - t0);
        showWarnings(null);
        showError(e.message);
        if (chart) {
          chart.destroy();
          chart = null;
        }
        result.replaceChildren();
      } finally {
        if (ctrl === c) runBtn.disabled = false;
      }
    }

    function drawGraph(data, start, end, stepMs, fromMs, toMs) {
      const n = Math.max(1, Math.round((end - start) / stepMs) + 1);
      const xs = Array.from({ length: n }, (_, i) => (start + i * stepMs) / 1000);
      const series = [];
      const hseries = [];
      if (data.resultType === 'matrix') {
        for (const r of data.result || []) {
          if (r.histograms) {
            const hists = new Array(n).fill(null);
            for (const [t, hg] of r.histograms) {
              const i = Math.round((t * 1000 - start) / stepMs);
              if (i >= 0 && i < n) hists[i] = hg;
            }
            hseries.push({ metric: r.metric || {}, values: [], hists });
          }
          if (!r.values) continue;
          const values = new Array(n).fill(null);
          for (const [t, v] of r.values || []) {
            const i = Math.round((t * 1000 - start) / stepMs);
            const x = sampleValue(v);
            if (i >= 0 && i < n && Number.isFinite(x)) values[i] = x;
          }
          series.push({ label: seriesName(r.metric || {}), values });
        }
      }
      if (hseries.length && !series.length) {
        // Only native histograms: a heatmap of their buckets, summed over the series.
        const hm = toHeatmap({ xs, stepMs, series: hseries });
        let cells = 0;
        for (const row of hm.counts) for (const c of row) if (c != null) cells++;
        const box = h('div', { class: 'explore-graph', 'data-result': '', 'data-series': String(hseries.length), 'data-histograms': String(hseries.length), 'data-points': String(cells) });
        if (chart) chart.destroy();
        result.replaceChildren(box);
        chart = heatmapChart(box, {});
        chart.setData({ ...hm, range: [fromMs / 1000, toMs / 1000] });
        return;
      }
      let points = 0;
      for (const s of series) for (const v of s.values) if (v != null) points++;
      const box = h('div', { class: 'explore-graph', 'data-result': '', 'data-series': String(series.length), 'data-points': String(points) });
      if (chart) chart.destroy();
      chart = null;
      if (!series.length) {
        result.replaceChildren(h('div', { 'data-result': '', 'data-series': '0', class: 'explore-msg' }, 'Empty query result.'));
        return;
      }
      result.replaceChildren(box);
      chart = timeChart(box, {
        legend: { show: series.length <= 100 },
        onZoom: (a, b) => {
          st.zoom.push([st.range, st.end]);
          rangeIn.value = formatDuration(Math.max(1000, b - a));
          endIn.value = isoDateTime(b);
          run(true);
        },
        onReset: () => {
          const prev = st.zoom.pop();
          if (!prev) return;
          rangeIn.value = prev[0];
          endIn.value = prev[1] && /^\d+(\.\d+)?$/.test(prev[1]) ? isoDateTime(Number(prev[1]) * 1000) : prev[1] || '';
          run(true);
        },
      });
      chart.setData({ xs, range: [fromMs / 1000, toMs / 1000], series });
    }

    function drawTable(data) {
      if (chart) {
        chart.destroy();
        chart = null;
      }
      let rows;
      if (data.resultType === 'vector')
        rows = (data.result || []).map((r) =>
          r.histogram
            ? { labels: seriesName(r.metric || {}), value: sampleValue(r.histogram[1].count), text: histogramText(r.histogram[1]) }
            : { labels: seriesName(r.metric || {}), value: sampleValue(r.value[1]), text: r.value[1] },
        );
      else if (data.resultType === 'matrix')
        rows = (data.result || []).map((r) => {
          const pts = [...(r.values || []).map((v) => [v[0], v[1]]), ...(r.histograms || []).map((v) => [v[0], histogramText(v[1])])].sort((a, b) => a[0] - b[0]);
          return { labels: seriesName(r.metric || {}), value: pts.length, text: pts.map((v) => `${v[1]} @${v[0]}`).join('\n') };
        });
      else rows = [{ labels: data.resultType, value: sampleValue(data.result?.[1]), text: String(data.result?.[1]) }];
      const drawRows = () => {
        const sorted = [...rows].sort((a, b) => {
          const r = tableSort.col === 'value' ? (a.value - b.value || 0) : a.labels.localeCompare(b.labels);
          return tableSort.desc ? -r : r;
        });
        const th = (col, label) =>
          h('th', { class: tableSort.col === col ? (tableSort.desc ? 'sorted-desc' : 'sorted-asc') : null, tabindex: '0', onclick: () => sortBy(col), onkeydown: (e) => e.key === 'Enter' && sortBy(col) }, label);
        const tbl = h(
          'table',
          { class: 'dash-table' },
          h('thead', null, h('tr', null, th('labels', 'Series'), th('value', data.resultType === 'matrix' ? 'Samples' : 'Value'))),
          h('tbody', null, sorted.slice(0, 10000).map((r) => h('tr', null, h('td', { class: 'series-labels' }, r.labels), h('td', { class: 'num', style: { whiteSpace: 'pre' } }, r.text)))),
        );
        result.replaceChildren(h('div', { class: 'explore-table', 'data-result': '', 'data-series': String(rows.length) }, rows.length ? tbl : h('p', { class: 'explore-msg' }, 'Empty query result.')));
      };
      const sortBy = (col) => {
        tableSort = { col, desc: tableSort.col === col ? !tableSort.desc : col === 'value' };
        drawRows();
      };
      drawRows();
    }

    attachCompletion(textarea, { onRun: () => run(true), container: editor });
    runBtn.addEventListener('click', () => run(true));
    for (const el of [rangeIn, endIn, stepIn]) el.addEventListener('keydown', (e) => e.key === 'Enter' && run(true));
    rangeIn.addEventListener('change', () => run(true));
    const onKey = (e) => {
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '')) {
        e.preventDefault();
        textarea.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    drawHistory();
    if (st.expr) await run(false);
    else textarea.focus();

    return () => {
      disposed = true;
      if (ctrl) ctrl.abort();
      if (chart) chart.destroy();
      document.removeEventListener('keydown', onKey);
    };
  },
};
