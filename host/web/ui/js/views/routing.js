// Routing: the alert manager's routing tree (api/v2/routes) drawn as a tree, and a label-set
// input that highlights the routes an alert with those labels takes. The path is computed here
// with Alertmanager's rules (depth first, children in order, the first match wins unless it has
// `continue`; a node with no matching child is where the alert stops) and, when the server
// offers it, api/v2/routes/test gives its own answer beside it.

import { h, replace, pageHeader, empty, badge, debounce } from '../lib/dom.js';
import { parseMatchers, matchesAll, matcherOp, formatMatchers } from '../lib/alerting.js';

/** Normalizes one route node from the API's JSON (camelCase or snake_case, matchers as strings or objects). */
function normalize(n, path = '0', parentTiming = [], parentGroup = null) {
  const ms = [];
  const raw = n.matchers || [];
  for (const m of Array.isArray(raw) ? raw : [raw]) {
    if (typeof m === 'string') {
      try { ms.push(...parseMatchers(m)); } catch (e) { ms.push({ name: m, value: '', isRegex: false, isEqual: true, bad: true }); }
    } else if (m && typeof m === 'object') {
      const op = m.type || m.op || m.operator;
      ms.push({ name: m.name, value: m.value, isRegex: m.isRegex ?? (op === '=~' || op === '!~'), isEqual: m.isEqual ?? !(op === '!=' || op === '!~') });
    }
  }
  for (const [k, v] of Object.entries(n.match || {})) ms.push({ name: k, value: v, isRegex: false, isEqual: true });
  for (const [k, v] of Object.entries(n.match_re || n.matchRe || {})) ms.push({ name: k, value: v, isRegex: true, isEqual: true });
  const kids = n.routes || n.children || [];
  const groupBy = n.group_by_all || n.groupByAll ? ['…'] : n.group_by || n.groupBy || null;
  // The server resolves every node's timing; show only what differs from the parent's.
  const timing = ['group_wait', 'groupWait', 'group_interval', 'groupInterval', 'repeat_interval', 'repeatInterval']
    .filter((k) => n[k] !== undefined && n[k] !== null).map((k) => `${k.replace(/([A-Z])/g, '_$1').toLowerCase()}: ${n[k]}`);
  return {
    path,
    receiver: n.receiver || '',
    matchers: ms,
    cont: !!(n.continue ?? n.continue_),
    groupBy: JSON.stringify(groupBy) === JSON.stringify(parentGroup) ? null : groupBy,
    timing: timing.filter((t) => !parentTiming.includes(t)),
    muteTimes: n.mute_time_intervals || n.muteTimeIntervals || [],
    activeTimes: n.active_time_intervals || n.activeTimeIntervals || [],
    routes: kids.map((c, i) => normalize(c, `${path}.${i}`, timing, groupBy)),
  };
}

/** Alertmanager's Route.Match: the nodes where an alert with these labels ends up. */
function matchRoute(node, labels, isRoot = true) {
  if (!isRoot && !matchesAll(node.matchers, labels) && node.matchers.length) return [];
  const out = [];
  for (const c of node.routes) {
    const m = matchRoute(c, labels, false);
    out.push(...m);
    if (m.length && !c.cont) break;
  }
  return out.length ? out : [node];
}

function collectReceivers(x, out = new Set(), depth = 0) {
  if (!x || depth > 6) return out;
  if (Array.isArray(x)) x.forEach((v) => collectReceivers(v, out, depth + 1));
  else if (typeof x === 'object') {
    if (typeof x.receiver === 'string') out.add(x.receiver);
    for (const v of Object.values(x)) if (v && typeof v === 'object') collectReceivers(v, out, depth + 1);
  }
  return out;
}

export default {
  title: 'Routing',
  async render(root, route, { api, setQuery }) {
    let raw;
    try {
      if (!(await api.features()).alertmanager) throw Object.assign(new Error('alert manager not configured'), { notFound: true, noAm: true });
      raw = await api.get('api/v2/routes');
    } catch (e) {
      if (e.notFound) {
        // Either the alert manager is absent or this build has no routes endpoint: tell which.
        root.append(pageHeader('Routing'), e.noAm
          ? empty('Alert manager not configured', 'Start Sightline with --alertmanager.config.file to route alerts to receivers.')
          : empty('The routing tree is not available in this build', 'This server has no api/v2/routes endpoint yet. The route configuration is visible on the Status page of the alert manager (api/v2/status).'));
        return undefined;
      }
      throw e;
    }
    const top = normalize(raw && (raw.route || raw.data || raw));
    const nodes = new Map();
    const labelsIn = h('input', { class: 'mono', name: 'labels', 'data-search': '', placeholder: '{alertname="HighLatency", severity="page"}',
      value: route.query.get('labels') || '', style: 'min-width:460px', autocomplete: 'off', spellcheck: 'false' });
    const result = h('div', { class: 'small', 'aria-live': 'polite' });
    const tree = h('ul', { class: 'tree' });

    const drawNode = (n) => {
      const el = h('div', { class: 'route-node', 'data-route': n.path, 'data-receiver': n.receiver },
        n.path === '0' ? badge('root', 'info') : null,
        n.matchers.length ? h('span', { class: 'matchers' }, n.matchers.map((m) => h('span', { class: 'label' }, h('b', null, m.name), matcherOp(m), JSON.stringify(m.value))))
          : n.path === '0' ? null : h('span', { class: 'muted small' }, 'matches everything'),
        h('span', { class: 'muted' }, '→'), h('span', { class: 'recv' }, n.receiver || '(inherited)'),
        n.groupBy ? h('span', { class: 'muted small' }, n.groupBy[0] === '…' ? 'group by all labels' : `group by ${n.groupBy.join(', ') || '(nothing)'}`) : null,
        n.cont ? badge('continue', 'muted') : null,
        n.timing.length ? h('span', { class: 'muted small mono' }, n.timing.join(' · ')) : null,
        n.muteTimes.length ? h('span', { class: 'muted small' }, `muted: ${n.muteTimes.join(', ')}`) : null,
        n.activeTimes.length ? h('span', { class: 'muted small' }, `active: ${n.activeTimes.join(', ')}`) : null);
      nodes.set(n.path, el);
      return h('li', null, el, n.routes.length ? h('ul', null, n.routes.map(drawNode)) : null);
    };
    tree.appendChild(drawNode(top));

    let noServerTest = false;
    const highlight = (paths) => {
      for (const el of nodes.values()) el.classList.remove('matched', 'on-path');
      for (const path of paths) {
        nodes.get(path)?.classList.add('matched');
        const parts = path.split('.');
        for (let i = 1; i < parts.length; i++) nodes.get(parts.slice(0, i).join('.'))?.classList.add('on-path');
      }
    };
    const test = async () => {
      highlight([]);
      const text = labelsIn.value.trim();
      setQuery({ labels: text || null });
      if (!text) { replace(result, h('span', { class: 'muted' }, 'Enter a label set to see which routes it takes.')); return; }
      let ms;
      try {
        ms = parseMatchers(text);
        if (ms.some((m) => m.isRegex || !m.isEqual)) throw new Error('a label set uses only name="value" pairs');
      } catch (e) { replace(result, h('span', { class: 'field-error' }, e.message)); return; }
      const labels = Object.fromEntries(ms.map((m) => [m.name, m.value]));
      // The server's answer (amtool's `config routes test`) is authoritative when this build has
      // it; the tree walk here is the fallback and a cross-check.
      const hits = matchRoute(top, labels);
      let server = null;
      if (!noServerTest) {
        server = await api.optional(api.get('api/v2/routes/test', { labels: formatMatchers(ms) })).catch((e) => ({ error: e.message }));
        // Asked once: a build without the endpoint answers 404 every time.
        if (server === null) noServerTest = true;
      }
      const serverPaths = server && Array.isArray(server.routes) && server.routes.every((r) => Array.isArray(r.path))
        ? server.routes.map((r) => ['0', ...r.path].join('.')) : null;
      const paths = serverPaths || hits.map((n) => n.path);
      const receivers = server && Array.isArray(server.receivers) ? server.receivers : serverPaths ? [...collectReceivers(server.routes)] : hits.map((n) => n.receiver);
      highlight(paths);
      replace(result, 'Goes to ', receivers.map((r, i) => [i ? ', ' : '', h('b', { 'data-result-receiver': r }, r || '(inherited)')]));
      if (server && server.error) result.appendChild(h('div', { class: 'field-error' }, `The server's route test failed: ${server.error}`));
      else if (serverPaths && serverPaths.join() !== hits.map((n) => n.path).join()) {
        result.appendChild(h('div', { class: 'muted small' }, 'The server resolves this differently from the tree walk in the browser; the highlight follows the server.'));
      }
    };
    labelsIn.addEventListener('input', debounce(test, 250));
    labelsIn.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') test(); });

    root.append(pageHeader('Routing', 'Which receiver gets an alert: the routing tree, depth first, the first matching route wins unless it says continue.'),
      h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', null, 'Test a label set'), labelsIn, result)),
      h('section', { class: 'panel' }, h('div', { class: 'panel-body' }, tree)));
    await test();
    return undefined;
  },
};
