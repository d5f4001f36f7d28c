// Status: build and runtime information, command-line flags, TSDB statistics (top series
// counts), the alert manager's status and the loaded configuration (secrets are redacted by
// the server before it is sent).

import { h, replace, pageHeader, notice, fmtNum, fmtBytes, fmtTime, fmtDuration, debounce } from '../lib/dom.js';

function kv(obj, fmt = {}) {
  return h('dl', { class: 'kv' }, Object.entries(obj || {}).map(([k, v]) => [h('dt', null, k), h('dd', null, fmt[k] ? fmt[k](v) : v === '' ? '–' : String(v))]));
}

function topTable(title, rows, valueLabel, fmt = fmtNum) {
  const max = Math.max(1, ...(rows || []).map((r) => r.value));
  return h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, title)),
    rows && rows.length ? h('table', { class: 'fixed' }, h('colgroup', null, h('col'), h('col', { style: { width: '90px' } })),
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', { class: 'num' }, valueLabel))),
      h('tbody', null, rows.map((r) => h('tr', null,
        h('td', { class: 'mono small ellipsis', title: r.name, style: { backgroundImage: `linear-gradient(90deg, color-mix(in srgb, var(--accent) 12%, transparent) ${(r.value / max) * 100}%, transparent 0)` } }, r.name),
        h('td', { class: 'num' }, fmt(r.value))))))
      : h('div', { class: 'panel-body muted' }, 'None'));
}

export default {
  title: 'Status',
  async render(root, route, { api, setQuery }) {
    const [build, runtime, flags, tsdb, config, am] = await Promise.allSettled([
      api.v1('api/v1/status/buildinfo'),
      api.v1('api/v1/status/runtimeinfo'),
      api.v1('api/v1/status/flags'),
      api.v1('api/v1/status/tsdb', { limit: 10 }),
      api.v1('api/v1/status/config'),
      api.features().then((f) => (f.alertmanager ? api.get('api/v2/status') : Promise.reject(Object.assign(new Error('not configured'), { notFound: true })))),
    ]);
    const val = (r) => (r.status === 'fulfilled' ? r.value : null);
    const fail = (r) => (r.status === 'rejected' ? notice('crit', r.reason.message) : null);
    if ([build, runtime, flags, tsdb, config].every((r) => r.status === 'rejected')) throw build.reason;

    const rt = val(runtime);
    const head = val(tsdb) && val(tsdb).headStats;
    const flagFilter = h('input', { type: 'search', placeholder: 'Filter flags  ( / )', 'data-search': '', value: route.query.get('flag') || '' });
    const flagBody = h('tbody');
    const drawFlags = () => {
      const q = flagFilter.value.toLowerCase();
      replace(flagBody, Object.entries(val(flags) || {}).filter(([k, v]) => !q || `${k} ${v}`.toLowerCase().includes(q))
        .map(([k, v]) => h('tr', null, h('td', { class: 'mono small' }, `--${k}`), h('td', { class: 'mono small' }, v === '' ? h('span', { class: 'muted' }, '(empty)') : v))));
    };
    flagFilter.addEventListener('input', debounce(() => { setQuery({ flag: flagFilter.value || null }); drawFlags(); }, 120));
    drawFlags();

    const amv = val(am);
    const t = val(tsdb) || {};
    root.append(pageHeader('Status', 'What is running, how, and what it stores.'),
      h('div', { class: 'grid' },
        h('section', { class: 'panel', 'data-section': 'build' }, h('div', { class: 'panel-head' }, h('h2', null, 'Build')), h('div', { class: 'panel-body' }, fail(build), kv(val(build)))),
        h('section', { class: 'panel', 'data-section': 'runtime' }, h('div', { class: 'panel-head' }, h('h2', null, 'Runtime')), h('div', { class: 'panel-body' }, fail(runtime),
          rt ? kv({
            'Start time': rt.startTime, Uptime: rt.startTime, 'Working directory': rt.CWD, Hostname: rt.hostname,
            'Configuration reload': rt.reloadConfigSuccess ? 'successful' : 'FAILED', 'Last configuration': rt.lastConfigTime,
            'WAL corruptions repaired': rt.corruptionCount, 'Storage retention': rt.storageRetention, 'Threads (GOMAXPROCS)': rt.GOMAXPROCS,
          }, {
            'Start time': (v) => fmtTime(v), Uptime: (v) => fmtDuration((Date.now() - Date.parse(v)) / 1000), 'Last configuration': (v) => fmtTime(v),
            'Configuration reload': (v) => h('span', { class: v === 'FAILED' ? 'err-text' : '' }, v),
          }) : null)),
        h('section', { class: 'panel', 'data-section': 'head' }, h('div', { class: 'panel-head' }, h('h2', null, 'TSDB head')), h('div', { class: 'panel-body' }, fail(tsdb),
          head ? kv({ Series: head.numSeries, Chunks: head.chunkCount, 'Label pairs': head.numLabelPairs, 'Oldest sample': head.minTime, 'Newest sample': head.maxTime },
            { Series: fmtNum, Chunks: fmtNum, 'Label pairs': fmtNum, 'Oldest sample': (v) => fmtTime(v), 'Newest sample': (v) => fmtTime(v) }) : null)),
        h('section', { class: 'panel', 'data-section': 'alertmanager' }, h('div', { class: 'panel-head' }, h('h2', null, 'Alert manager')), h('div', { class: 'panel-body' },
          amv ? kv({ Version: amv.versionInfo && amv.versionInfo.version, 'Up since': amv.uptime, Cluster: amv.cluster && amv.cluster.status },
            { 'Up since': (v) => fmtTime(v) })
            : am.reason && am.reason.notFound ? h('span', { class: 'muted' }, 'Not configured (start with --alertmanager.config.file).') : fail(am)))),
      h('h2', { style: 'margin-top:8px' }, 'TSDB statistics'),
      h('div', { class: 'grid' },
        topTable('Series count by metric name', t.seriesCountByMetricName, 'Series'),
        topTable('Label value count by label name', t.labelValueCountByLabelName, 'Values'),
        topTable('Memory used by label name', t.memoryInBytesByLabelName, 'Bytes', fmtBytes),
        topTable('Series count by label pair', t.seriesCountByLabelValuePair, 'Series')),
      h('section', { class: 'panel', 'data-section': 'flags' }, h('div', { class: 'panel-head' }, h('h2', null, 'Command-line flags'), h('span', { class: 'grow' }), flagFilter),
        fail(flags), h('div', { class: 'table-wrap', style: 'max-height:420px;overflow:auto' }, h('table', null, flagBody))),
      h('section', { class: 'panel', 'data-section': 'config' }, h('div', { class: 'panel-head' }, h('h2', null, 'Configuration'), h('span', { class: 'muted small' }, 'secrets are redacted by the server')),
        h('div', { class: 'panel-body' }, fail(config), val(config) ? h('pre', { class: 'config', 'data-config': '' }, val(config).yaml) : null)));
    return undefined;
  },
};
