// Time ranges as Grafana writes them (`now-1h`, `now/d`, epoch milliseconds, ISO dates),
// Prometheus durations, and Grafana's interval/step arithmetic.

const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 };

/** Prometheus duration (`1h30m`, `15s`, `100ms`) in milliseconds, or null. */
export function parseDuration(s) {
  if (s == null) return null;
  const str = String(s).trim();
  if (!str) return null;
  if (/^\d+(\.\d+)?$/.test(str)) return Number(str) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  let total = 0;
  let used = 0;
  let m;
  while ((m = re.exec(str))) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    used += m[0].length;
  }
  return used === str.length && used > 0 ? total : null;
}

/** Milliseconds as the shortest exact Prometheus duration (`90000` → `1m30s`). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms);
  let out = '';
  for (const u of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / UNIT_MS[u]);
    if (n > 0) {
      out += n + u;
      rest -= n * UNIT_MS[u];
    }
  }
  return out;
}

function startOf(d, unit) {
  const x = new Date(d);
  switch (unit) {
    case 'y':
      x.setMonth(0, 1);
    // falls through
    case 'M':
      if (unit === 'M') x.setDate(1);
    // falls through
    case 'd':
      x.setHours(0, 0, 0, 0);
      break;
    case 'w':
      x.setDate(x.getDate() - x.getDay());
      x.setHours(0, 0, 0, 0);
      break;
    case 'h':
      x.setMinutes(0, 0, 0);
      break;
    case 'm':
      x.setSeconds(0, 0);
      break;
    case 's':
      x.setMilliseconds(0);
      break;
  }
  return x;
}

function addUnit(d, n, unit) {
  const x = new Date(d);
  if (unit === 'M') x.setMonth(x.getMonth() + n);
  else if (unit === 'y') x.setFullYear(x.getFullYear() + n);
  else x.setTime(x.getTime() + n * UNIT_MS[unit]);
  return x;
}

/**
 * Grafana's date math: `now`, `now-1h`, `now-1d/d`, `now/w`; epoch milliseconds; ISO dates.
 * `roundUp` rounds `/unit` to the end of the unit (used for `to`). Returns ms or NaN.
 */
export function parseTime(s, roundUp = false, now = Date.now()) {
  if (s == null) return NaN;
  const str = String(s).trim();
  if (/^\d{10,}$/.test(str)) return Number(str);
  if (!str.startsWith('now')) {
    const t = Date.parse(str.includes('T') || !/^\d{4}-\d\d-\d\d \d/.test(str) ? str : str.replace(' ', 'T'));
    return Number.isNaN(t) ? NaN : t;
  }
  let d = new Date(now);
  let i = 3;
  while (i < str.length) {
    const c = str[i];
    if (c === '/') {
      const unit = str[i + 1];
      if (!'smhdwMy'.includes(unit)) return NaN;
      d = startOf(d, unit);
      if (roundUp) d = new Date(addUnit(d, 1, unit).getTime() - 1);
      i += 2;
    } else if (c === '+' || c === '-') {
      const m = /^(\d+)([smhdwMy])/.exec(str.slice(i + 1));
      if (!m) return NaN;
      d = addUnit(d, (c === '-' ? -1 : 1) * Number(m[1]), m[2]);
      i += 1 + m[0].length;
    } else return NaN;
  }
  return d.getTime();
}

export const QUICK_RANGES = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
  ['now/d', 'Today', 'now/d'],
  ['now-1d/d', 'Yesterday', 'now-1d/d'],
];

/** A human description of a range (`Last 1 hour`, or the two absolute times). */
export function describeRange(from, to, fmt) {
  if (to === 'now') {
    const q = QUICK_RANGES.find((r) => r[0] === from && !r[2]);
    if (q) return q[1];
    const m = /^now-(\d+)([smhdwMy])$/.exec(from);
    if (m) {
      const names = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', M: 'month', y: 'year' };
      return `Last ${m[1]} ${names[m[2]]}${m[1] === '1' ? '' : 's'}`;
    }
  }
  const q = QUICK_RANGES.find((r) => r[0] === from && r[2] === to);
  if (q) return q[1];
  const f = (s, up) => (/^now/.test(s) ? s : fmt(parseTime(s, up)));
  return `${f(from)} to ${f(to, true)}`;
}

/** Grafana's rounding of an interval to a "nice" value (rangeutil.roundInterval). */
export function roundInterval(ms) {
  const table = [
    [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500],
    [1500, 1000], [3500, 2000], [7500, 5000], [12500, 10000], [17500, 15000],
    [25000, 20000], [45000, 30000], [90000, 60000], [210000, 120000], [450000, 300000],
    [750000, 600000], [1050000, 900000], [1500000, 1200000], [2700000, 1800000],
    [5400000, 3600000], [9000000, 7200000], [16200000, 10800000], [32400000, 21600000],
    [86400000, 43200000], [604800000, 86400000], [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [limit, v] of table) if (ms <= limit) return v;
  return 31536000000;
}

export const DEFAULT_SCRAPE_MS = 15000;

/**
 * The interval of a panel query as Grafana computes it: range / max data points, rounded, at
 * least the min interval (the target's or panel's `interval`, else the scrape interval).
 * Returns {intervalMs, stepMs, rateIntervalMs}: `stepMs` is the Prometheus data source's step
 * (also kept under 11,000 points per series), `rateIntervalMs` is $__rate_interval.
 */
export function panelInterval(rangeMs, maxDataPoints, minInterval, scrapeMs = DEFAULT_SCRAPE_MS) {
  const points = Math.max(1, Math.floor(maxDataPoints || 1000));
  const lowLimit = parseDuration(minInterval) || scrapeMs;
  let intervalMs = roundInterval(rangeMs / points);
  if (intervalMs < lowLimit) intervalMs = lowLimit;
  // Prometheus rejects more than 11,000 points per series.
  let safe = rangeMs / 11000;
  if (safe > 1000) safe = Math.ceil(safe / 1000) * 1000;
  const stepMs = Math.max(intervalMs, lowLimit, safe);
  const rateIntervalMs = Math.max(intervalMs + scrapeMs, 4 * scrapeMs);
  return { intervalMs, stepMs, rateIntervalMs };
}

/** Grafana's Prometheus range alignment: start and end floored to multiples of the step. */
export function alignRange(startMs, endMs, stepMs) {
  return {
    start: Math.floor(startMs / stepMs) * stepMs,
    end: Math.floor(endMs / stepMs) * stepMs,
  };
}
