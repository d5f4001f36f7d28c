// One Grafana dashboard (`d/<uid>/<slug>`): the toolbar (variables, time range, refresh),
// rows and panels on the 24-column grid, drag-to-zoom, a panel in full view (`viewPanel`),
// and auto-refresh paused while the tab is hidden. All state lives in the URL like Grafana's
// (`from`, `to`, `refresh`, `var-<name>`, `viewPanel`).
import { fetchJSON, h, limiter, safeUrl, setUrlQuery } from '../dash/util.js';
import { expandRepeats, normalize } from '../dash/model.js';
import { createPanel } from '../dash/panel.js';
import { formatDuration, parseDuration, parseTime } from '../dash/time.js';
import { ALL, resolveVariables, referencedNames, interpolate } from '../dash/vars.js';
import { refreshPicker, timePicker, variablePicker } from '../dash/picker.js';
import { loadAnnotations, promAnnotations } from '../dash/annotations.js';

let syncSeq = 0;

/** Fetches a dashboard by uid (Grafana's `{dashboard, meta}`). */
export async function loadDashboard(uid) {
  return fetchJSON(`api/dashboards/uid/${encodeURIComponent(uid)}`);
}

/**
 * Renders a dashboard (Grafana JSON, bare or as `{dashboard, meta}`) into root, its state
 * from and to the route's query. Returns the cleanup function of the view.
 */
export async function renderDashboard(root, json, { route, ctx }) {
  const model = normalize(json);
  const q = route.query;
  const st = {
    from: q.get('from') || model.time.from,
    to: q.get('to') || model.time.to,
    refresh: q.has('refresh') ? (q.get('refresh') === 'off' ? '' : q.get('refresh')) : model.refresh,
    viewPanel: q.get('viewPanel') || '',
    vars: [],
    zoomStack: [],
    annotations: [],
  };
  const urlVars = new Map();
  for (const [k, v] of q) if (k.startsWith('var-')) urlVars.set(k.slice(4), [...(urlVars.get(k.slice(4)) || []), v]);

  const limit = limiter(6);
  const syncKey = `dash-${++syncSeq}`;
  let panels = [];
  let timer = 0;
  let pending = false;
  let disposed = false;
  let varCtrl = null;

  const range = () => {
    const now = Date.now();
    let from = parseTime(st.from, false, now);
    let to = parseTime(st.to, true, now);
    if (Number.isNaN(from)) from = now - 3600000;
    if (Number.isNaN(to)) to = now;
    if (from >= to) from = to - 60000;
    return { from, to };
  };

  function writeUrl(replace = true) {
    const p = new URLSearchParams();
    for (const [k, v] of route.query) if (!['from', 'to', 'refresh', 'viewPanel'].includes(k) && !k.startsWith('var-')) p.append(k, v);
    p.set('from', st.from);
    p.set('to', st.to);
    // "off" keeps a dashboard's own refresh from coming back on reload.
    if (st.refresh) p.set('refresh', st.refresh);
    else if (model.refresh) p.set('refresh', 'off');
    for (const v of st.vars) {
      if (v.type === 'constant' || v.hide === 2 && v.type !== 'textbox') continue;
      const val = v.current?.value;
      for (const x of Array.isArray(val) ? val : [val]) p.append(`var-${v.name}`, x === '$__all' ? 'All' : x ?? '');
    }
    if (st.viewPanel) p.set('viewPanel', st.viewPanel);
    setUrlQuery(ctx, p, { replace });
  }

  // Toolbar.
  const title = h('h1', { class: 'dash-title' }, model.title);
  const badges = h('span', { class: 'dash-badges' }, model.readOnly ? h('span', { class: 'badge', title: 'Provided by a plugin or provisioned; read-only' }, 'read-only') : null, model.tags.map((t) => h('span', { class: 'badge dash-tag' }, t)));
  const tp = timePicker({ getRange: () => st, onChange: (f, t) => setTime(f, t, true) });
  const zoomOut = h('button', { type: 'button', class: 'btn', 'data-action': 'zoom-out', title: 'Zoom out (time range ×2)', onclick: () => doZoomOut() }, '⊖');
  const rp = refreshPicker({
    getRefresh: () => st.refresh,
    onRefresh: () => refreshAll(),
    onChange: (r) => {
      st.refresh = r;
      writeUrl(true);
      schedule();
    },
  });
  // Dashboard links: plain links (variables filled in) and "dashboards" links to the list.
  const links = h('span', { class: 'dash-links' });
  const linkItems = () =>
    model.links.map((l) => {
      if (l.type === 'dashboards') return h('a', { href: `dashboards${l.tags && l.tags.length ? `?query=${encodeURIComponent(l.tags[0])}` : ''}`, class: 'dash-link' }, l.title || 'Dashboards');
      const href = safeUrl(interpolate(l.url || '', st.vars, {}, 'raw'));
      if (!href) return null;
      const external = /^https?:/i.test(href);
      return h('a', { href, class: 'dash-link', target: l.targetBlank || external ? '_blank' : null, rel: external ? 'noopener noreferrer' : null, title: l.tooltip || null }, l.title || href);
    });
  const varsBar = h('div', { class: 'dash-vars' });
  const toolbar = h('div', { class: 'dash-toolbar' }, h('div', { class: 'dash-heading' }, h('a', { href: 'dashboards', class: 'dash-back', title: 'All dashboards' }, 'Dashboards'), ' / ', title, badges, links), h('div', { class: 'dash-controls' }, tp.el, zoomOut, rp.el));
  const bodyEl = h('div', { class: 'dash-body' });
  root.replaceChildren(h('div', { class: 'dashboard', 'data-dashboard-uid': model.uid }, toolbar, varsBar, bodyEl));

  function setTime(from, to, push) {
    st.from = from;
    st.to = to;
    tp.update();
    writeUrl(!push);
    // Query variables with refresh "on time range change" (2) re-run first, keeping their values.
    if (model.variables.some((v) => v.type === 'query' && Number(v.refresh) === 2)) {
      const keep = new Map(st.vars.map((v) => [v.name, [].concat(v.current?.value ?? [])]));
      resolveVariables(model.variables, { range: range(), urlVars: keep })
        .then((vs) => {
          if (disposed) return;
          st.vars = vs;
          buildVars();
          refreshAll();
        })
        .catch(() => refreshAll());
      return;
    }
    refreshAll();
  }

  function doZoomOut() {
    const r = range();
    const span = r.to - r.from;
    const rel = /^now-(.+)$/.exec(st.from);
    if (st.to === 'now' && rel && parseDuration(rel[1])) {
      setTime(`now-${formatDuration(span * 2)}`, 'now', true);
      return;
    }
    const now = Date.now();
    let to = Math.min(now, r.to + span / 2);
    const from = to - span * 2;
    setTime(String(Math.round(from)), to >= now - 1000 ? 'now' : String(Math.round(to)), true);
  }

  const envBase = {
    vars: () => st.vars,
    annotations: () => st.annotations,
    range,
    limit,
    utc: model.timezone === 'utc',
    // Grafana shares the crosshair only with graphTooltip > 0; here every dashboard shares it.
    syncKey,
    onZoom: (a, b) => {
      st.zoomStack.push([st.from, st.to]);
      setTime(String(a), String(b), true);
    },
    onReset: () => {
      const prev = st.zoomStack.pop();
      if (prev) setTime(prev[0], prev[1], true);
      else if (st.from !== model.time.from || st.to !== model.time.to) setTime(model.time.from, model.time.to, true);
    },
    onView: (p) => {
      st.viewPanel = p ? String(p.id) : '';
      writeUrl(false);
      buildBody();
      refreshAll();
    },
    onExplore: (expr) => {
      const r = range();
      const p = new URLSearchParams({ expr, range: formatDuration(r.to - r.from) });
      if (st.to !== 'now') p.set('end', String(Math.round(r.to / 1000)));
      ctx.navigate(`explore?${p}`);
    },
  };

  /** A repeated panel sees its variable fixed to its own value. */
  function envFor(p) {
    if (!p.scopedVar) return envBase;
    const { name, value } = p.scopedVar;
    return {
      ...envBase,
      vars: () => st.vars.map((v) => (v.name === name ? { ...v, multi: false, includeAll: false, current: { value, text: v.options?.find((o) => o.value === value)?.text ?? value } } : v)),
    };
  }

  function buildVars() {
    links.replaceChildren(...linkItems().filter(Boolean));
    varsBar.replaceChildren(
      ...st.vars
        .filter((v) => v.hide !== 2)
        .map((v) =>
          variablePicker(v, (value) => {
            v.current = { value, text: value };
            onVarChange(v.name);
          }),
        ),
    );
    varsBar.hidden = !varsBar.children.length;
  }

  async function onVarChange(name) {
    // Re-resolve the variables that use the changed one (and keep the others), then redraw.
    if (varCtrl) varCtrl.abort();
    const c = (varCtrl = new AbortController());
    const changed = new Set([name]);
    const defs = model.variables.map((d) => {
      const cur = st.vars.find((x) => x.name === d.name);
      const refs = referencedNames(typeof d.query === 'string' ? d.query : d.query?.query || d.definition || '');
      if ([...refs].some((r) => changed.has(r))) changed.add(d.name);
      return { ...d, current: cur ? cur.current : d.current };
    });
    const url = new Map(st.vars.filter((v) => !changed.has(v.name) || v.name === name).map((v) => [v.name, [].concat(v.current?.value ?? [])]));
    try {
      st.vars = await resolveVariables(defs, { range: range(), urlVars: url, signal: c.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
    }
    if (disposed) return;
    buildVars();
    writeUrl(false);
    buildBody();
    refreshAll();
  }

  /**
   * Rows with `repeat` become one section per value of their variable; their panels see the
   * variable fixed to that value (panels repeated inside them are not repeated again).
   */
  function repeatedSections() {
    const out = [];
    for (const sec of model.sections) {
      const v = sec.row && sec.row.repeat ? st.vars.find((x) => x.name === sec.row.repeat) : null;
      if (!v) {
        out.push(sec);
        continue;
      }
      let values = [].concat(v.current?.value ?? []);
      if (values.includes(ALL)) values = (v.options || []).map((o) => o.value).filter((x) => x !== ALL);
      values.forEach((value, i) => {
        const scopedVar = { name: v.name, value };
        out.push({
          row: i ? { ...sec.row, id: `${sec.row.id}-${i}` } : sec.row,
          scopedVar,
          panels: sec.panels.map((p) => ({ ...p, id: i ? `${p.id}-r${i}` : p.id, repeat: '', scopedVar })),
        });
      });
    }
    return out;
  }

  function buildBody() {
    for (const p of panels) p.destroy();
    panels = [];
    bodyEl.replaceChildren();
    if (st.viewPanel) {
      const p = model.sections.flatMap((sec) => expandRepeats(sec.panels, st.vars, ALL)).find((x) => String(x.id) === st.viewPanel);
      if (p) {
        const ctl = createPanel(p, { ...envFor(p), fullscreen: true });
        ctl.el.classList.add('dash-panel-fullscreen');
        panels.push(ctl);
        bodyEl.append(h('div', { class: 'dash-fullscreen' }, ctl.el));
        return;
      }
      st.viewPanel = '';
    }
    for (const sec of repeatedSections()) {
      const grid = h('div', { class: 'dash-grid' });
      const mount = () => {
        const made = expandRepeats(sec.panels, st.vars, ALL).map((p) => createPanel(p, envFor(p)));
        for (const m of made) grid.append(m.el);
        panels.push(...made);
        return made;
      };
      if (sec.row) {
        const rowTitle = interpolate(sec.row.title, sec.scopedVar ? envFor(sec).vars() : st.vars, {}, 'text');
        let collapsed = sec.row.collapsed;
        let made = collapsed ? [] : mount();
        const btn = h('button', { type: 'button', class: 'dash-row-toggle', 'aria-expanded': String(!collapsed) }, h('span', { class: 'dash-row-caret' }, collapsed ? '▸' : '▾'), ` ${rowTitle}`, h('span', { class: 'dash-row-count' }, collapsed ? ` (${sec.panels.length} panels)` : ''));
        btn.addEventListener('click', () => {
          collapsed = !collapsed;
          sec.row.collapsed = collapsed;
          btn.setAttribute('aria-expanded', String(!collapsed));
          btn.querySelector('.dash-row-caret').textContent = collapsed ? '▸' : '▾';
          btn.querySelector('.dash-row-count').textContent = collapsed ? ` (${sec.panels.length} panels)` : '';
          grid.hidden = collapsed;
          if (collapsed) {
            for (const m of made) m.destroy();
            panels = panels.filter((p) => !made.includes(p));
            made = [];
          } else {
            made = mount();
            for (const m of made) m.refresh();
          }
        });
        bodyEl.append(h('div', { class: 'dash-row', 'data-row': sec.row.title }, btn));
        grid.hidden = collapsed;
      } else mount();
      bodyEl.append(grid);
    }
    if (!model.panels.length) bodyEl.append(h('p', { class: 'dash-empty' }, 'This dashboard has no panels.'));
  }

  const annotationDefs = promAnnotations(model.raw);
  let annCtrl = null;
  async function refreshAnnotations() {
    if (!annotationDefs.length) return;
    if (annCtrl) annCtrl.abort();
    const c = (annCtrl = new AbortController());
    try {
      const list = await loadAnnotations(annotationDefs, { vars: st.vars, range: range(), signal: c.signal });
      if (c.signal.aborted || disposed) return;
      st.annotations = list;
      for (const p of panels) p.redraw();
    } catch {
      // Annotations are decoration: a failure leaves the panels as they are.
    }
  }

  function refreshAll() {
    return Promise.allSettled([...panels.map((p) => p.refresh()), refreshAnnotations()]);
  }

  function schedule() {
    clearInterval(timer);
    const ms = parseDuration(st.refresh);
    if (!ms) return;
    timer = setInterval(() => {
      if (document.hidden) {
        pending = true;
        return;
      }
      refreshAll();
    }, Math.max(1000, ms));
  }
  const onVisible = () => {
    if (!document.hidden && pending) {
      pending = false;
      refreshAll();
    }
  };
  document.addEventListener('visibilitychange', onVisible);
  // Escape leaves a panel's full view (when no menu, popover or dialog has it).
  const onKey = (e) => {
    if (e.key !== 'Escape' || !st.viewPanel || e.defaultPrevented) return;
    if (document.querySelector('.dash-popover, .dash-panel-menu, dialog[open]')) return;
    envBase.onView(null);
  };
  document.addEventListener('keydown', onKey);

  try {
    st.vars = await resolveVariables(model.variables, { range: range(), urlVars, signal: undefined });
  } catch {
    st.vars = [];
  }
  buildVars();
  buildBody();
  // The initial URL keeps what the user gave; it only gains the resolved defaults.
  writeUrl(true);
  schedule();
  await refreshAll();

  return () => {
    disposed = true;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
    document.removeEventListener('keydown', onKey);
    if (varCtrl) varCtrl.abort();
    if (annCtrl) annCtrl.abort();
    for (const p of panels) p.destroy();
    panels = [];
  };
}

export default {
  title: 'Dashboard',
  async render(root, route, ctx) {
    const uid = route.segments[1] || '';
    root.replaceChildren(h('p', { class: 'dash-loading' }, 'Loading dashboard…'));
    let json;
    try {
      json = await loadDashboard(uid);
    } catch (e) {
      if (e.status === 404) {
        root.replaceChildren(h('div', { class: 'dash-missing' }, h('h1', null, 'Dashboard not found'), h('p', null, `No dashboard with uid "${uid}". `, h('a', { href: 'dashboards' }, 'All dashboards'))));
        return undefined;
      }
      throw e;
    }
    const title = json?.dashboard?.title;
    if (title) document.title = `${title} · Sightline`;
    return renderDashboard(root, json, { route, ctx });
  },
};
