// Normalises Grafana dashboard JSON of any schema version into one model the renderer uses:
// sections (the panels before the first row, then one per row) of panels with a gridPos on
// the 24-column grid. The seed's pasted JSON (no gridPos, ids or datasource) gets an automatic
// layout; old `rows: [...]` dashboards (schemaVersion < 16) become sections; old graph and
// singlestat panel fields map onto fieldConfig.

const DEFAULT_W = 12;
const DEFAULT_H = 8;

/** Returns the dashboard object out of `{dashboard, meta}` (the by-uid API, import bodies). */
export function unwrap(json) {
  if (json && typeof json === 'object' && json.dashboard && typeof json.dashboard === 'object') {
    return { dashboard: json.dashboard, meta: json.meta || {} };
  }
  return { dashboard: json || {}, meta: {} };
}

function num(v, d) {
  const n = Number(v);
  return v == null || v === '' || Number.isNaN(n) ? d : n;
}

function rowHeightUnits(h) {
  // Old rows give a pixel height ("250px" or 250); a grid unit is 30 px plus an 8 px gap.
  const px = num(String(h ?? '250').replace('px', ''), 250);
  return Math.max(3, Math.round((px + 8) / 38));
}

/** Maps the old graph panel's options (yaxes, stack, fill, lines...) onto fieldConfig. */
function fromGraph(p) {
  const fc = p.fieldConfig && p.fieldConfig.defaults ? p.fieldConfig : { defaults: {}, overrides: [] };
  const d = { ...fc.defaults, custom: { ...(fc.defaults.custom || {}) } };
  const y = Array.isArray(p.yaxes) ? p.yaxes[0] : null;
  if (y) {
    if (d.unit == null && y.format) d.unit = y.format;
    if (d.decimals == null && y.decimals != null) d.decimals = y.decimals;
    if (d.min == null && y.min != null && y.min !== '') d.min = Number(y.min);
    if (d.max == null && y.max != null && y.max !== '') d.max = Number(y.max);
  }
  if (p.format && d.unit == null) d.unit = p.format;
  if (p.decimals != null && d.decimals == null) d.decimals = p.decimals;
  if (p.stack) d.custom.stacking = { mode: p.percentage ? 'percent' : 'normal' };
  if (p.fill != null && d.custom.fillOpacity == null) d.custom.fillOpacity = num(p.fill, 1) * 10;
  if (p.linewidth != null && d.custom.lineWidth == null) d.custom.lineWidth = num(p.linewidth, 1);
  if (p.bars && !p.lines) d.custom.drawStyle = 'bars';
  else if (p.points && !p.lines) d.custom.drawStyle = 'points';
  if (p.steppedLine) d.custom.lineInterpolation = 'stepAfter';
  if (p.nullPointMode === 'connected') d.custom.spanNulls = true;
  if (Array.isArray(p.thresholds) && p.thresholds.length && !d.thresholds) {
    const steps = [{ value: null, color: 'transparent' }];
    for (const t of p.thresholds) {
      const color = t.colorMode === 'ok' ? 'green' : t.colorMode === 'warning' ? 'orange' : t.colorMode === 'custom' ? t.fillColor || t.lineColor : 'red';
      steps.push({ value: num(t.value, 0), color });
    }
    d.thresholds = { mode: 'absolute', steps };
    d.custom.thresholdsStyle = { mode: p.thresholds.some((t) => t.fill) ? 'line+area' : 'line' };
  }
  const overrides = [...(fc.overrides || [])];
  for (const so of p.seriesOverrides || []) {
    if (!so.alias) continue;
    const props = [];
    if (so.color) props.push({ id: 'color', value: { mode: 'fixed', fixedColor: so.color } });
    if (so.fill != null) props.push({ id: 'custom.fillOpacity', value: so.fill * 10 });
    if (so.linewidth != null) props.push({ id: 'custom.lineWidth', value: so.linewidth });
    if (so.transform === 'negative-Y') props.push({ id: 'custom.transform', value: 'negative-Y' });
    if (Number(so.yaxis) === 2) {
      props.push({ id: 'custom.axisPlacement', value: 'right' });
      const y2 = Array.isArray(p.yaxes) ? p.yaxes[1] : null;
      if (y2 && y2.format) props.push({ id: 'unit', value: y2.format });
    }
    const re = /^\/.*\/[gimsuy]*$/.test(so.alias);
    overrides.push({ matcher: { id: re ? 'byRegexp' : 'byName', options: so.alias }, properties: props });
  }
  // aliasColors: {"series name": "#hex"} were the old graph's fixed series colours.
  for (const [name, color] of Object.entries(p.aliasColors && typeof p.aliasColors === 'object' ? p.aliasColors : {})) {
    overrides.push({ matcher: { id: 'byName', options: name }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }] });
  }
  const legend = p.legend || {};
  const options = { ...(p.options || {}) };
  if (!options.legend) {
    const calcs = legend.values ? [['avg', 'mean'], ['min', 'min'], ['max', 'max'], ['current', 'lastNotNull'], ['total', 'sum']].filter(([k]) => legend[k]).map(([, c]) => c) : [];
    options.legend = {
      showLegend: legend.show !== false,
      displayMode: legend.alignAsTable ? 'table' : 'list',
      placement: legend.rightSide ? 'right' : 'bottom',
      calcs,
    };
  }
  return { fieldConfig: { defaults: d, overrides }, options };
}

/** Maps the old singlestat panel onto stat's options. */
function fromSinglestat(p) {
  const d = { ...(p.fieldConfig?.defaults || {}) };
  if (p.format && d.unit == null) d.unit = p.format;
  if (p.decimals != null && d.decimals == null) d.decimals = p.decimals;
  if (typeof p.thresholds === 'string' && p.thresholds.trim() && !d.thresholds) {
    const vals = p.thresholds.split(',').map(Number);
    const colors = p.colors || ['#299c46', 'rgba(237, 129, 40, 0.89)', '#d44a3a'];
    d.thresholds = { mode: 'absolute', steps: [{ value: null, color: colors[0] }, ...vals.map((v, i) => ({ value: v, color: colors[i + 1] || 'red' }))] };
  }
  const calc = { current: 'lastNotNull', avg: 'mean', total: 'sum', min: 'min', max: 'max', first: 'firstNotNull', delta: 'range' }[p.valueName || 'avg'] || 'mean';
  const options = {
    reduceOptions: { calcs: [calc] },
    colorMode: p.colorBackground ? 'background' : p.colorValue ? 'value' : 'none',
    graphMode: p.sparkline && p.sparkline.show ? 'area' : 'none',
  };
  return { type: p.gauge && p.gauge.show ? 'gauge' : 'stat', fieldConfig: { defaults: d, overrides: [] }, options };
}

// Panels without an id get one by their order, the same on every load (viewPanel links).
let autoId = 100000;

/** A data source's type when the model names one (`{type, uid}`); strings are names only. */
function dsType(ds) {
  return ds && typeof ds === 'object' && typeof ds.type === 'string' ? ds.type : null;
}

function normPanel(p) {
  const out = { ...p };
  const panelDs = dsType(p.datasource);
  out.id = p.id ?? autoId++;
  out.type = p.type || 'timeseries';
  out.title = p.title ?? '';
  out.targets = (Array.isArray(p.targets) ? p.targets : []).filter((t) => t && typeof t === 'object').map((t, i) => ({
    refId: t.refId || String.fromCharCode(65 + (i % 26)),
    expr: typeof t.expr === 'string' ? t.expr : typeof t.query === 'string' ? t.query : '',
    legendFormat: t.legendFormat || '',
    instant: !!t.instant || (t.range === false && t.instant !== false),
    format: t.format || 'time_series',
    interval: t.interval || '',
    hide: !!t.hide,
    intervalFactor: num(t.intervalFactor, 1),
    // Only Prometheus queries run here; other sources' queries (Loki, expressions) are not sent.
    unsupported: ((type) => (type && type !== 'prometheus' && type !== 'datasource' ? type : ''))(dsType(t.datasource) || panelDs),
  }));
  if (out.type === 'graph') Object.assign(out, fromGraph(p));
  if (out.type === 'singlestat') Object.assign(out, fromSinglestat(p));
  if (!out.fieldConfig || typeof out.fieldConfig !== 'object') out.fieldConfig = { defaults: {}, overrides: [] };
  out.fieldConfig = { defaults: out.fieldConfig.defaults || {}, overrides: out.fieldConfig.overrides || [] };
  out.options = out.options || {};
  return out;
}

/** Flows panels without a gridPos left to right, top to bottom (12 wide, 8 high). */
function layout(panels, startY = 0) {
  let x = 0;
  let y = startY;
  let rowH = 0;
  let maxY = startY;
  for (const p of panels) {
    const g = p.gridPos;
    if (g && Number.isFinite(Number(g.w)) && Number.isFinite(Number(g.h))) {
      p.gridPos = { x: num(g.x, 0), y: num(g.y, y), w: Math.min(24, Math.max(1, num(g.w, DEFAULT_W))), h: Math.max(1, num(g.h, DEFAULT_H)) };
    } else {
      const w = p._span ? Math.min(24, Math.max(1, Math.round(p._span * 2))) : DEFAULT_W;
      const hh = p._height || DEFAULT_H;
      if (x + w > 24) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      p.gridPos = { x, y, w, h: hh };
      x += w;
      rowH = Math.max(rowH, hh);
    }
    maxY = Math.max(maxY, p.gridPos.y + p.gridPos.h);
  }
  return maxY;
}

/** Makes gridPos.y relative to the section's first panel so each section is its own grid. */
function rebase(panels) {
  if (!panels.length) return;
  const minY = Math.min(...panels.map((p) => p.gridPos.y));
  for (const p of panels) p.gridPos = { ...p.gridPos, y: p.gridPos.y - minY };
}

/**
 * Normalises a dashboard. Returns {uid, title, tags, refresh, time, variables, sections:
 * [{row: null|{id, title, collapsed, repeat}, panels: [...]}], panels (all), graphTooltip,
 * links, description, readOnly}.
 */
export function normalize(json) {
  const { dashboard: d, meta } = unwrap(json);
  autoId = 100000;
  const sections = [];
  const head = { row: null, panels: [] };
  sections.push(head);
  if (Array.isArray(d.rows) && !Array.isArray(d.panels)) {
    // schemaVersion < 16: rows of panels with a 12-column span and a pixel height.
    d.rows.filter((r) => r && typeof r === 'object').forEach((r, i) => {
      const panels = (Array.isArray(r.panels) ? r.panels : []).filter((p) => p && typeof p === 'object').map((p) => normPanel({ ...p, _span: num(p.span, 12), _height: rowHeightUnits(p.height || r.height) }));
      layout(panels, 0);
      rebase(panels);
      // Old rows show a header only with showTitle; untitled rows are plain sections.
      const titled = !!r.showTitle;
      if (i === 0 && !titled) head.panels.push(...panels);
      else if (!titled) sections.push({ row: null, panels });
      else sections.push({ row: { id: `row-${i}`, title: r.title || '', collapsed: !!r.collapse, repeat: r.repeat || '' }, panels });
    });
  } else {
    const list = Array.isArray(d.panels) ? d.panels : [];
    let cur = head;
    for (const raw of list) {
      if (!raw || typeof raw !== 'object') continue;
      if (raw.type === 'row') {
        cur = {
          row: { id: raw.id ?? `row-${sections.length}`, title: raw.title || '', collapsed: !!raw.collapsed, repeat: raw.repeat || '' },
          panels: [],
        };
        sections.push(cur);
        // A collapsed row carries its panels inside itself.
        for (const p of Array.isArray(raw.panels) ? raw.panels : []) if (p && typeof p === 'object') cur.panels.push(normPanel(p));
        continue;
      }
      cur.panels.push(normPanel(raw));
    }
    for (const s of sections) {
      layout(s.panels, 0);
      rebase(s.panels);
    }
  }
  // Nested rows from old exports and empty head sections are dropped.
  const kept = sections.filter((s) => s.row || s.panels.length);
  const t = d.time || {};
  const templating = d.templating && Array.isArray(d.templating.list) ? d.templating.list : [];
  return {
    uid: d.uid || meta.uid || '',
    title: d.title || 'Untitled dashboard',
    description: d.description || '',
    tags: Array.isArray(d.tags) ? d.tags : [],
    refresh: typeof d.refresh === 'string' ? d.refresh : '',
    time: { from: t.from || 'now-6h', to: t.to || 'now' },
    timepicker: d.timepicker || {},
    graphTooltip: num(d.graphTooltip, 0),
    timezone: d.timezone === 'utc' || d.timezone === 'UTC' ? 'utc' : 'browser',
    variables: templating.filter((v) => v && v.name),
    sections: kept,
    panels: kept.flatMap((s) => s.panels),
    links: Array.isArray(d.links) ? d.links : [],
    readOnly: !!(meta.provisioned || meta.canSave === false || meta.readOnly),
    meta,
    raw: d,
  };
}

/** Applies the field config's overrides for one series name (byName/displayName/regexp). */
export function fieldFor(panel, name, refId) {
  const base = panel.fieldConfig.defaults || {};
  const f = { ...base, custom: { ...(base.custom || {}) } };
  for (const o of panel.fieldConfig.overrides || []) {
    const m = o.matcher || {};
    let hit = false;
    if (m.id === 'byName' || m.id === 'byDisplayName' || m.id === 'byFrameRefID') hit = m.id === 'byFrameRefID' ? m.options === refId : m.options === name;
    else if (m.id === 'byRegexp') {
      try {
        const src = String(m.options || '');
        const mm = /^\/(.*)\/([gimsuy]*)$/.exec(src);
        hit = new RegExp(mm ? mm[1] : src, mm ? mm[2].replace('g', '') : '').test(name);
      } catch {
        hit = false;
      }
    }
    if (!hit) continue;
    for (const p of o.properties || []) {
      if (p.id && p.id.startsWith('custom.')) f.custom[p.id.slice(7)] = p.value;
      else if (p.id) f[p.id] = p.value;
    }
  }
  return f;
}

/** Series colour from a field config colour ({mode: 'fixed', fixedColor}) if fixed. */
export function fixedColor(field) {
  const c = field.color;
  if (!c) return null;
  if (c.mode === 'fixed' || c.mode === 'shades') return c.fixedColor || null;
  if (c.mode === 'single' || c.fixedColor) return c.fixedColor || null;
  return null;
}

/**
 * Expands repeated panels (`repeat: "<var>"`) for the variable's current values: clones side
 * by side (`repeatDirection: "h"`, up to `maxPerRow`, default 4) or stacked ("v"), each with
 * the variable fixed to one value (`scopedVar`); panels below move down to make room.
 */
export function expandRepeats(panels, vars, ALL) {
  const out = [];
  let shift = 0;
  const sorted = [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  for (const p of sorted) {
    const g = { ...p.gridPos, y: p.gridPos.y + shift };
    const v = p.repeat ? vars.find((x) => x.name === p.repeat) : null;
    if (!v) {
      out.push({ ...p, gridPos: g });
      continue;
    }
    let values = [].concat(v.current?.value ?? []);
    if (values.includes(ALL)) values = (v.options || []).map((o) => o.value).filter((x) => x !== ALL);
    if (!values.length) values = [''];
    let extra = 0;
    if (p.repeatDirection === 'v') {
      values.forEach((val, i) => out.push({ ...p, id: i ? `${p.id}-${i}` : p.id, scopedVar: { name: v.name, value: val }, gridPos: { ...g, y: g.y + i * g.h } }));
      extra = (values.length - 1) * g.h;
    } else {
      const perRow = Math.max(1, Math.min(Number(p.maxPerRow) || 4, values.length));
      const w = Math.max(1, Math.floor(24 / perRow));
      values.forEach((val, i) =>
        out.push({ ...p, id: i ? `${p.id}-${i}` : p.id, scopedVar: { name: v.name, value: val }, gridPos: { x: (i % perRow) * w, y: g.y + Math.floor(i / perRow) * g.h, w, h: g.h } }),
      );
      extra = (Math.ceil(values.length / perRow) - 1) * g.h;
    }
    shift += extra;
  }
  return out;
}
