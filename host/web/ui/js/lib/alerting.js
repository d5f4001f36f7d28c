// Alerting helpers shared by the home, alerts and silences views: severity classes, label-set
// keys, and Alertmanager's matcher syntax and semantics (=, !=, =~, !~; regexes anchored at
// both ends; a missing label matches as the empty string).

/** The colour class of a severity label value. */
export function sevClass(s) {
  const v = String(s || '').toLowerCase();
  if (['critical', 'crit', 'page', 'error', 'high', 'emergency', 'fatal', 'p1', 'sev1'].includes(v)) return 'crit';
  if (['warning', 'warn', 'ticket', 'medium', 'major', 'p2', 'sev2'].includes(v)) return 'warn';
  if (['info', 'informational', 'low', 'notice', 'none', 'minor', 'p3', 'p4'].includes(v)) return 'info';
  return v ? 'info' : 'muted';
}

/** A stable key for a label set (sorted), to match the same alert across APIs. */
export function alertKey(labels) {
  return Object.keys(labels || {}).sort().map((k) => `${k}\u0000${labels[k]}`).join('\u0001');
}

/** Parses `{a="b", c=~"d.*"}` (braces optional) into [{name, value, isRegex, isEqual}]. */
export function parseMatchers(input) {
  let s = String(input || '').trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw new Error('missing closing “}”');
    s = s.slice(1, -1);
  }
  const out = [];
  let i = 0;
  const ws = () => { while (i < s.length && /[\s,]/.test(s[i])) i++; };
  ws();
  while (i < s.length) {
    const nm = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (!nm) throw new Error(`expected a label name at “${s.slice(i, i + 12)}”`);
    const name = nm[0];
    i += name.length;
    while (s[i] === ' ') i++;
    const op = /^(=~|!~|!=|=)/.exec(s.slice(i));
    if (!op) throw new Error(`expected =, !=, =~ or !~ after “${name}”`);
    i += op[0].length;
    while (s[i] === ' ') i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i];
        if (c === '\\' && i + 1 < s.length) {
          const n = s[i + 1];
          value += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
          continue;
        }
        if (c === '"') { closed = true; i++; break; }
        value += c;
        i++;
      }
      if (!closed) throw new Error(`unterminated quoted value for “${name}”`);
    } else {
      // Alertmanager also accepts unquoted values up to the next comma.
      const m = /^[^,}]*/.exec(s.slice(i));
      value = m[0].trim();
      i += m[0].length;
    }
    const isRegex = op[0].endsWith('~');
    if (isRegex) {
      try { new RegExp(`^(?:${value})$`); } catch (e) { throw new Error(`invalid regular expression for “${name}”: ${e.message}`); }
    }
    out.push({ name, value, isRegex, isEqual: op[0] === '=' || op[0] === '=~' });
    ws();
  }
  return out;
}

/** Formats matchers back into `{a="b", c=~"d"}`. */
export function formatMatchers(ms) {
  const q = (v) => '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
  return '{' + ms.map((m) => `${m.name}${matcherOp(m)}${q(m.value)}`).join(', ') + '}';
}

/** The operator of a matcher as text. */
export function matcherOp(m) {
  return m.isRegex ? (m.isEqual ? '=~' : '!~') : (m.isEqual ? '=' : '!=');
}

/** Whether one matcher matches a label set, with Alertmanager's semantics. */
export function matcherMatches(m, labels) {
  const v = labels && Object.prototype.hasOwnProperty.call(labels, m.name) ? String(labels[m.name]) : '';
  let hit;
  if (m.isRegex) {
    if (!m._re) m._re = new RegExp(`^(?:${m.value})$`);
    hit = m._re.test(v);
  } else hit = v === m.value;
  return m.isEqual ? hit : !hit;
}

/** Whether every matcher matches (a silence mutes an alert this way). */
export function matchesAll(ms, labels) {
  return ms.length > 0 && ms.every((m) => matcherMatches(m, labels));
}

/** The matcher string that pins an alert's identity: every label with `=`. */
export function matchersFor(labels) {
  const ms = Object.keys(labels || {}).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1))
    .map((k) => ({ name: k, value: labels[k], isRegex: false, isEqual: true }));
  return formatMatchers(ms);
}
