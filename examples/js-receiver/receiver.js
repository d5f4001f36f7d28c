// A Sightline receiver in JavaScript, written from the WIT alone (wit/v0.2/plugin.wit,
// contract sightline:plugin@0.2.0, world `receiver-plugin`).
//
// componentize-js embeds this module in SpiderMonkey and binds it to the world: the world's
// export, the `receiver` interface, is this module's `receiver` object, and each
// `sightline:plugin/...@0.2.0` interface the world imports is an ES module of the same name.
// WIT names arrive in camelCase (`group-key` is `groupKey`), `list<label>` as arrays of
// `{name, value}`, `s64`/`u64` as BigInt, variants as `{tag, val}`, and a `result` error as a
// thrown value. `notify` may be async: componentize-js runs the event loop until its promise
// settles, which is what lets it use `fetch` (the host's `wasi:http`, granted like `http`).
//
// What it does: posts the alert group as Alertmanager's webhook JSON (payload version 4) plus
// a `title` rendered by the host's Alertmanager templates (its `title` setting, by default the
// `__subject` template, e.g. `[FIRING:2] HighLoad (web-1)`) to its `url` setting, with
// `fetch`. 5xx and 429 answers are retryable failures (with the Retry-After header's wait),
// other non-2xx answers permanent ones. js-receiver.toml lets it reach the URL's host and
// nothing else.

import { nowMs } from 'sightline:plugin/clock@0.2.0';
import { log } from 'sightline:plugin/log@0.2.0';
import { render } from 'sightline:plugin/template@0.2.0';

// The title when the settings have none: Alertmanager's own subject line.
const DEFAULT_TITLE = '{{ template "__subject" . }}';

// The settings document (a flattened tree: `nodes[0]` is the root, lists and maps refer to
// their children by index) as a plain JavaScript value.
function settingsOf(doc) {
  if (doc.nodes.length === 0) return {};
  const value = (i) => {
    const { tag, val } = doc.nodes[i];
    switch (tag) {
      case 'null':
        return null;
      case 'integer':
        return Number(val);
      case 'list':
        return val.map(value);
      case 'map':
        return Object.fromEntries(val.map(([k, j]) => [k, value(j)]));
      default: // boolean, number, text
        return val;
    }
  };
  return value(0);
}

// `list<label>` as a plain object, the shape Alertmanager's JSON uses.
function kv(labels) {
  const out = {};
  for (const { name, value } of labels) out[name] = value;
  return out;
}

// Nanoseconds since the epoch as Go prints a time in JSON (RFC 3339, the fraction's trailing
// zeros trimmed); `undefined` is Go's zero time, which Alertmanager prints for no end.
function rfc3339(ns) {
  if (ns === undefined || ns === null) return '0001-01-01T00:00:00Z';
  const secs = ns / 1000000000n;
  const frac = (ns % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
  const whole = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return frac ? `${whole}.${frac}Z` : `${whole}Z`;
}

// Retry-After as milliseconds: delay-seconds or an HTTP date (against the host's clock: WASI's
// wall clock is frozen in the sandbox).
function retryAfterMs(header) {
  if (!header) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return BigInt(parseInt(header, 10) * 1000);
  const at = Date.parse(header);
  if (Number.isNaN(at)) return undefined;
  return BigInt(Math.max(0, at - Number(nowMs())));
}

const retryable = (message, retryAfter) => ({
  tag: 'retryable',
  val: { message, retryAfterMs: retryAfter },
});
const permanent = (message) => ({ tag: 'permanent', val: message });

// The `receiver` interface: `notify` is called once per notification, in a fresh instance.
export const receiver = {
  async notify(notification, document) {
    const settings = settingsOf(document);
    const url = settings.url;
    if (!url) throw permanent('js-receiver: the `url` setting is required');
    let title;
    try {
      title = render(settings.title ?? DEFAULT_TITLE);
    } catch (e) {
      // A template error cannot go away by retrying.
      throw permanent(`js-receiver: rendering the title: ${e.payload ?? e}`);
    }
    const payload = {
      version: '4',
      groupKey: notification.groupKey,
      truncatedAlerts: notification.truncatedAlerts,
      status: notification.status,
      receiver: notification.receiver,
      groupLabels: kv(notification.groupLabels),
      commonLabels: kv(notification.commonLabels),
      commonAnnotations: kv(notification.commonAnnotations),
      externalURL: notification.externalUrl,
      alerts: notification.alerts.map((a) => ({
        status: a.status,
        labels: kv(a.labels),
        annotations: kv(a.annotations),
        startsAt: rfc3339(a.startsAtNs),
        endsAt: rfc3339(a.endsAtNs),
        generatorURL: a.generatorUrl,
        fingerprint: a.fingerprint,
      })),
      title,
    };
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'sightline-js-receiver/0.2',
        },
        body: JSON.stringify(payload) + '\n',
      });
    } catch (e) {
      // A refused connection, a timeout or a denied host: worth another attempt, as
      // Alertmanager retries transport errors.
      throw retryable(`js-receiver: POST ${url} failed: ${e}`);
    }
    if (response.ok) {
      log('debug', `js-receiver: delivered ${notification.alerts.length} alert(s) to ${url}`);
      return;
    }
    const body = (await response.text()).slice(0, 200);
    const message = `js-receiver: ${url} answered ${response.status}: ${body}`;
    if (response.status >= 500 || response.status === 429) {
      throw retryable(message, retryAfterMs(response.headers.get('retry-after')));
    }
    throw permanent(message);
  },
};
