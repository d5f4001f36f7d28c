// Home: "is it broken?" in five seconds. One tile per area, each filled as soon as its own
// request answers (a handful of requests in parallel, none per series), and a verdict banner
// that counts the problems across tiles.

import { h, replace, poll, fmtNum, fmtBytes, fmtDuration, fmtPct, fmtTime, timeAgo } from '../lib/dom.js';
import { sevClass, alertKey } from '../lib/alerting.js';

const REFRESH_MS = 15000;

// One instant query for the storage and ingest figures from Sightline's own metrics (present
// when it scrapes itself); each sub-expression is tagged by a `stat` label.
const STATS = {
  samples: 'sum(rate(sightline_tsdb_samples_appended_total[2m]))',
  scraped: 'sum(rate(sightline_scrape_samples_total[2m]))',
  scrapes: 'sum(rate(sightline_scrape_scrapes_total[5m]))',
  failures: 'sum(rate(sightline_scrape_failures_total[5m]))',
  wal: 'max(sightline_tsdb_wal_bytes)',
  disk: 'max(sightline_tsdb_storage_bytes)',
  partitions: 'max(sightline_tsdb_partitions)',
  compactionFailures: 'sum(increase(sightline_tsdb_compaction_failures_total[1h]))',
  outOfOrder: 'sum(rate(sightline_tsdb_out_of_order_samples_total[5m]))',
};
const STATS_EXPR = Object.entries(STATS).map(([k, e]) => `label_replace(${e}, "stat", "${k}", "", "")`).join(' or ');

const TILES = [
  ['targets', 'Targets', 'targets'],
  ['alerts', 'Alerts', 'alerts'],
  ['slos', 'SLOs', 'slos'],
  ['rules', 'Rules', 'rules'],
  ['plugins', 'Plugins', 'plugins'],
  ['storage', 'Storage', 'status', 'status'],
  ['ingest', 'Ingest', 'targets', 'targets'],
  ['remote', 'Remote write', 'status', 'status'],
];

const STATUS_TEXT = { ok: 'OK', warn: 'Warning', crit: 'Problem', unknown: 'Unknown', off: 'Not configured' };
const STATUS_KIND = { ok: 'ok', warn: 'warn', crit: 'crit', unknown: 'muted', off: 'muted' };

export default {
  title: 'Home',
  async render(root, route, { api }) {
    const verdict = h('div', { class: 'verdict verdict-unknown', 'data-verdict': 'unknown' }, 'Checking…');
    const updated = h('span', { class: 'updated' });
    const tiles = {};
    const grid = h('div', { class: 'tiles' });
    for (const [key, title, href, linkText] of TILES) {
      const body = h('div', { class: 'tile-body' }, h('span', { class: 'muted' }, 'Loading…'));
      const status = h('span', { class: 'badge badge-muted' }, '…');
      const el = h('section', { class: 'tile', 'data-tile': key, 'data-status': 'unknown', 'aria-label': title },
        h('div', { class: 'tile-head' }, h('h2', null, h('a', { href }, title)), status),
        body,
        h('div', { class: 'tile-foot' }, h('a', { href }, `Open ${linkText || title.toLowerCase()} →`)));
      tiles[key] = { el, body, status, problems: 0, summary: '' };
      grid.appendChild(el);
    }
    root.append(
      h('header', { class: 'page-head' }, h('h1', { class: 'sr-only' }, 'Overview'), h('div', { class: 'grow' }), updated),
      verdict, grid);

    // When a tile has problems its links open the detail view filtered to them.
    const PROBLEM_LINKS = { targets: 'targets?health=down', alerts: 'alerts?state=firing', rules: 'rules?health=err', ingest: 'targets?health=down' };
    const set = (key, st, problems, summary, ...content) => {
      const t = tiles[key];
      const href = (st === 'crit' || st === 'warn') && PROBLEM_LINKS[key] ? PROBLEM_LINKS[key] : TILES.find((x) => x[0] === key)[2];
      for (const a of t.el.querySelectorAll('.tile-head a, .tile-foot a')) a.setAttribute('href', href);
      t.el.dataset.status = st;
      t.status.className = `badge badge-${STATUS_KIND[st]}`;
      t.status.textContent = STATUS_TEXT[st];
      t.problems = problems;
      t.summary = summary;
      replace(t.body, content);
    };
    let starting = null;
    const failed = (key, e) => {
      if (e && e.starting) starting = e;
      set(key, 'unknown', 0, '', h('p', { class: 'err-text' }, e.message || String(e)));
    };

    let first = true;
    const load = async () => {
      const p = {
        targets: api.v1('api/v1/targets', { state: 'active' }),
        alerts: api.v1('api/v1/alerts'),
        // Asked in parallel with the rest; api/v2 only when an alert manager is configured.
        amAlerts: api.features().then((f) => (f.alertmanager ? api.optional(api.get('api/v2/alerts', { active: 'true', silenced: 'true', inhibited: 'true' })) : null)),
        slos: api.optional(api.v1('api/v1/slos')),
        rules: api.v1('api/v1/rules'),
        plugins: api.optional(api.v1('api/v1/plugins')),
        tsdb: api.v1('api/v1/status/tsdb', { limit: 1 }),
        runtime: api.v1('api/v1/status/runtimeinfo'),
        remote: api.optional(api.v1('api/v1/status/remote_write')),
        stats: api.query(STATS_EXPR),
      };
      const jobs = [
        p.targets.then((d) => targetsTile(set, d)).catch((e) => failed('targets', e)),
        // The rules' alerts paint the tile at once; the alert manager's view (which may be slow
        // with many alerts) then takes out the silenced and inhibited ones.
        p.alerts.then((a) => {
          // Only on the first load: a refresh keeps the previous figures until both answer.
          if (first) alertsTile(set, a, undefined);
          return p.amAlerts.catch(() => null).then((am) => alertsTile(set, a, am));
        }).catch((e) => failed('alerts', e)),
        p.slos.then((d) => slosTile(set, d)).catch((e) => failed('slos', e)),
        p.rules.then((d) => rulesTile(set, d)).catch((e) => failed('rules', e)),
        p.plugins.then((d) => pluginsTile(set, d)).catch((e) => failed('plugins', e)),
        p.remote.then((d) => remoteTile(set, d)).catch((e) => failed('remote', e)),
        Promise.allSettled([p.tsdb, p.runtime, p.stats]).then(([t, r, s]) => {
          const stats = s.status === 'fulfilled' ? statsOf(s.value) : {};
          storageTile(set, t.status === 'fulfilled' ? t.value : null, r.status === 'fulfilled' ? r.value : null, stats,
            t.status === 'rejected' ? t.reason : null);
          return Promise.all([p.targets.catch(() => null)]).then(([tg]) => ingestTile(set, stats, tg, s.status === 'rejected' ? s.reason : null));
        }),
      ];
      await Promise.all(jobs);
      first = false;
      renderVerdict(verdict, tiles);
      replace(updated, 'Updated ', fmtTime(Date.now()), ' · refreshes every 15 s');
    };
    await load();
    // While the daemon replays its WAL (503), let the shell show its banner and retry.
    if (starting) throw starting;
    return poll(load, REFRESH_MS);
  },
};

function statsOf(data) {
  const out = {};
  for (const r of (data && data.result) || []) out[r.metric.stat] = parseFloat(r.value[1]);
  return out;
}

function renderVerdict(el, tiles) {
  const list = Object.entries(tiles);
  const crit = list.filter(([, t]) => t.el.dataset.status === 'crit');
  const warn = list.filter(([, t]) => t.el.dataset.status === 'warn');
  const unknown = list.filter(([, t]) => t.el.dataset.status === 'unknown');
  const n = list.reduce((s, [, t]) => s + t.problems, 0);
  let kind = 'ok';
  if (crit.length) kind = 'crit';
  else if (warn.length) kind = 'warn';
  else if (unknown.length === list.length) kind = 'unknown';
  const summaries = [...crit, ...warn].map(([, t]) => t.summary).filter(Boolean);
  if (unknown.length && unknown.length < list.length && (crit.length || warn.length)) summaries.push(`could not check ${unknown.map(([k]) => k).join(', ')}`);
  const headline = kind === 'ok' ? 'All good' : kind === 'unknown' ? 'Status unknown'
    : `${n || summaries.length} problem${(n || summaries.length) === 1 ? '' : 's'}`;
  el.className = `verdict verdict-${kind}`;
  el.dataset.verdict = kind;
  el.dataset.problems = String(n);
  replace(el,
    h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, kind === 'ok' ? '✓' : kind === 'unknown' ? '?' : '!'),
    h('div', null, h('div', null, headline),
      h('div', { class: 'verdict-detail' }, summaries.length ? summaries.join(' · ')
        : kind === 'ok' ? 'Every target is up, no alert is firing, rules and plugins are healthy.'
          : unknown.length ? `Could not check: ${unknown.map(([k]) => k).join(', ')}` : '')));
}

function targetsTile(set, data) {
  const ts = (data && data.activeTargets) || [];
  if (!ts.length) return set('targets', 'off', 0, '', h('p', { class: 'muted' }, 'No scrape targets configured.'));
  const down = ts.filter((t) => t.health === 'down');
  const unknown = ts.filter((t) => t.health === 'unknown');
  const st = down.length ? 'crit' : unknown.length === ts.length ? 'unknown' : 'ok';
  const worst = down.length ? down : [...ts].sort((a, b) => b.lastScrapeDuration - a.lastScrapeDuration);
  set('targets', st, down.length, down.length ? `${down.length} target${down.length > 1 ? 's' : ''} down` : '',
    h('div', { class: 'tile-big' }, down.length ? `${down.length} down` : `${ts.length - unknown.length} up`, h('small', null, `of ${ts.length}`)),
    h('ul', null, worst.slice(0, 5).map((t) => h('li', { class: 'two-line' },
      h('span', { class: `dot dot-${t.health === 'up' ? 'ok' : t.health === 'down' ? 'crit' : ''}` }),
      h('div', { class: 'trunc' },
        h('div', { class: 'trunc', title: t.scrapeUrl }, h('b', null, t.labels.job || t.scrapePool), ' ', t.labels.instance || t.scrapeUrl,
          t.health !== 'down' ? h('span', { class: 'muted' }, ' · ', fmtDuration(t.lastScrapeDuration)) : null),
        t.health === 'down' ? h('div', { class: 'trunc err-text', title: t.lastError }, t.lastError || 'down') : null)))),
    down.length > 5 ? h('p', { class: 'muted small' }, `and ${down.length - 5} more down`) : null);
}

function alertsTile(set, data, amAlerts) {
  const all = (data && data.alerts) || [];
  // Alerts the alert manager silences or inhibits still fire in the rules; they are not problems.
  const suppressed = new Set();
  if (Array.isArray(amAlerts)) {
    for (const a of amAlerts) if (a.status && a.status.state === 'suppressed') suppressed.add(alertKey(a.labels));
  }
  const firing = all.filter((a) => a.state === 'firing');
  const active = firing.filter((a) => !suppressed.has(alertKey(a.labels)));
  const silenced = firing.length - active.length;
  const pending = all.filter((a) => a.state === 'pending').length;
  const bySev = new Map();
  for (const a of active) {
    const s = a.labels.severity || '';
    bySev.set(s, (bySev.get(s) || 0) + 1);
  }
  const sevs = [...bySev.entries()].sort((a, b) => sevRank(a[0]) - sevRank(b[0]) || b[1] - a[1]);
  const anyCrit = sevs.some(([s]) => sevClass(s) === 'crit');
  const st = !active.length ? 'ok' : anyCrit ? 'crit' : 'warn';
  const names = new Map();
  for (const a of active) names.set(a.labels.alertname, (names.get(a.labels.alertname) || 0) + 1);
  set('alerts', st, active.length, active.length ? `${active.length} alert${active.length > 1 ? 's' : ''} firing` : '',
    h('div', { class: 'tile-big' }, `${active.length}`, h('small', null, 'firing')),
    sevs.length ? h('div', { class: 'sev-list' }, sevs.map(([s, n]) =>
      h('span', { class: `sev sev-${sevClass(s)}`, 'data-severity': s, 'data-count': String(n) }, h('b', null, n), s || 'no severity'))) : null,
    h('ul', null, [...names.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n, c]) =>
      h('li', null, h('span', { class: 'dot dot-crit' }), h('span', { class: 'trunc' }, n), c > 1 ? h('span', { class: 'muted' }, `×${c}`) : null))),
    h('p', { class: 'muted small', style: 'margin:0' }, `${pending} pending`, silenced ? ` · ${silenced} silenced or inhibited` : '',
      amAlerts === undefined ? ' · checking silences…' : ''));
}

function sevRank(s) {
  return { crit: 0, warn: 1, info: 2 }[sevClass(s)] ?? 3;
}

function slosTile(set, data) {
  if (data === null) return set('slos', 'off', 0, '', h('p', { class: 'muted' }, 'SLOs are not available in this build.'));
  const slos = (data && data.slos) || [];
  if (!slos.length) return set('slos', 'off', 0, '', h('p', { class: 'muted' }, 'No SLOs configured.'), h('p', { class: 'muted small' }, 'Add an slos: file or a Sloth spec to rule_files.'));
  const burning = slos.filter((s) => s.currentBurnRate !== null && s.currentBurnRate > 1);
  const exhausted = slos.filter((s) => s.errorBudgetRemaining !== null && s.errorBudgetRemaining <= 0);
  const paging = slos.filter((s) => (s.alerts || []).some((a) => a.state === 'firing'));
  const nodata = slos.filter((s) => s.currentBurnRate === null);
  const problems = new Set([...burning, ...exhausted, ...paging].map((s) => s.id));
  const st = exhausted.length || paging.length ? 'crit' : burning.length ? 'warn' : nodata.length === slos.length ? 'unknown' : 'ok';
  const shown = [...slos].sort((a, b) => (b.currentBurnRate ?? -1) - (a.currentBurnRate ?? -1)).slice(0, 5);
  set('slos', st, problems.size, problems.size ? `${problems.size} SLO${problems.size > 1 ? 's' : ''} burning budget` : '',
    h('div', { class: 'tile-big' }, `${problems.size}`, h('small', null, `burning of ${slos.length}`)),
    h('ul', null, shown.map((s) => {
      const br = s.currentBurnRate;
      const kind = br === null ? '' : br > 1 ? (s.errorBudgetRemaining !== null && s.errorBudgetRemaining <= 0 ? 'crit' : 'warn') : 'ok';
      return h('li', null, h('span', { class: `dot dot-${kind}` }),
        h('span', { class: 'trunc', title: s.id }, `${s.service} / ${s.name}`),
        h('span', { class: 'muted nowrap', style: 'margin-left:auto' }, br === null ? 'no data'
          : `burn ${fmtNum(br)}× · ${s.errorBudgetRemaining !== null && s.errorBudgetRemaining <= 0 ? 'budget spent' : 'budget ' + fmtPct(s.errorBudgetRemaining, 0)}`));
    })),
    nodata.length ? h('p', { class: 'muted small', style: 'margin:0' }, `${nodata.length} without data`) : null);
}

function rulesTile(set, data) {
  const groups = (data && data.groups) || [];
  const rules = groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
  if (!rules.length) return set('rules', 'off', 0, '', h('p', { class: 'muted' }, 'No rules loaded.'));
  const failing = rules.filter((r) => r.health === 'err');
  const slowest = groups.reduce((m, g) => Math.max(m, g.evaluationTime || 0), 0);
  set('rules', failing.length ? 'crit' : 'ok', failing.length, failing.length ? `${failing.length} rule${failing.length > 1 ? 's' : ''} failing` : '',
    h('div', { class: 'tile-big' }, failing.length ? `${failing.length} failing` : `${rules.length} ok`, h('small', null, `of ${rules.length} in ${groups.length} groups`)),
    failing.length
      ? h('ul', null, failing.slice(0, 4).map((r) => h('li', null, h('span', { class: 'dot dot-crit' }),
        h('div', { class: 'trunc' }, h('div', { class: 'trunc' }, h('b', null, r.name), h('span', { class: 'muted' }, ` in ${r.group}`)),
          h('div', { class: 'trunc err-text', title: r.lastError }, (r.lastError || '').split('\n')[0])))))
      : h('p', { class: 'muted small', style: 'margin:0' }, `Slowest group evaluation ${fmtDuration(slowest)}`));
}

function pluginsTile(set, data) {
  if (data === null) return set('plugins', 'off', 0, '', h('p', { class: 'muted' }, 'Plugins are not available in this build.'));
  const ps = Array.isArray(data) ? data : (data && data.plugins) || [];
  if (!ps.length) return set('plugins', 'off', 0, '', h('p', { class: 'muted' }, 'No plugins installed.'));
  const failed = ps.filter((p) => p.state !== 'loaded');
  const erroring = ps.filter((p) => p.state === 'loaded' && p.errors > 0);
  const st = failed.length ? 'crit' : erroring.length ? 'warn' : 'ok';
  const n = failed.length + erroring.length;
  set('plugins', st, n, n ? `${n} plugin${n > 1 ? 's' : ''} in error` : '',
    h('div', { class: 'tile-big' }, failed.length ? `${failed.length} failed` : `${ps.length} loaded`, h('small', null, `of ${ps.length}`)),
    h('ul', null, [...failed, ...erroring].slice(0, 4).map((p) => h('li', null,
      h('span', { class: `dot dot-${p.state !== 'loaded' ? 'crit' : 'warn'}` }), h('b', { class: 'nowrap' }, p.name),
      h('span', { class: 'trunc err-text', title: p.last_error || '' }, p.state !== 'loaded' ? (p.last_error || p.state) : `${p.errors} errors`)))),
    n > 4 ? h('p', { class: 'muted small', style: 'margin:0' }, `and ${n - 4} more`) : null);
}

function storageTile(set, tsdb, runtime, stats, err) {
  if (!tsdb && !runtime) return set('storage', 'unknown', 0, '', h('p', { class: 'err-text' }, err ? err.message : 'No storage status.'));
  const head = (tsdb && tsdb.headStats) || {};
  const corrupt = (runtime && runtime.corruptionCount) || 0;
  const compFail = stats.compactionFailures || 0;
  const st = compFail > 0 ? 'crit' : corrupt > 0 ? 'warn' : 'ok';
  const problems = (compFail > 0 ? 1 : 0) + (corrupt > 0 ? 1 : 0);
  set('storage', st, problems, compFail > 0 ? 'compactions failing' : corrupt > 0 ? 'WAL corruption repaired' : '',
    h('div', { class: 'tile-big' }, fmtNum(head.numSeries), h('small', null, 'head series')),
    h('div', { class: 'metrics-row' },
      h('div', null, h('span', { class: 'muted' }, 'WAL'), h('span', null, stats.wal !== undefined ? fmtBytes(stats.wal) : 'unknown')),
      h('div', null, h('span', { class: 'muted' }, 'Disk'), h('span', null, stats.disk !== undefined ? fmtBytes(stats.disk) : 'unknown')),
      h('div', null, h('span', { class: 'muted' }, 'Retention'), h('span', null, (runtime && runtime.storageRetention) || 'unknown')),
      h('div', null, h('span', { class: 'muted' }, 'Chunks'), h('span', null, fmtNum(head.chunkCount))),
      h('div', null, h('span', { class: 'muted' }, 'Oldest'), h('span', null, head.numSeries > 0 && head.minTime ? timeAgo(head.minTime) : '–')),
      h('div', null, h('span', { class: 'muted' }, 'Corruptions'), h('span', null, String(corrupt)))));
}

function ingestTile(set, stats, targets, err) {
  if (stats.samples === undefined) {
    return set('ingest', 'unknown', 0, '',
      h('div', { class: 'tile-big' }, 'unknown'),
      h('p', { class: 'muted small' }, err ? err.message
        // Its gauges are there but no rate yet: a rate needs two scrapes of its own /metrics.
        : stats.wal !== undefined || stats.disk !== undefined ? 'Collecting: ingest rates appear after two scrapes of Sightline\'s own /metrics.'
          : 'Sightline does not scrape its own /metrics, so ingest rates are unknown. Add a scrape job for it.'));
  }
  const ts = (targets && targets.activeTargets) || [];
  const failRatio = stats.scrapes > 0 ? (stats.failures || 0) / stats.scrapes : 0;
  const stalled = stats.samples === 0 && ts.some((t) => t.health === 'up');
  const st = stalled ? 'crit' : failRatio > 0 ? 'warn' : 'ok';
  set('ingest', st, stalled ? 1 : 0, stalled ? 'no samples ingested' : failRatio > 0 ? `${fmtPct(failRatio, 1)} of scrapes failing` : '',
    h('div', { class: 'tile-big' }, fmtNum(stats.samples), h('small', null, 'samples/s')),
    h('div', { class: 'metrics-row' },
      h('div', null, h('span', { class: 'muted' }, 'Scraped'), h('span', null, fmtNum(stats.scraped) + '/s')),
      h('div', null, h('span', { class: 'muted' }, 'Scrapes'), h('span', null, fmtNum(stats.scrapes) + '/s')),
      h('div', null, h('span', { class: 'muted' }, 'Failures'), h('span', null, fmtNum(stats.failures) + '/s')),
      h('div', null, h('span', { class: 'muted' }, 'Failing'), h('span', null, fmtPct(failRatio, 1))),
      h('div', null, h('span', { class: 'muted' }, 'Out of order'), h('span', null, fmtNum(stats.outOfOrder || 0) + '/s')),
      h('div', null, h('span', { class: 'muted' }, 'Partitions'), h('span', null, fmtNum(stats.partitions)))));
}

// Remote write: is the data reaching central storage? A queue retrying for over two minutes,
// or more than five minutes behind, is a problem; retrying at all, or a recent refusal
// (samples dropped), is a warning.
function remoteTile(set, data) {
  const qs = (data && data.queues) || [];
  if (!qs.length) return set('remote', 'off', 0, '', h('p', { class: 'muted' }, 'No remote_write configured.'));
  const now = Date.now();
  const state = (q) => {
    const stuck = q.failing && (!q.lastSuccessMs || now - q.lastSuccessMs > 120e3);
    if (stuck || (q.lagSeconds !== null && q.lagSeconds > 300)) return 'crit';
    if (q.failing || (q.lastError && now - q.lastError.time < 600e3)) return 'warn';
    return 'ok';
  };
  const states = qs.map(state);
  const crit = states.filter((x) => x === 'crit').length;
  const warn = states.filter((x) => x === 'warn').length;
  const st = crit ? 'crit' : warn ? 'warn' : 'ok';
  const summary = crit ? `${crit} remote write queue${crit === 1 ? '' : 's'} not delivering` : warn ? 'remote write retrying or dropping' : '';
  set('remote', st, crit + warn, summary,
    h('div', { class: 'tile-big' }, crit ? `${crit} stuck` : `${qs.length} queue${qs.length === 1 ? '' : 's'}`,
      h('small', null, crit ? `of ${qs.length}` : 'delivering')),
    h('ul', null, qs.slice(0, 4).map((q, i) => h('li', { 'data-queue': q.name, 'data-status': states[i] },
      h('span', { class: `dot dot-${states[i] === 'ok' ? 'ok' : states[i]}` }), h('b', { class: 'nowrap' }, q.name),
      h('span', { class: 'muted small nowrap' }, q.protocol),
      h('span', { class: states[i] === 'ok' ? 'trunc muted' : 'trunc err-text', title: q.lastError ? q.lastError.message : q.url },
        states[i] === 'ok' ? (q.lagSeconds === null ? 'nothing sent yet' : `${fmtDuration(q.lagSeconds)} behind, ${fmtNum(q.pending)} pending`)
          : (q.lastError ? q.lastError.message : `${fmtDuration(q.lagSeconds || 0)} behind`))))),
    qs.length > 4 ? h('p', { class: 'muted small', style: 'margin:0' }, `and ${qs.length - 4} more`) : null);
}
