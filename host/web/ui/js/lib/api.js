// Fetch helpers. Every URL is relative (no leading slash) so that the document's <base href>
// (rewritten by the server to the route prefix) applies: the UI works behind
// --web.external-url / --web.route-prefix without knowing the prefix.

/** A failed API call: HTTP status (0 for a network failure) and the server's message. */
export class ApiError extends Error {
  constructor(message, status, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.path = path;
  }
  /** The feature behind this path is absent (not configured or not in this build). */
  get notFound() { return this.status === 404; }
  /** The daemon is starting (replaying its WAL) and answers 503 until it is ready. */
  get starting() { return this.status === 503; }
}

/** Listeners told whether the last call saw the daemon starting (503) or answering again. */
const listeners = new Set();
export function onAvailability(fn) { listeners.add(fn); return () => listeners.delete(fn); }
let starting = false;
function setStarting(v) {
  if (v === starting) return;
  starting = v;
  for (const fn of listeners) { try { fn(v); } catch (e) { /* a listener's bug must not break fetches */ } }
}

/** Builds a relative URL with query parameters (arrays repeat the key; null/undefined skip it). */
export function url(path, params) {
  if (!params) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, v);
  }
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

// GETs of the same URL in flight at once share one request (the nav bar and a view often ask
// the same thing as a page loads). Callers must not mutate what they get.
const inflight = new Map();

function request(path, opts = {}) {
  const method = opts.method || 'GET';
  if (method !== 'GET' || opts.signal) return send(path, opts);
  const u = url(path, opts.params);
  let p = inflight.get(u);
  if (!p) {
    p = send(path, opts).finally(() => inflight.delete(u));
    inflight.set(u, p);
  }
  return p;
}

async function send(path, { method = 'GET', params, body, signal, timeout = 30000 } = {}) {
  const u = url(path, params);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  if (signal) signal.addEventListener('abort', () => ctl.abort(), { once: true });
  let res;
  try {
    res = await fetch(u, {
      method,
      headers: body !== undefined ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ctl.signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    clearTimeout(timer);
    const why = ctl.signal.aborted && !(signal && signal.aborted) ? `timed out after ${timeout / 1000}s` : (e && e.message) || String(e);
    throw new ApiError(`${method} ${u}: ${why}`, 0, path);
  }
  let text;
  try { text = await res.text(); } finally { clearTimeout(timer); }
  let json = null;
  if (text) { try { json = JSON.parse(text); } catch (e) { json = null; } }
  if (res.status === 503) setStarting(true);
  else if (res.status < 500) setStarting(false);
  if (!res.ok || (json && json.status === 'error')) {
    // Prometheus: {status:"error", error}; Alertmanager: a JSON string or {code, message}.
    let msg = (json && (json.error || json.message)) || (typeof json === 'string' ? json : '') || text.trim() || res.statusText;
    if (json && json.errorType && json.error) msg = `${json.errorType}: ${json.error}`;
    throw new ApiError(`${method} ${path}: ${res.status} ${msg}`.trim(), res.status, path);
  }
  if (json === null && method === 'GET') throw new ApiError(`${method} ${path}: the answer is not JSON (${(res.headers.get('Content-Type') || 'no content type')})`, res.status, path);
  return json;
}

/** GET a JSON document as is (Alertmanager v2, Grafana API). */
export function get(path, params, opts = {}) { return request(path, { ...opts, params }); }

/** GET a Prometheus-style API (`{status, data}`), returning data. */
export async function v1(path, params, opts = {}) {
  const j = await request(path, { ...opts, params });
  return j && 'data' in j ? j.data : j;
}

/** POST a JSON body. */
export function post(path, body, opts = {}) { return request(path, { ...opts, method: 'POST', body: body === undefined ? {} : body }); }

/** DELETE a resource. */
export function del(path, opts = {}) { return request(path, { ...opts, method: 'DELETE' }); }

/** Resolves to the value, or to `fallback` when the feature is absent (404). */
export async function optional(promise, fallback = null) {
  try { return await promise; } catch (e) {
    if (e instanceof ApiError && e.notFound) return fallback;
    throw e;
  }
}

/** Instant query; returns data ({resultType, result}). */
export function query(expr, params = {}) { return v1('api/v1/query', { query: expr, ...params }); }

/** Instant query returning the first sample's value as a number, or null when there is none. */
export async function scalar(expr) {
  const d = await query(expr);
  if (!d) return null;
  if (d.resultType === 'scalar') return parseFloat(d.result[1]);
  if (Array.isArray(d.result) && d.result.length) return parseFloat(d.result[0].value[1]);
  return null;
}

let featuresPromise = null;
/**
 * What this server runs, from its flags (fetched once per page load): `alertmanager` is true
 * when the built-in alert manager is configured. Views ask this before calling api/v2, so an
 * absent alert manager costs no 404 (which Chromium would log as a console error).
 */
export function features() {
  if (!featuresPromise) {
    featuresPromise = v1('api/v1/status/flags').then(
      (f) => ({ alertmanager: !!(f && f['alertmanager.config.file']), flags: f || {} }),
      (e) => { featuresPromise = null; if (e.starting) throw e; return { alertmanager: true, flags: {} }; });
  }
  return featuresPromise;
}
