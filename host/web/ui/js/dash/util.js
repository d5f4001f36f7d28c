// Small helpers of the dashboard side: element building, JSON fetches with Prometheus'
// error shape, and a concurrency limiter. Kept here (not in lib/) so the dashboard code
// does not depend on the shell's modules; the integrator may fold them together later.

/** h('div', {class: 'x', 'data-a': 1, onclick: fn}, child, [children], 'text') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'class') el.className = v;
      else if (k === 'value' && 'value' in el) el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An error from the API, with the HTTP status and Prometheus' errorType when known. */
export class ApiError extends Error {
  constructor(message, status, errorType) {
    super(message);
    this.status = status;
    this.errorType = errorType;
  }
}

/**
 * Fetches JSON from a URL relative to the document's <base>. Prometheus' `{status: "error"}`
 * bodies and Grafana's `{message}` bodies become ApiErrors carrying their message.
 */
export async function fetchJSON(url, opts = {}) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, ...opts });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`network error: ${e.message}`, 0);
  }
  if (res.ok) {
    // The common case parses straight from the stream (large range answers are megabytes).
    let ok;
    try {
      ok = await res.json();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(`invalid JSON from ${String(url).split('?')[0]}`, res.status);
    }
    if (ok && ok.status === 'error') throw new ApiError(ok.error || 'error', res.status, ok.errorType);
    return ok;
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok || (body && body.status === 'error')) {
    const msg = (body && (body.error || body.message)) || `${res.status} ${res.statusText}`.trim();
    throw new ApiError(msg, res.status, body && body.errorType);
  }
  return body;
}

/** POSTs a form (Prometheus accepts long queries this way). */
export function postForm(url, params, opts = {}) {
  return fetchJSON(url, {
    ...opts,
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

/** Runs at most `n` of the given async jobs at once (panels fetch in parallel, bounded). */
export function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || !queue.length) return;
    active++;
    const { fn, resolve, reject } = queue.shift();
    Promise.resolve()
      .then(fn)
      .then(resolve, reject)
      .finally(() => {
        active--;
        next();
      });
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      queue.push({ fn, resolve, reject });
      next();
    });
}

/** Reads a CSS custom property of the page (theme colours), with a fallback. */
export function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function debounce(fn, ms) {
  let t = 0;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

/** Prometheus' series name for a label set: `name{a="b", c="d"}`. */
export function seriesName(metric) {
  const name = metric.__name__ || '';
  const labels = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length ? `${name}{${labels.join(', ')}}` : name || '{}';
}

/** Grafana's slug of a title (lowercase, non-alphanumerics become single dashes). */
export function slugify(title) {
  return String(title || '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Puts the view's whole state into the URL's query: through the shell's ctx.setQuery, then
 * checked, so the URL holds exactly these parameters (repeated `var-x` included) whatever
 * merging the shell does.
 */
export function setUrlQuery(ctx, params, { replace = true } = {}) {
  const want = params.toString();
  if (ctx && typeof ctx.setQuery === 'function') {
    try {
      ctx.setQuery(params, { replace });
    } catch {
      // The history API below still records the state.
    }
  }
  if (location.search.replace(/^\?/, '') !== want) {
    const url = `${location.pathname}${want ? `?${want}` : ''}${location.hash}`;
    if (replace || (ctx && typeof ctx.setQuery === 'function')) history.replaceState(history.state, '', url);
    else history.pushState(history.state, '', url);
  }
}

/** A link target that is safe to put in an href: http(s), mailto, or relative. */
export function safeUrl(url) {
  const u = String(url || '').trim();
  if (!u) return null;
  if (/^(https?:|mailto:)/i.test(u)) return u;
  if (/^[a-z][a-z0-9+.-]*:/i.test(u) || u.startsWith('//')) return null;
  return u.replace(/^\/+/, '');
}
