// Plugins: every WASM plugin with its state, kind, calls and errors, capabilities and last
// error; failed ones first.

import { h, replace, poll, pageHeader, badge, empty, fmtNum, fmtPct, timeAgo, debounce, th, cmp, errText } from '../lib/dom.js';

const SORTS = {
  name: (p) => p.name,
  state: (p) => p.state,
  kind: (p) => p.kind || null,
  calls: (p) => p.calls || 0,
  errors: (p) => p.errors || 0,
};

export default {
  title: 'Plugins',
  async render(root, route, { api, setQuery }) {
    const body = h('div');
    const status = h('span', { class: 'updated' });
    let data = null;
    let err = null;
    let notAvailable = false;
    let q = route.query.get('q') || '';
    let sort = route.query.get('sort') || '';
    const onSort = (s) => { sort = s; setQuery({ sort: s }); draw(); };
    const search = h('input', { type: 'search', placeholder: 'Filter by name, kind or error  ( / )', 'data-search': '', value: q, style: 'min-width:300px' });
    search.addEventListener('input', debounce(() => { q = search.value; setQuery({ q: q || null }); draw(); }, 150));
    root.append(pageHeader('Plugins', 'WASM components loaded from the plugins directory.', status), h('div', { class: 'toolbar' }, search), body);

    function draw() {
      if (notAvailable) { replace(body, empty('Plugins are not available in this build')); return; }
      const ps = Array.isArray(data) ? data : (data && data.plugins) || [];
      if (!ps.length) { replace(body, empty('No plugins installed', 'Put <name>.wasm (and optionally <name>.toml) in the plugins directory.')); return; }
      const failed = ps.filter((p) => p.state !== 'loaded').length;
      replace(status, `${ps.length} plugins · ${ps.length - failed} loaded · ${failed} failed`);
      const needle = q.toLowerCase();
      // Columns for fields this build's API may not report are shown only when some plugin has them.
      const capsOf = (p) => p.capabilities || p.caps || null;
      const contractOf = (p) => p.contract || p.world || p.version || null;
      const hasCaps = ps.some(capsOf);
      const hasContract = ps.some(contractOf);
      const [sk, sd] = sort.split(':');
      const key = SORTS[sk];
      const shown = ps.filter((p) => !needle || JSON.stringify(p).toLowerCase().includes(needle))
        .sort((a, b) => (key ? cmp(key(a), key(b)) * (sd === 'desc' ? -1 : 1) : 0) || (a.state === 'loaded') - (b.state === 'loaded') || (b.errors || 0) - (a.errors || 0) || a.name.localeCompare(b.name));
      replace(body, err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', err.message) : null,
        h('section', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', null,
          h('thead', null, h('tr', null, th('Plugin', 'name', sort, onSort), th('State', 'state', sort, onSort), th('Kind', 'kind', sort, onSort), hasContract ? h('th', null, 'Contract') : null,
            th('Calls', 'calls', sort, onSort, { class: 'num' }), th('Errors', 'errors', sort, onSort, { class: 'num' }), hasCaps ? h('th', null, 'Capabilities') : null, h('th', null, 'Loaded'), h('th', null, 'Last error'))),
          h('tbody', null, shown.map((p) => {
            const caps = capsOf(p);
            const capList = Array.isArray(caps) ? caps : caps && typeof caps === 'object'
              ? Object.entries(caps).filter(([, v]) => v && (!Array.isArray(v) || v.length)).map(([k, v]) => (v === true ? k : `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : v}`)) : [];
            const ratio = p.calls ? (p.errors || 0) / p.calls : 0;
            return h('tr', { 'data-plugin': p.name, 'data-state': p.state },
              h('td', null, h('b', null, p.name), p.sha256 ? h('div', { class: 'muted small mono', title: p.sha256 }, p.sha256.slice(0, 12)) : null),
              h('td', null, badge(p.state, p.state === 'loaded' ? (p.errors ? 'warn' : 'ok') : 'crit')),
              h('td', null, p.kind || h('span', { class: 'muted' }, '–')),
              hasContract ? h('td', { class: 'mono small' }, contractOf(p) || h('span', { class: 'muted' }, '–')) : null,
              h('td', { class: 'num' }, fmtNum(p.calls || 0)),
              h('td', { class: 'num' }, p.errors ? h('span', { class: 'err-text' }, `${fmtNum(p.errors)} (${fmtPct(ratio, 1)})`) : '0'),
              hasCaps ? h('td', null, capList.length ? h('span', { class: 'labels' }, capList.map((c) => h('span', { class: 'label' }, c))) : h('span', { class: 'muted' }, '–')) : null,
              h('td', { class: 'nowrap' }, p.loaded_at ? timeAgo(p.loaded_at) : h('span', { class: 'muted' }, '–')),
              h('td', { style: 'max-width:480px' }, p.last_error ? errText(p.last_error) : h('span', { class: 'muted' }, '–')));
          }))))));
    }

    const load = async () => {
      try {
        data = await api.v1('api/v1/plugins');
        err = null;
      } catch (e) {
        if (e.notFound) notAvailable = true;
        else if (!data) throw e;
        else err = e;
      }
      draw();
    };
    await load();
    return poll(load, 15000);
  },
};
