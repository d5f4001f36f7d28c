// Notifications: the alert manager's notification history (every notification sent or
// failed): time, receiver, integration, outcome, the alerts it carried. Filters (?receiver=,
// ?outcome=failed, ?q=, ?limit=) live in the URL; receiver and outcome are applied server-side.

import { h, replace, poll, pageHeader, badge, empty, fmtDuration, fmtTime, timeAgo, labelChips, debounce, errText } from '../lib/dom.js';

export default {
  title: 'Notifications',
  async render(root, route, { api, setQuery }) {
    const state = {
      receiver: route.query.get('receiver') || '',
      outcome: route.query.get('outcome') || 'all',
      q: route.query.get('q') || '',
      limit: route.query.get('limit') || '200',
      data: null, err: null, receivers: [],
    };
    const params = () => ({ limit: state.limit, receiver: state.receiver || null, failed: state.outcome === 'failed' ? 'true' : null });
    let first;
    try {
      if (!(await api.features()).alertmanager) throw Object.assign(new Error('alert manager not configured'), { notFound: true });
      first = await Promise.all([api.get('api/v2/notifications', params()), api.optional(api.get('api/v2/receivers'), [])]);
    } catch (e) {
      if (e.notFound) {
        root.append(pageHeader('Notifications'), empty('Alert manager not configured',
          'The notification history belongs to the built-in alert manager. Start Sightline with --alertmanager.config.file to use it.'));
        return undefined;
      }
      throw e;
    }
    [state.data, state.receivers] = first;
    const body = h('div');
    const status = h('span', { class: 'updated' });
    const recvSel = h('select', { 'aria-label': 'Receiver', onchange: () => { state.receiver = recvSel.value; setQuery({ receiver: state.receiver || null }); load(); } },
      h('option', { value: '' }, 'All receivers'),
      (state.receivers || []).map((r) => h('option', { value: r.name, selected: r.name === state.receiver }, r.name)));
    const outSegs = ['all', 'failed'].map((v) => h('button', { type: 'button', 'data-filter': v, 'aria-pressed': String(state.outcome === v), onclick: () => {
      state.outcome = v;
      outSegs.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.filter === v)));
      setQuery({ outcome: v === 'all' ? null : v });
      load();
    } }, v === 'all' ? 'All outcomes' : 'Failed only'));
    const search = h('input', { type: 'search', placeholder: 'Filter by alert, label or error  ( / )', 'data-search': '', value: state.q, style: 'min-width:280px' });
    search.addEventListener('input', debounce(() => { state.q = search.value; setQuery({ q: state.q || null }); draw(); }, 150));
    root.append(pageHeader('Notifications', 'Every notification the alert manager sent or failed to send, newest first.', status),
      h('div', { class: 'toolbar' }, recvSel, h('div', { class: 'seg', role: 'group' }, outSegs), search), body);

    function draw() {
      const rows = state.data || [];
      const q = state.q.toLowerCase();
      const shown = rows.filter((n) => !q || JSON.stringify([n.alerts, n.error, n.groupLabels, n.integration]).toLowerCase().includes(q))
        .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
      const failed = rows.filter((n) => n.status === 'failed').length;
      replace(status, `${rows.length} shown (limit ${state.limit}) · ${failed} failed`);
      replace(body, state.err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', state.err.message) : null,
        !rows.length ? empty('No notifications yet', state.receiver || state.outcome !== 'all' ? 'None match these filters.' : 'Nothing has been sent (alerts wait group_wait before the first notification).')
          : !shown.length ? empty('No notification matches the filter')
            : h('section', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', null,
              h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Receiver'), h('th', null, 'Integration'), h('th', null, 'Outcome'),
                h('th', { class: 'num' }, 'Attempts'), h('th', { class: 'num' }, 'Took'), h('th', null, 'Alerts'), h('th', null, 'Error'))),
              h('tbody', null, shown.map((n) => h('tr', { 'data-notification': '', 'data-status': n.status, 'data-receiver': n.receiver },
                h('td', { class: 'nowrap' }, h('div', null, fmtTime(n.time)), h('div', { class: 'muted small' }, timeAgo(n.time))),
                h('td', null, h('b', null, n.receiver)),
                h('td', { class: 'mono small' }, `${n.integration}${n.index !== undefined ? `[${n.index}]` : ''}`),
                h('td', null, badge(n.status, n.status === 'failed' ? 'crit' : 'ok')),
                h('td', { class: 'num' }, n.attempts),
                h('td', { class: 'num' }, fmtDuration((n.durationMs || 0) / 1000)),
                h('td', null, h('div', { class: 'stack' }, (n.alerts || []).slice(0, 6).map((a) => h('div', null,
                  badge(a.status, a.status === 'firing' ? 'crit' : 'ok'), ' ', h('b', null, a.labels.alertname || ''), ' ', labelChips(a.labels, ['alertname', ...Object.keys(n.groupLabels || {}).filter((k) => k !== 'alertname')]))),
                  (n.alerts || []).length > 6 ? h('div', { class: 'muted small' }, `and ${n.alerts.length - 6} more`) : null)),
                h('td', { style: 'min-width:300px;max-width:560px' }, n.error ? errText(n.error) : h('span', { class: 'muted' }, '–'))))))),
              rows.length >= +state.limit ? h('div', { class: 'panel-body' }, h('button', { type: 'button', class: 'btn', 'data-action': 'more', onclick: () => {
                state.limit = String(Math.min(+state.limit * 2, 100000));
                setQuery({ limit: state.limit });
                load();
              } }, `Show up to ${Math.min(+state.limit * 2, 100000)}`)) : null));
    }

    async function load() {
      try {
        state.data = await api.get('api/v2/notifications', params());
        state.err = null;
      } catch (e) {
        state.err = e;
      }
      draw();
    }
    draw();
    return poll(load, 15000);
  },
};
