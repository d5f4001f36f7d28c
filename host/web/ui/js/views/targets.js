// Targets: every active scrape target grouped by scrape pool, down ones first, with the last
// scrape, its duration and error. Filters (?health=, ?q=) live in the URL.

import { h, replace, poll, pageHeader, labelChips, badge, timeAgo, fmtDuration, empty, debounce, notice, th, cmp, parseTime } from '../lib/dom.js';

// Sort keys (?sort=<key>:<asc|desc>); the default puts down targets first.
const SORTS = {
  endpoint: (t) => t.scrapeUrl,
  health: (t) => rank(t),
  scrape: (t) => parseTime(t.lastScrape),
  duration: (t) => t.lastScrapeDuration,
  error: (t) => t.lastError || null,
};

const HEALTH_KIND = { up: 'ok', down: 'crit', unknown: 'muted' };

export default {
  title: 'Targets',
  async render(root, route, { api, setQuery }) {
    const state = { health: route.query.get('health') || 'all', q: route.query.get('q') || '', sort: route.query.get('sort') || '', data: null, err: null };
    const onSort = (s) => { state.sort = s; setQuery({ sort: s }); draw(); };
    const body = h('div');
    const status = h('span', { class: 'updated' });
    const search = h('input', { type: 'search', placeholder: 'Filter by endpoint, label or error  ( / )', 'data-search': '', value: state.q, style: 'min-width:320px' });
    const segs = ['all', 'up', 'down', 'unknown'].map((v) => h('button', { type: 'button', 'aria-pressed': String(state.health === v), onclick: () => {
      state.health = v;
      segs.forEach((b) => b.setAttribute('aria-pressed', String(b.textContent.toLowerCase().startsWith(v))));
      setQuery({ health: v === 'all' ? null : v });
      draw();
    } }, v[0].toUpperCase() + v.slice(1)));
    search.addEventListener('input', debounce(() => { state.q = search.value; setQuery({ q: state.q || null }); draw(); }, 150));
    root.append(pageHeader('Targets', 'Scrape targets by pool: health, last scrape, duration and error.', status),
      h('div', { class: 'toolbar' }, h('div', { class: 'seg', role: 'group', 'aria-label': 'Health' }, segs), search), body);

    function draw() {
      if (state.err && !state.data) { replace(body, notice('crit', state.err.message)); return; }
      const all = (state.data && state.data.activeTargets) || [];
      if (!all.length) { replace(body, empty('No scrape targets', 'The configuration has no scrape_configs with targets, or service discovery found none.')); return; }
      const q = state.q.toLowerCase();
      const match = (t) => (state.health === 'all' || t.health === state.health)
        && (!q || [t.scrapeUrl, t.lastError, t.scrapePool, ...Object.entries(t.labels).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase().includes(q));
      const pools = new Map();
      for (const t of all) {
        if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
        pools.get(t.scrapePool).push(t);
      }
      const order = [...pools.entries()].map(([name, ts]) => ({ name, ts, down: ts.filter((t) => t.health === 'down').length }))
        .sort((a, b) => (b.down > 0) - (a.down > 0) || a.name.localeCompare(b.name));
      const panels = [];
      for (const p of order) {
        const [sk, sd] = state.sort.split(':');
        const key = SORTS[sk];
        const shown = p.ts.filter(match).sort((a, b) => (key ? cmp(key(a), key(b)) * (sd === 'desc' ? -1 : 1) : 0) || rank(a) - rank(b) || a.scrapeUrl.localeCompare(b.scrapeUrl));
        if (!shown.length) continue;
        const up = p.ts.filter((t) => t.health === 'up').length;
        panels.push(h('section', { class: 'panel', 'data-pool': p.name },
          h('div', { class: 'panel-head' }, h('h2', null, p.name),
            badge(`${up}/${p.ts.length} up`, p.down ? 'crit' : up === p.ts.length ? 'ok' : 'muted')),
          h('div', { class: 'table-wrap' }, h('table', { class: 'fixed' },
            h('colgroup', null, ['26%', '7%', '21%', '10%', '8%', '28%'].map((w) => h('col', { style: { width: w } }))),
            h('thead', null, h('tr', null, th('Endpoint', 'endpoint', state.sort, onSort), th('State', 'health', state.sort, onSort), th('Labels'),
              th('Last scrape', 'scrape', state.sort, onSort), th('Duration', 'duration', state.sort, onSort, { class: 'num' }), th('Error', 'error', state.sort, onSort))),
            h('tbody', null, shown.map((t) => h('tr', { 'data-target': t.scrapeUrl, 'data-health': t.health },
              h('td', { class: 'mono' }, /^https?:\/\//.test(t.scrapeUrl)
                ? h('a', { href: t.scrapeUrl, target: '_blank', rel: 'noopener noreferrer', 'data-external': '' }, t.scrapeUrl) : t.scrapeUrl),
              h('td', null, badge(t.health, HEALTH_KIND[t.health] || 'muted')),
              h('td', null, labelChips(t.labels, ['job'])),
              h('td', { class: 'nowrap' }, timeAgo(t.lastScrape)),
              h('td', { class: 'num' }, t.lastScrape && !t.lastScrape.startsWith('0001') ? fmtDuration(t.lastScrapeDuration) : '–'),
              h('td', null, t.lastError ? h('span', { class: 'err-text' }, t.lastError) : h('span', { class: 'muted' }, '–')))))))));
      }
      replace(body, state.err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', state.err.message) : null,
        panels.length ? panels : empty('No target matches the filter'));
      const down = all.filter((t) => t.health === 'down').length;
      replace(status, `${all.length} targets · ${down} down · ${pools.size} pools`);
    }

    const load = async () => {
      try {
        state.data = await api.v1('api/v1/targets', { state: 'active' });
        state.err = null;
      } catch (e) {
        if (!state.data) throw e;
        state.err = e;
      }
      draw();
    };
    await load();
    return poll(load, 15000);
  },
};

function rank(t) {
  return t.health === 'down' ? 0 : t.health === 'unknown' ? 1 : 2;
}
