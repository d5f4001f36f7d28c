// Value formatting by Grafana's unit ids (fieldConfig.defaults.unit, the old graph panel's
// yaxes[].format). Each formatter returns {text, suffix, prefix} so stat panels can style the
// unit apart from the number; `formatValue` joins them.

const SI_UP = ['', ' k', ' M', ' G', ' T', ' P', ' E', ' Z', ' Y'];
const SI_DOWN = ['', ' m', ' µ', ' n', ' p', ' f', ' a', ' z', ' y'];
const SHORT = ['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint', ' Sext', ' Sept'];
const IEC = ['', ' Ki', ' Mi', ' Gi', ' Ti', ' Pi', ' Ei', ' Zi', ' Yi'];

/** Decimals that show a value readably when the panel does not fix them. */
export function autoDecimals(v) {
  const a = Math.abs(v);
  if (a === 0 || !Number.isFinite(a)) return 0;
  if (a >= 100) return 0;
  if (a >= 10) return 1;
  if (a >= 1) return 2;
  // Small values keep three significant digits.
  return Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(a))));
}

function fixed(v, decimals) {
  const d = decimals ?? autoDecimals(v);
  let s = v.toFixed(Math.max(0, Math.min(20, d)));
  // Auto decimals drop trailing zeros (1.50 -> 1.5); fixed decimals keep them like Grafana.
  if (decimals == null && s.includes('.')) s = s.replace(/\.?0+$/, '');
  return s;
}

function scaled(factor, steps, unit, offset = 0) {
  return (v, dec) => {
    let i = offset;
    let x = v;
    while (Math.abs(x) >= factor && i < steps.length - 1) {
      x /= factor;
      i++;
    }
    if (x !== 0) {
      while (Math.abs(x) < 1 && i > offset && i > 0) {
        x *= factor;
        i--;
      }
    }
    return { text: fixed(x, dec), suffix: steps[i] ? steps[i] + unit : unit ? ` ${unit}` : '' };
  };
}

function siScaled(unit) {
  // Scales up by 1000 (k, M, G) and down (m, µ, n) so 0.002 V reads "2 mV".
  return (v, dec) => {
    if (v === 0 || !Number.isFinite(v)) return { text: fixed(v, dec), suffix: ' ' + unit };
    let e = Math.floor(Math.log10(Math.abs(v)) / 3);
    e = Math.max(-8, Math.min(8, e));
    const x = v / Math.pow(1000, e);
    const p = e >= 0 ? SI_UP[e] : SI_DOWN[-e];
    return { text: fixed(x, dec), suffix: (p || ' ') + unit };
  };
}

function suffixed(s, base = scaled(1000, SHORT, '')) {
  return (v, dec) => {
    const r = base(v, dec);
    return { text: r.text, suffix: (r.suffix || '') + s };
  };
}

const TIME_STEPS = [
  [1e-9, 'ns'],
  [1e-6, 'µs'],
  [1e-3, 'ms'],
  [1, 's'],
  [60, 'min'],
  [3600, 'hour'],
  [86400, 'day'],
  [604800, 'week'],
  [31536000, 'year'],
];

function timeUnit(scaleToSeconds) {
  return (v, dec) => {
    const s = v * scaleToSeconds;
    const a = Math.abs(s);
    let [f, u] = TIME_STEPS[0];
    for (const [ff, uu] of TIME_STEPS) if (a >= ff) [f, u] = [ff, uu];
    if (a === 0) [f, u] = scaleToSeconds >= 1 ? [1, 's'] : TIME_STEPS.find((t) => t[0] === scaleToSeconds) || [1, 's'];
    return { text: fixed(s / f, dec), suffix: ' ' + u };
  };
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

/** `YYYY-MM-DD HH:mm:ss` in the browser's time zone, or in UTC. */
export function isoDateTime(ms, utc = false) {
  const d = new Date(ms);
  if (utc) return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fromNow(ms) {
  const s = (Date.now() - ms) / 1000;
  const a = Math.abs(s);
  const t = a < 60 ? `${Math.round(a)} seconds` : a < 3600 ? `${Math.round(a / 60)} minutes` : a < 86400 ? `${Math.round(a / 3600)} hours` : `${Math.round(a / 86400)} days`;
  return s >= 0 ? `${t} ago` : `in ${t}`;
}

const FORMATTERS = {
  none: (v, dec) => ({ text: fixed(v, dec), suffix: '' }),
  short: scaled(1000, SHORT, ''),
  percent: (v, dec) => ({ text: fixed(v, dec), suffix: '%' }),
  percentunit: (v, dec) => ({ text: fixed(v * 100, dec), suffix: '%' }),
  ns: timeUnit(1e-9),
  µs: timeUnit(1e-6),
  us: timeUnit(1e-6),
  ms: timeUnit(1e-3),
  s: timeUnit(1),
  m: timeUnit(60),
  h: timeUnit(3600),
  d: timeUnit(86400),
  bytes: scaled(1024, IEC, 'B'),
  decbytes: scaled(1000, SI_UP, 'B'),
  kbytes: scaled(1024, IEC, 'B', 1),
  mbytes: scaled(1024, IEC, 'B', 2),
  gbytes: scaled(1024, IEC, 'B', 3),
  bits: scaled(1024, IEC, 'b'),
  decbits: scaled(1000, SI_UP, 'b'),
  bps: scaled(1000, SI_UP, 'bps'),
  Bps: scaled(1000, SI_UP, 'B/s'),
  binbps: scaled(1024, IEC, 'bps'),
  binBps: scaled(1024, IEC, 'B/s'),
  KBs: scaled(1000, SI_UP, 'B/s', 1),
  MBs: scaled(1000, SI_UP, 'B/s', 2),
  reqps: suffixed(' req/s'),
  reqpm: suffixed(' req/min'),
  ops: suffixed(' ops/s'),
  opm: suffixed(' ops/min'),
  rps: suffixed(' rd/s'),
  wps: suffixed(' wr/s'),
  iops: suffixed(' io/s'),
  cps: suffixed(' c/s'),
  eps: suffixed(' evt/s'),
  mps: suffixed(' msg/s'),
  pps: suffixed(' pps'),
  hertz: siScaled('Hz'),
  volt: siScaled('V'),
  amp: siScaled('A'),
  watt: siScaled('W'),
  celsius: (v, dec) => ({ text: fixed(v, dec), suffix: '°C' }),
  fahrenheit: (v, dec) => ({ text: fixed(v, dec), suffix: '°F' }),
  currencyUSD: (v, dec) => ({ prefix: '$', ...scaled(1000, SHORT, '')(v, dec) }),
  currencyEUR: (v, dec) => ({ prefix: '€', ...scaled(1000, SHORT, '')(v, dec) }),
  dateTimeAsIso: (v) => ({ text: isoDateTime(v), suffix: '' }),
  dateTimeAsSystem: (v) => ({ text: isoDateTime(v), suffix: '' }),
  dateTimeFromNow: (v) => ({ text: fromNow(v), suffix: '' }),
  dtdurations: (v) => ({ text: humanDuration(v * 1000), suffix: '' }),
  dtdurationms: (v) => ({ text: humanDuration(v), suffix: '' }),
  bool: (v) => ({ text: v ? 'True' : 'False', suffix: '' }),
  bool_yes_no: (v) => ({ text: v ? 'Yes' : 'No', suffix: '' }),
  bool_on_off: (v) => ({ text: v ? 'On' : 'Off', suffix: '' }),
};
FORMATTERS.decmbytes = scaled(1000, SI_UP, 'B', 2);
FORMATTERS.deckbytes = scaled(1000, SI_UP, 'B', 1);
FORMATTERS.string = FORMATTERS.none;

function humanDuration(ms) {
  let s = Math.round(Math.abs(ms) / 1000);
  const parts = [];
  for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']]) {
    if (s >= n) {
      parts.push(Math.floor(s / n) + u);
      s %= n;
    }
  }
  return (ms < 0 ? '-' : '') + (parts.slice(0, 2).join(' ') || '0s');
}

/** Returns {prefix, text, suffix} for a value in a Grafana unit. */
export function formatParts(v, unit, decimals) {
  if (v == null || Number.isNaN(v)) return { prefix: '', text: 'No data', suffix: '' };
  if (v === Infinity) return { prefix: '', text: '+Inf', suffix: '' };
  if (v === -Infinity) return { prefix: '', text: '-Inf', suffix: '' };
  const u = unit || 'short';
  let f = FORMATTERS[u];
  if (!f) {
    if (u.startsWith('suffix:')) {
      const s = u.slice(7);
      f = (x, d) => ({ text: fixed(x, d), suffix: s });
    } else if (u.startsWith('prefix:')) {
      const p = u.slice(7);
      f = (x, d) => ({ prefix: p, text: fixed(x, d), suffix: '' });
    } else if (u.startsWith('si:')) {
      f = siScaled(u.slice(3));
    } else {
      // Grafana shows an unknown unit id as a suffix after the number.
      f = (x, d) => ({ text: fixed(x, d), suffix: ' ' + u });
    }
  }
  const r = f(v, decimals == null || decimals === '' ? undefined : Number(decimals));
  return { prefix: r.prefix || '', text: r.text, suffix: r.suffix || '' };
}

export function formatValue(v, unit, decimals) {
  const p = formatParts(v, unit, decimals);
  return p.prefix + p.text + p.suffix;
}

/** Axis tick formatter: per tick, enough decimals (in its scaled unit) to tell ticks apart. */
export function axisFormatter(unit, decimals) {
  return (u, splits, axisIdx, space, incr) =>
    splits.map((s) => {
      if (s == null) return '';
      let dec = decimals;
      if (dec == null && unit !== 'dateTimeAsIso' && s !== 0) {
        const probe = parseFloat(formatParts(s, unit).text);
        const scale = Number.isFinite(probe) && s ? Math.abs(probe / s) : 1;
        const inc = Math.abs(incr * scale);
        dec = inc >= 1 || !Number.isFinite(inc) || inc === 0 ? 0 : Math.min(6, Math.ceil(-Math.log10(inc) - 1e-9));
      } else if (dec == null) dec = 0;
      return formatValue(s, unit, dec);
    });
}
