// Rules: every rule group with each rule's health, last error, evaluation time and last
// evaluation; failing groups and rules first. Filters (?health=, ?type=, ?q=) live in the URL.

import { h, replace, poll, pageHeader, badge, timeAgo, fmtDuration, empty, debounce, notice, labelChips } from '../lib/dom.js';

const HEALTH_KIND = { ok: 'ok', err: 'crit', unknown: 'muted' };
const ALERT_KIND = { firing: 'crit', pending: 'warn', inactive: 'ok' };

export default {
  title: 'Rules',
  async render(root, route, { api, setQuery }) {
    const state = { health: route.query.get('health') || 'all', type: route.query.get('type') || 'all', q: route.query.get('q') || '', data: null, err: null };
    const body = h('div');
    const status = h('span', { class: 'updated' });
    const seg = (key, values, labels) => {
      const bs = values.map((v, i) => h('button', { type: 'button', 'data-filter': v, 'aria-pressed': String(state[key] === v), onclick: () => {
        state[key] = v;
        bs.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.filter === v)));
        setQuery({ [key]: v === 'all' ? null : v });
        draw();
      } }, labels[i]));
      return h('div', { class: 'seg', role: 'group' }, bs);
    };
    const search = h('input', { type: 'search', placeholder: 'Filter by group, name, query or label  ( / )', 'data-search': '', value: state.q, style: 'min-width:320px' });
    search.addEventListener('input', debounce(() => { state.q = search.value; setQuery({ q: state.q || null }); draw(); }, 150));
    root.append(pageHeader('Rules', 'Recording and alerting rules: health, last error, evaluation time.', status),
      h('div', { class: 'toolbar' }, seg('health', ['all', 'err', 'ok'], ['All', 'Failing', 'Healthy']),
        seg('type', ['all', 'alerting', 'recording'], ['Any type', 'Alerting', 'Recording']), search), body);

    function draw() {
      const groups = (state.data && state.data.groups) || [];
      if (!groups.length) { replace(body, state.err ? notice('crit', state.err.message) : empty('No rules loaded', 'Add rule files under rule_files in the configuration.')); return; }
      const q = state.q.toLowerCase();
      const match = (g, r) => (state.health === 'all' || (state.health === 'err' ? r.health === 'err' : r.health === 'ok'))
        && (state.type === 'all' || r.type === state.type)
        && (!q || [g.name, g.file, r.name, r.query, JSON.stringify(r.labels || {})].join(' ').toLowerCase().includes(q));
      let total = 0;
      let failing = 0;
      const items = groups.map((g) => {
        const bad = g.rules.filter((r) => r.health === 'err').length;
        total += g.rules.length;
        failing += bad;
        return { g, bad, rules: g.rules.filter((r) => match(g, r)).sort((a, b) => (b.health === 'err') - (a.health === 'err')) };
      }).filter((x) => x.rules.length).sort((a, b) => (b.bad > 0) - (a.bad > 0) || a.g.name.localeCompare(b.g.name));
      replace(status, `${total} rules in ${groups.length} groups · ${failing} failing`);
      replace(body, state.err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', state.err.message) : null,
        items.length ? items.map(({ g, bad, rules }) => h('section', { class: 'panel', 'data-group': g.name },
          h('div', { class: 'panel-head' }, h('h2', null, g.name), bad ? badge(`${bad} failing`, 'crit') : badge('ok', 'ok'),
            h('span', { class: 'muted small mono', title: g.file }, g.file),
            h('span', { class: 'grow' }),
            h('span', { class: 'muted small' }, `every ${fmtDuration(g.interval)} · took ${fmtDuration(g.evaluationTime)} · `, timeAgo(g.lastEvaluation))),
          h('div', { class: 'table-wrap' }, h('table', null,
            h('thead', null, h('tr', null, h('th', { style: 'width:40%' }, 'Rule'), h('th', null, 'Type'), h('th', null, 'Health'), h('th', null, 'State'),
              h('th', { class: 'num' }, 'Eval time'), h('th', null, 'Last evaluation'))),
            h('tbody', null, rules.map((r) => h('tr', { 'data-rule': r.name, 'data-health': r.health, 'data-type': r.type },
              h('td', null, h('div', null, h('b', null, r.name)),
                h('a', { class: 'mono small muted', style: 'display:block;white-space:pre-wrap;word-break:break-word', href: `explore?expr=${encodeURIComponent(r.query)}`, title: 'Open in Explore' }, r.query),
                r.type === 'alerting' && r.duration ? h('div', { class: 'small muted' }, `for ${fmtDuration(r.duration)}`) : null,
                labelChips(r.labels),
                r.lastError ? h('pre', { class: 'err-text', style: 'margin-top:4px' }, r.lastError) : null),
              h('td', null, badge(r.type, r.type === 'alerting' ? 'info' : 'muted')),
              h('td', null, badge(r.health, HEALTH_KIND[r.health] || 'muted')),
              h('td', null, r.type === 'alerting' ? [badge(r.state, ALERT_KIND[r.state] || 'muted'),
                r.alerts && r.alerts.length ? h('span', { class: 'muted small' }, ` ${r.alerts.length}`) : null] : h('span', { class: 'muted' }, '–')),
              h('td', { class: 'num' }, fmtDuration(r.evaluationTime)),
              h('td', { class: 'nowrap' }, timeAgo(r.lastEvaluation)))))))))
          : empty('No rule matches the filter'));
    }

    const load = async () => {
      try { state.data = await api.v1('api/v1/rules'); state.err = null; } catch (e) { if (!state.data) throw e; state.err = e; }
      draw();
    };
    await load();
    return poll(load, 15000);
  },
};
