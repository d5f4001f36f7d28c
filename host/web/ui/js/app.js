// The single-page app shell: router (pushState, relative links under <base href>), nav bar with
// live problem counts, theme toggle, keyboard shortcuts, the "starting" banner, and the view
// lifecycle: each route gets a fresh <main id="view" data-view data-state>, the view module
// renders into it and returns a cleanup function that runs when the route changes.

import * as api from './lib/api.js';
import { h, replace, poll } from './lib/dom.js';
import { alertKey } from './lib/alerting.js';

const THEME_KEY = 'sightline.theme';

// Nav entries in display order; `view` is the module name under ./views/.
const NAV = [
  { path: '', label: 'Home', view: 'home' },
  { path: 'dashboards', label: 'Dashboards', view: 'dashboards' },
  { path: 'explore', label: 'Explore', view: 'explore' },
  { path: 'alerts', label: 'Alerts', view: 'alerts', group: 'alerting' },
  { path: 'silences', label: 'Silences', view: 'silences', group: 'alerting' },
  { path: 'notifications', label: 'Notifications', view: 'notifications', group: 'alerting' },
  { path: 'routing', label: 'Routing', view: 'routing', group: 'alerting' },
  { path: 'rules', label: 'Rules', view: 'rules', group: 'alerting' },
  { path: 'slos', label: 'SLOs', view: 'slos', group: 'alerting' },
  { path: 'targets', label: 'Targets', view: 'targets', group: 'system' },
  { path: 'plugins', label: 'Plugins', view: 'plugins', group: 'system' },
  { path: 'status', label: 'Status', view: 'status', group: 'system' },
];
const VIEWS = new Set([...NAV.map((n) => n.view), 'dashboard']);

// Lazily imported view modules; a literal per name keeps the module graph static for tooling.
const LOADERS = {
  home: () => import('./views/home.js'),
  dashboards: () => import('./views/dashboards.js'),
  dashboard: () => import('./views/dashboard.js'),
  explore: () => import('./views/explore.js'),
  alerts: () => import('./views/alerts.js'),
  silences: () => import('./views/silences.js'),
  notifications: () => import('./views/notifications.js'),
  routing: () => import('./views/routing.js'),
  rules: () => import('./views/rules.js'),
  slos: () => import('./views/slos.js'),
  targets: () => import('./views/targets.js'),
  plugins: () => import('./views/plugins.js'),
  status: () => import('./views/status.js'),
};

/** The path of the <base href> (the route prefix), always ending in '/'. */
const basePath = (() => {
  const p = new URL(document.baseURI).pathname;
  return p.endsWith('/') ? p : p + '/';
})();

// ---- theme ----------------------------------------------------------------------------------

const media = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
function storedTheme() {
  try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
}
function applyTheme() {
  const t = storedTheme();
  const theme = t === 'light' || t === 'dark' ? t : (media && media.matches ? 'dark' : 'light');
  document.documentElement.dataset.theme = theme;
  const btn = document.getElementById('theme-toggle');
  if (btn) {
    btn.textContent = theme === 'dark' ? '☾' : '☀';
    btn.title = `Theme: ${t || 'auto'} (${theme}). Click to switch.`;
  }
  window.dispatchEvent(new CustomEvent('sightline:theme', { detail: theme }));
}
/**
 * Every click changes what is shown: to the other theme, remembered; when that other theme is
 * the system's own, back to following the system (nothing stored).
 */
function toggleTheme() {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  const system = media && media.matches ? 'dark' : 'light';
  try {
    if (storedTheme() && next === system) localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, next);
  } catch (e) { /* private mode: the choice lasts for this page only */ document.documentElement.dataset.theme = next; return; }
  applyTheme();
}
if (media && media.addEventListener) media.addEventListener('change', applyTheme);
applyTheme();

// ---- routing --------------------------------------------------------------------------------

/** The current route: {path, segments, query} relative to the base href. */
function currentRoute() {
  let p = location.pathname;
  p = p.startsWith(basePath) ? p.slice(basePath.length) : p.replace(/^\//, '');
  p = p.replace(/\/+$/, '');
  let segments = p.split('/').filter(Boolean).map((s) => { try { return decodeURIComponent(s); } catch (e) { return s; } });
  return { path: p, segments, query: new URLSearchParams(location.search) };
}

function viewName(route) {
  const first = route.segments[0] || '';
  if (first === '') return 'home';
  if (first === 'd') return route.segments[1] ? 'dashboard' : 'notfound';
  if (first === 'home' || first === 'd' || first === 'dashboard') return 'notfound';
  return VIEWS.has(first) && route.segments.length === 1 ? first : 'notfound';
}

function navigate(path, { replace: rep = false } = {}) {
  const u = new URL(path, document.baseURI);
  if (u.origin !== location.origin) { location.href = u.href; return; }
  if (rep) history.replaceState(null, '', u.pathname + u.search + u.hash);
  else history.pushState(null, '', u.pathname + u.search + u.hash);
  mount();
}

/**
 * Updates the query string without re-rendering: keys with null/undefined/'' are removed,
 * others set. Accepts an object or URLSearchParams (which replaces the whole query).
 */
function setQuery(params, { replace: rep = true } = {}) {
  let q;
  if (params instanceof URLSearchParams) q = new URLSearchParams(params);
  else {
    q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) q.delete(k);
      else if (Array.isArray(v)) { q.delete(k); v.forEach((x) => q.append(k, x)); }
      else q.set(k, String(v));
    }
  }
  const s = q.toString();
  const u = location.pathname + (s ? '?' + s : '') + location.hash;
  if (u === location.pathname + location.search + location.hash) return;
  if (rep) history.replaceState(null, '', u);
  else history.pushState(null, '', u);
}

// Same-origin clicks on links under the base path become pushState navigations.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
  const u = new URL(a.href, document.baseURI);
  if (u.origin !== location.origin || !u.pathname.startsWith(basePath)) return;
  const rest = u.pathname.slice(basePath.length);
  if (/^(api|metrics|federate|-)(\/|$)/.test(rest)) return;
  if (u.pathname === location.pathname && u.search === location.search && u.hash) return;
  ev.preventDefault();
  navigate(u.pathname + u.search + u.hash);
});
window.addEventListener('popstate', () => mount());

// ---- shell ----------------------------------------------------------------------------------

const navLinks = new Map();
const counts = { alerts: null, targets: null };

function buildShell() {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
  let group = null;
  for (const n of NAV) {
    if (n.group !== group) {
      if (group !== null || n.group) nav.appendChild(h('span', { class: 'nav-sep', 'aria-hidden': 'true' }));
      group = n.group;
    }
    const count = h('span', { class: 'nav-count', hidden: true });
    const a = h('a', { href: n.path || './', class: 'nav-link', dataset: { nav: n.view } }, n.label, count);
    navLinks.set(n.view, { a, count });
    nav.appendChild(a);
  }
  const problems = h('a', { href: './', class: 'problems', id: 'problems', title: 'Problems right now (firing alerts, down targets)' }, '…');
  const help = h('button', { type: 'button', class: 'icon-btn', title: 'Keyboard shortcuts (?)', 'aria-label': 'Keyboard shortcuts', onclick: showHelp }, '?');
  const theme = h('button', { type: 'button', id: 'theme-toggle', class: 'icon-btn', onclick: toggleTheme, 'aria-label': 'Toggle light/dark theme' });
  const top = h('div', { class: 'topbar' },
    h('a', { href: './', class: 'brand', title: 'Sightline home (g h)' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Sightline'),
    nav,
    h('div', { class: 'top-right' }, problems, help, theme));
  const banner = h('div', { id: 'banner', class: 'banner', hidden: true, role: 'status' });
  const toast = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
  const main = h('main', { id: 'view', 'data-view': '', 'data-state': 'loading', tabindex: '-1' });
  replace(document.body, h('div', { class: 'shell' }, top, banner, main), toast);
  applyTheme();
}

function setNavActive(view) {
  const active = view === 'dashboard' ? 'dashboards' : view;
  for (const [name, { a }] of navLinks) {
    if (name === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function setCount(view, n, kind) {
  const e = navLinks.get(view);
  if (!e) return;
  e.count.hidden = !n;
  e.count.textContent = n ? String(n) : '';
  e.count.className = `nav-count nav-count-${kind}`;
}

/** Polls the cheap problem indicators for the nav bar: firing alerts and down targets. */
async function refreshProblems() {
  const feats = await api.features().catch(() => ({ alertmanager: false }));
  const [alerts, targets, am] = await Promise.allSettled([
    api.v1('api/v1/alerts'),
    api.v1('api/v1/targets', { state: 'active' }),
    // The same query as the home page's, so the two share one request while it loads.
    feats.alertmanager ? api.get('api/v2/alerts', { active: 'true', silenced: 'true', inhibited: 'true' }) : Promise.resolve([]),
  ]);
  const el = document.getElementById('problems');
  // Firing alerts the alert manager silences or inhibits are not counted as problems.
  const muted = new Set(am.status === 'fulfilled' && Array.isArray(am.value) ? am.value.filter((a) => a.status && a.status.state === 'suppressed').map((a) => alertKey(a.labels)) : []);
  if (alerts.status === 'fulfilled') counts.alerts = ((alerts.value && alerts.value.alerts) || []).filter((a) => a.state === 'firing' && !muted.has(alertKey(a.labels))).length;
  if (targets.status === 'fulfilled') counts.targets = ((targets.value && targets.value.activeTargets) || []).filter((t) => t.health === 'down').length;
  setCount('alerts', counts.alerts, 'crit');
  setCount('targets', counts.targets, 'crit');
  if (!el) return;
  if (alerts.status === 'rejected' && targets.status === 'rejected') {
    el.textContent = alerts.reason && alerts.reason.starting ? 'starting…' : 'unreachable';
    el.className = 'problems problems-unknown';
    return;
  }
  const parts = [];
  if (counts.alerts) parts.push(`${counts.alerts} firing`);
  if (counts.targets) parts.push(`${counts.targets} down`);
  el.textContent = parts.length ? parts.join(' · ') : 'All good';
  el.className = 'problems ' + (parts.length ? 'problems-crit' : 'problems-ok');
}

// ---- banners and toasts ---------------------------------------------------------------------

function showBanner(kind, text) {
  const b = document.getElementById('banner');
  if (!b) return;
  if (!text) { b.hidden = true; replace(b); return; }
  b.className = `banner banner-${kind}`;
  replace(b, text);
  b.hidden = false;
}

api.onAvailability((starting) => {
  if (starting) showBanner('warn', 'Sightline is starting (replaying its write-ahead log). The API answers 503 until it is ready; retrying automatically…');
  else { showBanner(null, null); refreshProblems(); }
});

/** A transient message in the corner (errors from actions and uncaught failures). */
export function toast(kind, text, ms = 6000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'crit' ? 'alert' : 'status' }, text,
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  box.appendChild(t);
  setTimeout(() => t.remove(), ms);
}
window.addEventListener('unhandledrejection', (ev) => {
  toast('crit', 'Unexpected error: ' + ((ev.reason && ev.reason.message) || ev.reason));
});
window.addEventListener('error', (ev) => {
  if (ev.message) toast('crit', 'Unexpected error: ' + ev.message);
});

// ---- view lifecycle -------------------------------------------------------------------------

let cleanup = null;
let mountSeq = 0;
let retryTimer = null;

const notFoundView = {
  title: 'Not found',
  render(root, route) {
    root.appendChild(h('div', { class: 'empty big' },
      h('h1', null, 'Page not found'),
      h('p', { class: 'muted' }, `There is no page at “${route.path}”.`),
      h('p', null, h('a', { href: './' }, 'Go to the home page'), ' · ', h('a', { href: 'dashboards' }, 'Dashboards'), ' · ', h('a', { href: 'explore' }, 'Explore'))));
  },
};

async function mount() {
  const seq = ++mountSeq;
  clearTimeout(retryTimer);
  if (cleanup) {
    const c = cleanup;
    cleanup = null;
    try { c(); } catch (e) { toast('crit', 'Leaving the view failed: ' + e.message); }
  }
  const route = currentRoute();
  // Prometheus' own graph links (`graph?g0.expr=...`, as in alerts' generatorURL) go to Explore.
  if (route.segments[0] === 'graph' && route.segments.length === 1) {
    const q = new URLSearchParams();
    const expr = route.query.get('g0.expr');
    if (expr) q.set('expr', expr);
    const range = route.query.get('g0.range_input');
    if (range) q.set('range', range);
    const tab = route.query.get('g0.tab');
    if (tab) q.set('tab', tab === '1' ? 'table' : 'graph');
    const s = q.toString();
    navigate('explore' + (s ? '?' + s : ''), { replace: true });
    return;
  }
  const name = viewName(route);
  setNavActive(name);
  const old = document.getElementById('view');
  const root = h('main', { id: 'view', 'data-view': name, 'data-state': 'loading', tabindex: '-1' });
  old.replaceWith(root);
  const ctx = { navigate, setQuery, api, toast };
  let mod;
  try {
    mod = name === 'notfound' ? notFoundView : (await LOADERS[name]()).default;
  } catch (e) {
    if (seq !== mountSeq) return;
    root.dataset.state = 'error';
    replace(root, h('div', { class: 'empty big' }, h('h1', null, 'This view is not available in this build'),
      h('p', { class: 'muted' }, `Loading the “${name}” view failed: ${e.message}`)));
    return;
  }
  if (seq !== mountSeq) return;
  document.title = `${mod.title || name} · Sightline`;
  try {
    const c = await mod.render(root, route, ctx);
    if (seq !== mountSeq) { if (typeof c === 'function') c(); return; }
    cleanup = typeof c === 'function' ? c : null;
    root.dataset.state = 'ready';
  } catch (e) {
    if (seq !== mountSeq) return;
    if (e instanceof api.ApiError && e.starting) {
      // Keep "loading" and try again: the daemon answers once its WAL is replayed.
      replace(root, h('div', { class: 'empty' }, h('strong', null, 'Waiting for Sightline to finish starting…')));
      retryTimer = setTimeout(() => { if (seq === mountSeq) mount(); }, 2000);
      return;
    }
    root.dataset.state = 'error';
    replace(root, h('div', { class: 'error-box', role: 'alert' },
      h('h2', null, `Could not load ${mod.title || name}`),
      h('pre', { class: 'error-text' }, (e && e.message) || String(e)),
      h('button', { type: 'button', class: 'btn', onclick: () => mount() }, 'Retry')));
  }
}

// ---- keyboard -------------------------------------------------------------------------------

let pendingG = 0;
document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (ev.key === 'Escape' && typing) { t.blur(); return; }
  if (typing) return;
  if (ev.key === '/') {
    const box = document.querySelector('#view textarea[name=expr], #view [data-search], #view input[type=search]');
    if (box) { ev.preventDefault(); box.focus(); if (box.select) box.select(); }
    return;
  }
  if (ev.key === '?') { ev.preventDefault(); showHelp(); return; }
  if (ev.key === 'g') { pendingG = Date.now(); return; }
  if (pendingG && Date.now() - pendingG < 1500) {
    pendingG = 0;
    const dest = { h: './', a: 'alerts', t: 'targets', e: 'explore', d: 'dashboards', s: 'silences', r: 'rules' }[ev.key];
    if (dest) { ev.preventDefault(); navigate(dest); }
  }
});

const SHORTCUTS = [
  ['g h', 'Home'], ['g a', 'Alerts'], ['g t', 'Targets'], ['g e', 'Explore'], ['g d', 'Dashboards'],
  ['g s', 'Silences'], ['g r', 'Rules'], ['/', 'Focus the search or expression box'], ['Esc', 'Leave a text box'], ['?', 'This help'],
];
function showHelp() {
  let d = document.getElementById('help');
  if (!d) {
    d = h('dialog', { id: 'help', class: 'help', 'aria-label': 'Keyboard shortcuts' },
      h('h2', null, 'Keyboard shortcuts'),
      h('table', null, h('tbody', null, SHORTCUTS.map(([k, what]) => h('tr', null, h('td', null, k.split(' ').map((x) => h('kbd', null, x))), h('td', null, what))))),
      h('form', { method: 'dialog' }, h('button', { class: 'btn', type: 'submit' }, 'Close')));
    document.body.appendChild(d);
  }
  if (!d.open) d.showModal();
}

// ---- start ----------------------------------------------------------------------------------

buildShell();
mount();
poll(refreshProblems, 15000);
refreshProblems();
