// Alerts: the rules' alerts (api/v1/alerts: firing, pending) merged with the alert manager's
// view (api/v2/alerts: silenced or inhibited → suppressed, receivers, fingerprint for ack).
// Alerts the alert manager got from elsewhere (another Prometheus) are listed too.

import { h, replace, poll, pageHeader, labelChips, badge, timeAgo, empty, debounce, notice, fmtNum } from '../lib/dom.js';
import { sevClass, alertKey, matchersFor, parseMatchers, matchesAll } from '../lib/alerting.js';

const STATE_KIND = { firing: 'crit', pending: 'warn', suppressed: 'muted' };
const STATE_ORDER = { firing: 0, pending: 1, suppressed: 2 };
const GROUP_LIMIT = 50;

/** A link to Explore for a Prometheus generator URL (`…/graph?g0.expr=…`), kept relative. */
function queryLink(gen) {
  if (!gen) return null;
  try {
    const u = new URL(gen, document.baseURI);
    const expr = u.searchParams.get('g0.expr');
    if (!expr) return null;
    return h('span', null, ' · ', h('a', { href: `explore?expr=${encodeURIComponent(expr)}` }, 'query'));
  } catch (e) {
    return null;
  }
}

export default {
  title: 'Alerts',
  async render(root, route, { api, setQuery, navigate, toast }) {
    const state = { filter: route.query.get('state') || 'all', q: route.query.get('q') || '', alerts: [], am: null, amErr: null, err: null };
    const body = h('div');
    const status = h('span', { class: 'updated' });
    const search = h('input', { type: 'search', placeholder: 'Filter: text, or matchers {severity="critical"}  ( / )', 'data-search': '', value: state.q, style: 'min-width:360px' });
    const searchErr = h('span', { class: 'field-error' });
    const states = ['all', 'firing', 'pending', 'suppressed'];
    const segs = states.map((v) => h('button', { type: 'button', 'data-filter': v, 'aria-pressed': String(state.filter === v), onclick: () => {
      state.filter = v;
      segs.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.filter === v)));
      setQuery({ state: v === 'all' ? null : v });
      draw();
    } }, v[0].toUpperCase() + v.slice(1)));
    search.addEventListener('input', debounce(() => { state.q = search.value; setQuery({ q: state.q || null }); draw(); }, 150));
    const amNote = h('div');
    root.append(pageHeader('Alerts', 'Firing and pending alerts from the rules, and what the alert manager does with them.', status),
      amNote, h('div', { class: 'toolbar' }, h('div', { class: 'seg', role: 'group', 'aria-label': 'State' }, segs), search, searchErr), body);

    function merged() {
      const byKey = new Map();
      const out = [];
      if (Array.isArray(state.am)) for (const a of state.am) byKey.set(alertKey(a.labels), a);
      const seen = new Set();
      for (const a of state.alerts) {
        const key = alertKey(a.labels);
        const m = byKey.get(key);
        seen.add(key);
        const suppressed = m && m.status && m.status.state === 'suppressed';
        out.push({ labels: a.labels, annotations: a.annotations || {}, state: suppressed ? 'suppressed' : a.state, since: a.activeAt, value: a.value, am: m || null, source: 'rules' });
      }
      if (Array.isArray(state.am)) {
        for (const m of state.am) {
          if (seen.has(alertKey(m.labels))) continue;
          out.push({ labels: m.labels, annotations: m.annotations || {}, state: m.status && m.status.state === 'suppressed' ? 'suppressed' : 'firing', since: m.startsAt, value: null, am: m, source: 'alertmanager' });
        }
      }
      return out;
    }

    function card(a) {
      const name = a.labels.alertname || '';
      const sev = a.labels.severity || '';
      const st = a.am && a.am.status ? a.am.status : null;
      const ack = a.am && a.am.fingerprint && a.state === 'firing'
        ? h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'ack', title: 'Acknowledge: silence this exact alert until it resolves', onclick: async (ev) => {
          const b = ev.currentTarget;
          b.disabled = true;
          try {
            const r = await api.post(`api/v2/alerts/${encodeURIComponent(a.am.fingerprint)}/ack`, { createdBy: 'web-ui', comment: 'acknowledged from the web UI' });
            toast('ok', `Acknowledged ${name}${r && r.silenceID ? ` (silence ${r.silenceID})` : ''}`);
            await load();
          } catch (e) {
            b.disabled = false;
            toast('crit', e.notFound ? 'Acknowledging is not available in this build.' : `Acknowledge failed: ${e.message}`);
          }
        } }, 'Ack')
        : null;
      const annotations = Object.entries(a.annotations).sort(([x], [y]) => (x === 'summary' ? -1 : y === 'summary' ? 1 : x.localeCompare(y)));
      return h('div', { class: 'alert-card', 'data-alert': '', 'data-alertname': name, 'data-severity': sev, 'data-state': a.state },
        h('div', null, h('span', { class: `dot dot-${a.state === 'firing' ? sevClass(sev) : a.state === 'pending' ? 'warn' : ''}` })),
        h('div', { class: 'stack' },
          // The group header names the alert; each instance leads with its severity and state.
          h('div', null, sev ? badge(sev, sevClass(sev)) : null, ' ', badge(a.state, STATE_KIND[a.state]),
            a.source === 'alertmanager' ? h('span', { class: 'muted small' }, '  (sent to the alert manager by another server)') : null),
          labelChips(a.labels, ['alertname', 'severity']),
          annotations.length ? h('div', { class: 'annot' }, annotations.map(([k, v]) => h('div', null, h('span', { class: 'k' }, k, ': '), v))) : null,
          h('div', { class: 'meta' }, 'Active since ', timeAgo(a.since),
            a.value !== null && a.value !== undefined ? ` · value ${fmtNum(parseFloat(a.value), 4)}` : '',
            a.am && a.am.receivers ? ` · receivers: ${a.am.receivers.map((r) => r.name).join(', ')}` : '',
            st && st.silencedBy && st.silencedBy.length ? h('span', null, ' · silenced by ', st.silencedBy.map((id, i) => [i ? ', ' : '', h('a', { href: `silences?id=${encodeURIComponent(id)}` }, id.slice(0, 8))])) : '',
            st && st.inhibitedBy && st.inhibitedBy.length ? ` · inhibited by ${st.inhibitedBy.length} alert(s)` : '',
            queryLink(a.am && a.am.generatorURL))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'silence', title: 'Create a silence for this alert', onclick: () => {
            navigate(`silences?new=1&matchers=${encodeURIComponent(matchersFor(a.labels))}`);
          } }, 'Silence'),
          ack));
    }

    function draw() {
      replace(amNote, state.am === null && state.amErr && state.amErr.notFound
        ? notice('info', 'The alert manager is not configured (start with --alertmanager.config.file): alerts come from the rules only, and silences and acknowledgements are not available.')
        : state.amErr && !state.amErr.notFound ? notice('warn', 'The alert manager did not answer: ', state.amErr.message) : null);
      const all = merged();
      const q = state.q.toLowerCase();
      // `{...}` in the search box filters with Alertmanager matchers; other text is a substring.
      let ms = null;
      replace(searchErr);
      if (state.q.trim().startsWith('{')) {
        try { ms = parseMatchers(state.q); } catch (e) { replace(searchErr, e.message); }
      }
      const textMatch = (a) => (ms ? matchesAll(ms, a.labels) || !ms.length
        : !q || JSON.stringify([a.labels, a.annotations]).toLowerCase().includes(q));
      const shown = all.filter((a) => (state.filter === 'all' || a.state === state.filter) && (searchErr.textContent ? true : textMatch(a)));
      const counts = { firing: 0, pending: 0, suppressed: 0 };
      for (const a of all) counts[a.state] = (counts[a.state] || 0) + 1;
      replace(status, `${counts.firing} firing · ${counts.pending} pending · ${counts.suppressed} suppressed`);
      if (!all.length) { replace(body, state.err ? notice('crit', state.err.message) : empty('No alerts', 'No alerting rule is firing or pending. All quiet.')); return; }
      // Group by alert name; groups with firing alerts first, then by severity.
      const groups = new Map();
      for (const a of shown) {
        const n = a.labels.alertname || '';
        if (!groups.has(n)) groups.set(n, []);
        groups.get(n).push(a);
      }
      const sevRank = (s) => ({ crit: 0, warn: 1, info: 2 }[sevClass(s)] ?? 3);
      const gs = [...groups.entries()].map(([n, as]) => {
        as.sort((x, y) => STATE_ORDER[x.state] - STATE_ORDER[y.state] || sevRank(x.labels.severity) - sevRank(y.labels.severity) || (Date.parse(y.since) || 0) - (Date.parse(x.since) || 0));
        return { n, as, best: Math.min(...as.map((a) => STATE_ORDER[a.state] * 10 + sevRank(a.labels.severity))) };
      }).sort((a, b) => a.best - b.best || a.n.localeCompare(b.n));
      replace(body, state.err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', state.err.message) : null,
        gs.length ? gs.map((g) => h('section', { class: 'panel', 'data-group': g.n },
          h('div', { class: 'panel-head' }, h('h2', null, g.n), badge(`${g.as.length}`, 'muted')),
          groupBody(g))) : empty('No alert matches the filter'));
    }

    // Large groups show their first instances (the worst, as sorted) until asked for all.
    const expanded = new Set();
    function groupBody(g) {
      if (g.as.length <= GROUP_LIMIT || expanded.has(g.n)) return g.as.map(card);
      return [g.as.slice(0, GROUP_LIMIT).map(card), h('div', { class: 'panel-body' },
        h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'show-all', onclick: () => { expanded.add(g.n); draw(); } },
          `Show all ${g.as.length}`))];
    }

    const feats = await api.features();
    const notConfigured = Object.assign(new Error('alert manager not configured'), { notFound: true });
    const load = async () => {
      const [v1, v2] = await Promise.allSettled([
        api.v1('api/v1/alerts'),
        feats.alertmanager ? api.get('api/v2/alerts', { active: 'true', silenced: 'true', inhibited: 'true' }) : Promise.reject(notConfigured),
      ]);
      if (v1.status === 'fulfilled') { state.alerts = v1.value.alerts || []; state.err = null; state.loaded = true; } else if (!state.loaded) {
        throw v1.reason;
      } else state.err = v1.reason;
      if (v2.status === 'fulfilled') { state.am = v2.value; state.amErr = null; } else { state.am = null; state.amErr = v2.reason; }
      draw();
    };
    await load();
    return poll(load, 15000);
  },
};
