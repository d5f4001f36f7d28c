// SLOs: each objective's error budget remaining, burn rate now and over the whole period, the
// burn rate per window, and its burn-rate alerts; the worst first.

import { h, replace, poll, pageHeader, badge, empty, fmtNum, fmtPct } from '../lib/dom.js';
import { sevClass } from '../lib/alerting.js';

const ALERT_KIND = { firing: 'crit', pending: 'warn', inactive: 'ok' };

function windowSeconds(w) {
  const m = /^(\d+)([smhdw])$/.exec(w);
  return m ? +m[1] * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]] : Infinity;
}

function burnKind(b) {
  if (b === null || b === undefined) return '';
  return b >= 14.4 ? 'crit' : b > 1 ? 'warn' : '';
}

export default {
  title: 'SLOs',
  async render(root, route, { api }) {
    const body = h('div');
    const status = h('span', { class: 'updated' });
    let data = null;
    let err = null;
    let notAvailable = false;
    root.append(pageHeader('SLOs', 'Service level objectives: error budget remaining and how fast it burns.', status), body);

    function draw() {
      if (notAvailable) { replace(body, empty('SLOs are not available in this build')); return; }
      const slos = (data && data.slos) || [];
      if (!slos.length) {
        replace(body, empty('No SLOs configured', 'Add a file with an slos: block (or a Sloth prometheus/v1 spec) to rule_files; see README “SLOs”.'));
        return;
      }
      const sorted = [...slos].sort((a, b) => (a.errorBudgetRemaining ?? Infinity) - (b.errorBudgetRemaining ?? Infinity) || a.id.localeCompare(b.id));
      const burning = slos.filter((s) => s.currentBurnRate !== null && s.currentBurnRate > 1).length;
      replace(status, `${slos.length} SLOs · ${burning} burning faster than budgeted`);
      replace(body, err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', err.message) : null,
        h('section', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', null,
          h('thead', null, h('tr', null, h('th', null, 'SLO'), h('th', { class: 'num' }, 'Objective'), h('th', null, 'Error budget remaining'),
            h('th', { class: 'num' }, 'Burn now'), h('th', { class: 'num' }, 'Burn over period'), h('th', null, 'Burn rate by window'), h('th', null, 'Alerts'))),
          h('tbody', null, sorted.map((s) => {
            const rem = s.errorBudgetRemaining;
            const kind = rem === null ? '' : rem <= 0 ? 'crit' : rem < 0.25 ? 'warn' : '';
            const windows = Object.keys(s.burnRates || {}).sort((a, b) => windowSeconds(a) - windowSeconds(b));
            return h('tr', { 'data-slo': s.id, 'data-burning': String(s.currentBurnRate !== null && s.currentBurnRate > 1) },
              h('td', null, h('div', null, h('b', null, s.name)), h('div', { class: 'muted small' }, s.service, s.period ? ` · ${s.period} window` : '')),
              h('td', { class: 'num' }, fmtPct(s.objective, 3)),
              h('td', { style: 'min-width:180px' }, rem === null ? h('span', { class: 'muted' }, 'no data') : [
                h('div', { class: `budget ${kind}`, title: `${fmtPct(rem, 2)} of the error budget left` },
                  h('span', { style: { width: `${Math.max(0, Math.min(1, rem)) * 100}%` } })),
                h('div', { class: 'small' + (kind ? ` err-text` : '') }, rem <= 0 ? `spent (${fmtPct(rem, 0)})` : fmtPct(rem, 1))]),
              h('td', { class: 'num' }, s.currentBurnRate === null ? '–' : h('span', { class: burnKind(s.currentBurnRate) ? 'err-text' : '' }, fmtNum(s.currentBurnRate) + '×')),
              h('td', { class: 'num' }, s.periodBurnRate === null ? '–' : fmtNum(s.periodBurnRate) + '×'),
              h('td', null, h('div', { class: 'burns' }, windows.map((w) => {
                const b = s.burnRates[w];
                return h('span', { class: `burn ${burnKind(b) ? 'burn-' + burnKind(b) : ''}`, title: s.errorRatios && s.errorRatios[w] !== null && s.errorRatios[w] !== undefined ? `error ratio ${fmtPct(s.errorRatios[w], 3)}` : 'no data' },
                  `${w} `, b === null ? '–' : fmtNum(b) + '×');
              }))),
              h('td', null, h('div', { class: 'burns' }, (s.alerts || []).map((a) => h('span', { title: `${a.name} (${a.health})` },
                badge(`${a.severity || a.labels.severity || ''} ${a.state}`, a.state === 'firing' ? sevClass(a.labels.severity || a.severity) : ALERT_KIND[a.state] || 'muted'))))));
          }))))),
        h('p', { class: 'muted small' }, 'Burn rate 1× spends exactly the budget over the period; 14.4× over 1h is the usual page threshold (2% of a 30-day budget in an hour).'));
    }

    const load = async () => {
      try {
        data = await api.v1('api/v1/slos');
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
