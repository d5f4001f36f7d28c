// One dashboard panel: its frame (title, description, spinner, menu), its data states for the
// tests (data-state loading|ready|nodata|error, data-series, data-points), the query run on
// each refresh (aborting the previous one), and the menu's view / explore / inspect actions.
import { h, safeUrl } from './util.js';
import { rendererFor } from './panels.js';
import { runPanel } from './query.js';
import { interpolate } from './vars.js';
import { isoDateTime } from './units.js';
import { parseDuration } from './time.js';

let openMenu = null;
function closeMenu() {
  if (openMenu) openMenu.remove();
  openMenu = null;
}
document.addEventListener('click', (e) => {
  if (openMenu && !openMenu.contains(e.target)) closeMenu();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && openMenu) {
    // Marked as handled: Escape then does not also leave a panel's full view.
    e.preventDefault();
    closeMenu();
  }
});

function dataTable(head, rows) {
  const thead = h('thead', null, h('tr', null, head.map((x) => h('th', null, x))));
  const body = h('tbody', null, rows.map((r) => h('tr', null, r.map((x, i) => h('td', { class: i ? 'num' : null }, x)))));
  return h('table', { class: 'dash-table' }, thead, body);
}

/**
 * env: {vars(), range() → {from, to} ms, limit, syncKey, onZoom, onReset, onView(panel),
 * onExplore(expr), fullscreen}
 */
/** The panel's own range: `timeFrom` (last X of the dashboard's end) and `timeShift`. */
function panelRange(panel, r) {
  let { from, to } = r;
  const tf = parseDuration(String(panel.timeFrom || '').replace(/^now-/, ''));
  if (tf) from = to - tf;
  const ts = parseDuration(String(panel.timeShift || '').replace(/^now-/, ''));
  if (ts) {
    from -= ts;
    to -= ts;
  }
  return { from, to };
}

export function createPanel(panel, dashEnv) {
  const env = panel.timeFrom || panel.timeShift ? { ...dashEnv, range: () => panelRange(panel, dashEnv.range()) } : dashEnv;
  const renderer = rendererFor(panel.type);
  const timeNote = [panel.timeFrom ? `Last ${String(panel.timeFrom).replace(/^now-/, '')}` : '', panel.timeShift ? `timeshift -${String(panel.timeShift).replace(/^now-/, '')}` : ''].filter(Boolean).join(' ');
  const title = interpolate(panel.title || '', env.vars(), {}, 'text');
  const body = h('div', { class: 'dash-panel-body' });
  const overlay = h('div', { class: 'dash-panel-overlay', hidden: true });
  const spinner = h('span', { class: 'dash-panel-spinner', hidden: true, 'aria-label': 'loading' });
  const warn = h('span', { class: 'dash-panel-warn', hidden: true, tabindex: '0', role: 'img', 'aria-label': 'Some queries failed' }, '⚠');
  const menuBtn = h('button', { type: 'button', class: 'dash-panel-menu-btn', 'aria-label': `Menu of ${title || 'panel'}`, title: 'Panel menu' }, '⋮');
  const header = h(
    'header',
    { class: 'dash-panel-header' },
    h('h3', { class: 'dash-panel-title', title }, title || '\u00a0'),
    panel.description ? h('span', { class: 'dash-panel-info', title: panel.description, tabindex: '0' }, 'i') : null,
    timeNote ? h('span', { class: 'dash-panel-time' }, timeNote) : null,
    warn,
    spinner,
    menuBtn,
  );
  const el = h(
    'section',
    {
      class: 'dash-panel',
      'data-panel': '',
      'data-panel-id': panel.id,
      'data-panel-type': panel.type,
      'data-panel-title': panel.title || '',
      'data-state': renderer.mode ? 'loading' : 'ready',
      'aria-label': title,
    },
    header,
    body,
    overlay,
  );
  if (panel.transparent) el.classList.add('dash-panel-transparent');
  const g = panel.gridPos;
  if (g && !env.fullscreen) {
    el.style.gridColumn = `${g.x + 1} / span ${g.w}`;
    el.style.gridRow = `${g.y + 1} / span ${g.h}`;
  }
  let view = null;
  try {
    view = renderer.create(body, panel, env);
  } catch (e) {
    overlay.hidden = false;
    overlay.textContent = `Panel failed: ${e.message}`;
    el.dataset.state = 'error';
  }
  if (!renderer.mode) {
    el.dataset.series = '0';
    el.dataset.points = '0';
  }
  let ctrl = null;
  let last = null;

  function state(s, msg) {
    el.dataset.state = s;
    spinner.hidden = s !== 'loading';
    if (s === 'error' || s === 'nodata') {
      overlay.hidden = false;
      overlay.className = `dash-panel-overlay dash-panel-${s}`;
      overlay.replaceChildren(s === 'nodata' ? 'No data' : h('div', null, h('strong', null, 'Query error'), h('pre', null, msg)));
    } else if (s === 'ready') overlay.hidden = true;
  }

  async function refresh() {
    if (!renderer.mode || !view) return;
    if (ctrl) ctrl.abort();
    const c = (ctrl = new AbortController());
    state('loading');
    try {
      const res = await runPanel(panel, {
        vars: env.vars(),
        range: env.range(),
        width: body.clientWidth || 600,
        signal: c.signal,
        limit: env.limit,
        mode: renderer.mode,
      });
      if (c.signal.aborted) return;
      last = res;
      const errs = res.errors || [];
      warn.hidden = !errs.length;
      warn.title = errs.join('\n');
      el.dataset.errors = String(errs.length);
      const r = view.update(res);
      el.dataset.series = String(r.series);
      el.dataset.points = String(r.points);
      state(r.points > 0 || r.series > 0 ? 'ready' : 'nodata');
    } catch (e) {
      if (e.name === 'AbortError' || c.signal.aborted) return;
      state('error', e.message);
    }
  }

  function inspect() {
    const res = last;
    const dlg = h('dialog', { class: 'dash-dialog inspect-dialog', 'aria-label': `Inspect ${title}` });
    const close = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Close');
    const content = h('div', { class: 'inspect-body' });
    let csv = '';
    if (!res) content.append(h('p', null, 'No data loaded yet.'));
    else {
      content.append(h('h4', null, 'Queries'), ...res.exprs.map((x) => h('pre', { class: 'inspect-expr' }, x)));
      if (res.series.length) {
        const cols = res.series.slice(0, 50);
        const head = ['Time', ...cols.map((s) => s.name)];
        const rows = [];
        for (let i = res.xs.length - 1; i >= 0 && rows.length < 1000; i--) {
          if (cols.every((s) => s.values[i] == null)) continue;
          rows.push([isoDateTime(res.xs[i] * 1000), ...cols.map((s) => (s.values[i] == null ? '' : String(s.values[i])))]);
        }
        csv = [head, ...rows].map((r) => r.map((x) => `"${String(x).replace(/"/g, '""')}"`).join(',')).join('\n');
        content.append(
          h('h4', null, `Data (${res.series.length} series${res.series.length > cols.length ? `, first ${cols.length} shown` : ''}, newest first)`),
          h('div', { class: 'inspect-table' }, dataTable(head, rows)),
        );
      } else if (res.rows.length) {
        csv = ['name,value,time', ...res.rows.map((r) => `"${r.name.replace(/"/g, '""')}",${r.value},${isoDateTime(r.time)}`)].join('\n');
        content.append(h('table', { class: 'dash-table' }, h('thead', null, h('tr', null, h('th', null, 'Series'), h('th', null, 'Value'))), h('tbody', null, res.rows.map((r) => h('tr', null, h('td', null, r.name), h('td', { class: 'num' }, String(r.value)))))));
      } else content.append(h('p', null, 'No data.'));
    }
    const dl = csv ? h('a', { class: 'btn', download: `${(panel.title || 'panel').replace(/[^\w-]+/g, '_')}.csv`, href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })) }, 'Download CSV') : null;
    dlg.append(h('header', { class: 'dash-dialog-head' }, h('h3', null, `Inspect: ${title}`), dl, close), content);
    dlg.addEventListener('close', () => {
      if (dl) URL.revokeObjectURL(dl.href);
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
  }

  menuBtn.addEventListener('click', (e) => {
    e.stopPropagation();
    if (openMenu) {
      const mine = openMenu.dataset.for === String(panel.id);
      closeMenu();
      if (mine) return;
    }
    const exprs = last ? last.exprs : panel.targets.filter((t) => !t.hide).map((t) => interpolate(t.expr, env.vars()));
    const item = (label, fn, key) => h('button', { type: 'button', role: 'menuitem', 'data-action': key, onclick: () => (closeMenu(), fn()) }, label);
    const menu = h(
      'div',
      { class: 'dash-panel-menu', role: 'menu', 'data-for': String(panel.id) },
      item(env.fullscreen ? 'Back to dashboard' : 'View', () => env.onView(env.fullscreen ? null : panel), 'view'),
      exprs.length ? item('Explore', () => env.onExplore(exprs[0]), 'explore') : null,
      renderer.mode ? item('Inspect data', inspect, 'inspect') : null,
      ...(Array.isArray(panel.links) ? panel.links : []).map((l) => {
        const href = safeUrl(interpolate(l.url || '', env.vars(), {}, 'raw'));
        return href ? h('a', { href, role: 'menuitem', class: 'dash-panel-link', target: l.targetBlank ? '_blank' : null, rel: /^https?:/i.test(href) ? 'noopener noreferrer' : null }, l.title || href) : null;
      }),
    );
    header.append(menu);
    openMenu = menu;
    const first = menu.querySelector('button');
    if (first) first.focus();
  });

  return {
    el,
    panel,
    refresh,
    redraw() {
      if (view && view.redraw) view.redraw();
    },
    destroy() {
      if (ctrl) ctrl.abort();
      if (view) view.destroy();
      el.remove();
    },
  };
}
