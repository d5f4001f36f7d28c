// A Sightline receiver in JavaScript, written from the WIT alone (wit/plugin.wit).
//
// componentize-js embeds this module in SpiderMonkey and binds it to the `receiver` world:
// the world's export `notify` is this module's `notify`, and each `sightline:plugin/...`
// interface the world imports is an ES module of the same name. WIT names arrive in
// camelCase (`group-key` is `groupKey`), `list<label>` as arrays of `{name, value}`,
// `list<u8>` as a Uint8Array, and a `result` error as a thrown value.
//
// What it does: posts the alert group as webhook-style JSON (Alertmanager's webhook payload
// version 4, plus a one-line `text` summary for chat tools) to the `url` setting of its
// alertmanager.yml entry, through the host's `http` import. js-receiver.toml lets it reach
// that URL's host and nothing else.

import { get } from 'sightline:plugin/config@0.1.0';
import { send } from 'sightline:plugin/http@0.1.0';
import { log } from 'sightline:plugin/log@0.1.0';

// `list<label>` as a plain object, the shape Alertmanager's JSON uses.
function kv(labels) {
  const out = {};
  for (const { name, value } of labels) out[name] = value;
  return out;
}

// Alertmanager's default title: `[FIRING:2] HighLoad (web-1)`.
function summary(group) {
  const firing = group.alerts.filter((a) => a.status === 'firing').length;
  const head = group.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  const labels = group.groupLabels.map((l) => l.value).join(' ');
  return labels ? `${head} ${labels}` : head;
}

// The `receiver` world's export: called once per notification, in a fresh instance.
export function notify(group) {
  const url = get('url');
  if (!url) throw 'js-receiver: the `url` setting is required';
  const payload = {
    version: group.version,
    groupKey: group.groupKey,
    truncatedAlerts: group.truncatedAlerts,
    status: group.status,
    receiver: group.receiver,
    groupLabels: kv(group.groupLabels),
    commonLabels: kv(group.commonLabels),
    commonAnnotations: kv(group.commonAnnotations),
    externalURL: group.externalUrl,
    alerts: group.alerts.map((a) => ({
      status: a.status,
      labels: kv(a.labels),
      annotations: kv(a.annotations),
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorURL: a.generatorUrl,
      fingerprint: a.fingerprint,
    })),
    text: summary(group),
  };
  let response;
  try {
    response = send({
      method: 'POST',
      url,
      headers: [
        ['Content-Type', 'application/json'],
        ['User-Agent', 'sightline-js-receiver/0.1'],
      ],
      body: new TextEncoder().encode(JSON.stringify(payload) + '\n'),
    });
  } catch (e) {
    // The import's `error` variant arrives as the thrown value's payload: `{tag, val}`.
    const err = e.payload ?? e;
    throw `js-receiver: POST failed: ${err.tag ?? 'error'}${err.val ? `: ${err.val}` : ''}`;
  }
  if (response.status < 200 || response.status > 299) {
    const body = new TextDecoder().decode(response.body).slice(0, 200);
    throw `js-receiver: ${url} answered ${response.status}: ${body}`;
  }
  log('debug', `js-receiver: delivered ${group.alerts.length} alert(s) to ${url}`);
}
