// Prometheus annotations of a dashboard (annotations.list entries with an `expr`): every
// sample of the query that is not zero marks an event; consecutive samples join into a
// region. Grafana's built-in annotations (its own database) have no source here.
import { fetchJSON } from './util.js';
import { interpolate, builtins } from './vars.js';
import { parseDuration } from './time.js';
import { legendName, sampleValue } from './query.js';
import { resolveColor } from './colors.js';

/** The annotation definitions this renderer can run. */
export function promAnnotations(dashboard) {
  const list = dashboard && dashboard.annotations && Array.isArray(dashboard.annotations.list) ? dashboard.annotations.list : [];
  return list.filter((a) => a && !a.builtIn && a.enable !== false && typeof a.expr === 'string' && a.expr.trim() && (!a.datasource || typeof a.datasource !== 'object' || !a.datasource.type || a.datasource.type === 'prometheus'));
}

/** Runs the annotations over a range: [{start, end (ms), color, title}]. */
export async function loadAnnotations(defs, { vars, range, signal }) {
  const out = [];
  await Promise.all(
    defs.map(async (a) => {
      const stepMs = Math.max(1000, parseDuration(a.step) || 60000);
      const rangeMs = range.to - range.from;
      const expr = interpolate(a.expr, vars, builtins({ intervalMs: stepMs, rateIntervalMs: Math.max(stepMs + 15000, 60000), rangeMs, from: range.from, to: range.to }));
      const start = Math.floor(range.from / stepMs) * stepMs;
      const p = new URLSearchParams({ query: expr, start: String(start / 1000), end: String(range.to / 1000), step: String(stepMs / 1000) });
      let body;
      try {
        body = await fetchJSON(`api/v1/query_range?${p}`, { signal });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        return;
      }
      const color = resolveColor(a.iconColor || 'red');
      for (const r of (body.data && body.data.result) || []) {
        const title = a.titleFormat ? legendName(r.metric || {}, a.titleFormat, a.name || expr) : a.name || expr;
        let cur = null;
        for (const [t, v] of r.values || []) {
          const x = sampleValue(v);
          const ms = t * 1000;
          if (!x || Number.isNaN(x)) {
            cur = null;
            continue;
          }
          if (cur && ms - cur.end <= stepMs) cur.end = ms;
          else out.push((cur = { start: ms, end: ms, color, title }));
        }
      }
    }),
  );
  return out;
}
