// Silences: the alert manager's silences (active, pending, expired) with expire buttons, and a
// create form whose live preview evaluates the matchers client-side (Alertmanager's semantics)
// against the alert manager's current alerts, so you see what you are about to mute.

import { h, replace, poll, pageHeader, labelChips, badge, fmtTime, fmtAgo, empty, debounce, parseDuration, fmtDuration } from '../lib/dom.js';
import { parseMatchers, matchesAll, matcherOp, sevClass, formatMatchers } from '../lib/alerting.js';

const STATE_KIND = { active: 'ok', pending: 'info', expired: 'muted' };
const STATE_ORDER = { active: 0, pending: 1, expired: 2 };
const AUTHOR_KEY = 'sightline.silence.createdBy';
const PREVIEW_LIMIT = 100;

export default {
  title: 'Silences',
  async render(root, route, { api, setQuery, toast }) {
    const state = { filter: route.query.get('state') || 'all', q: route.query.get('q') || '', silences: [], alerts: [], err: null, loaded: false };
    const highlight = route.query.get('id');
    const body = h('div');
    const status = h('span', { class: 'updated' });
    const formBox = h('div');
    const newBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new', onclick: () => { setQuery({ new: '1' }); showForm(''); } }, 'New silence');
    const search = h('input', { type: 'search', placeholder: 'Filter by matcher, author or comment  ( / )', 'data-search': '', value: state.q, style: 'min-width:300px' });
    const segs = ['all', 'active', 'pending', 'expired'].map((v) => h('button', { type: 'button', 'data-filter': v, 'aria-pressed': String(state.filter === v), onclick: () => {
      state.filter = v;
      segs.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.filter === v)));
      setQuery({ state: v === 'all' ? null : v });
      draw();
    } }, v[0].toUpperCase() + v.slice(1)));
    search.addEventListener('input', debounce(() => { state.q = search.value; setQuery({ q: state.q || null }); draw(); }, 150));

    // First load decides whether the alert manager exists at all.
    let first;
    try {
      if (!(await api.features()).alertmanager) throw Object.assign(new Error('alert manager not configured'), { notFound: true });
      first = await Promise.all([api.get('api/v2/silences'), api.get('api/v2/alerts')]);
    } catch (e) {
      if (e.notFound) {
        root.append(pageHeader('Silences'), empty('Alert manager not configured',
          'Silences belong to the built-in alert manager. Start Sightline with --alertmanager.config.file to use them.'));
        return undefined;
      }
      throw e;
    }
    [state.silences, state.alerts] = first;
    state.loaded = true;
    root.append(pageHeader('Silences', 'Mute notifications for alerts matching a set of matchers, for a while.', status, newBtn),
      formBox, h('div', { class: 'toolbar' }, h('div', { class: 'seg', role: 'group', 'aria-label': 'State' }, segs), search), body);

    let refreshPreview = () => {};

    /** The create form, or with `edit` (a silence) the form that updates it in place. */
    function showForm(matchers, edit = null) {
      newBtn.hidden = true;
      let author = '';
      try { author = localStorage.getItem(AUTHOR_KEY) || ''; } catch (e) { /* private mode */ }
      if (edit) author = edit.createdBy;
      const remaining = edit ? Math.max(60, (Date.parse(edit.endsAt) - Date.now()) / 1000) : 0;
      const mIn = h('input', { name: 'matchers', class: 'mono', value: matchers, placeholder: '{alertname="HighLatency", instance=~"web-.*"}', autocomplete: 'off', spellcheck: 'false', required: true });
      const dIn = h('input', { name: 'duration', value: edit && remaining < 365 * 86400 ? `${Math.ceil(remaining / 60)}m` : '2h', placeholder: '2h', style: 'width:110px', autocomplete: 'off' });
      const endsOut = h('span', { class: 'muted small' });
      const byIn = h('input', { name: 'createdBy', value: author, placeholder: 'your name', required: true });
      const cIn = h('textarea', { name: 'comment', rows: '2', placeholder: 'Why? (ticket, maintenance, …)', required: true });
      if (edit) cIn.value = edit.comment;
      const mErr = h('div', { class: 'field-error', 'aria-live': 'polite' });
      const formErr = h('div', { class: 'field-error', 'aria-live': 'polite' });
      const preview = h('div', { class: 'preview', 'data-preview': '' });
      const previewHead = h('h3');
      const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, edit ? 'Update silence' : 'Create silence');
      const cancel = h('button', { type: 'button', class: 'btn', onclick: () => { setQuery({ new: null, matchers: null }); replace(formBox); newBtn.hidden = false; refreshPreview = () => {}; } }, 'Cancel');

      const update = () => {
        const d = parseDuration(dIn.value);
        replace(endsOut, isFinite(d) && d > 0 ? `ends ${fmtTime(Date.now() + d * 1000)} (in ${fmtDuration(d)})` : h('span', { class: 'field-error' }, 'a duration such as 30m, 2h or 1d'));
        let ms;
        try {
          ms = parseMatchers(mIn.value);
          replace(mErr);
          mIn.removeAttribute('aria-invalid');
        } catch (e) {
          replace(mErr, e.message);
          mIn.setAttribute('aria-invalid', 'true');
          replace(previewHead, 'Would mute: –');
          replace(preview);
          return;
        }
        if (!ms.length) { replace(previewHead, 'Would mute: –'); replace(preview, h('p', { class: 'muted' }, 'Enter at least one matcher.')); return; }
        const hits = state.alerts.filter((a) => matchesAll(ms, a.labels));
        replace(previewHead, `Would mute ${hits.length} of ${state.alerts.length} current alert${state.alerts.length === 1 ? '' : 's'}`);
        replace(preview, hits.length ? hits.slice(0, PREVIEW_LIMIT).map((a) => h('div', { 'data-alert': '', 'data-alertname': a.labels.alertname || '', 'data-fingerprint': a.fingerprint },
          h('b', null, a.labels.alertname || '(no name)'), ' ', a.labels.severity ? badge(a.labels.severity, sevClass(a.labels.severity)) : null, ' ',
          labelChips(a.labels, ['alertname', 'severity'])))
          : h('p', { class: 'muted' }, 'No current alert matches. The silence will still mute future alerts that match.'),
        hits.length > PREVIEW_LIMIT ? h('p', { class: 'muted' }, `and ${hits.length - PREVIEW_LIMIT} more`) : null);
      };
      refreshPreview = update;
      mIn.addEventListener('input', debounce(() => { setQuery({ matchers: mIn.value || null }); update(); }, 120));
      dIn.addEventListener('input', update);

      const form = h('form', { 'data-form': 'silence', class: 'panel', novalidate: true, onsubmit: async (ev) => {
        ev.preventDefault();
        replace(formErr);
        let ms;
        try { ms = parseMatchers(mIn.value); } catch (e) { replace(formErr, 'Matchers: ', e.message); mIn.focus(); return; }
        if (!ms.length) { replace(formErr, 'Enter at least one matcher.'); mIn.focus(); return; }
        const d = parseDuration(dIn.value);
        if (!isFinite(d) || d <= 0) { replace(formErr, 'Duration: use a duration such as 30m, 2h or 1d.'); dIn.focus(); return; }
        if (!byIn.value.trim()) { replace(formErr, 'Say who creates the silence.'); byIn.focus(); return; }
        if (!cIn.value.trim()) { replace(formErr, 'A comment is required (why is this muted?).'); cIn.focus(); return; }
        try { localStorage.setItem(AUTHOR_KEY, byIn.value.trim()); } catch (e) { /* private mode */ }
        const now = Date.now();
        submit.disabled = true;
        try {
          const r = await api.post('api/v2/silences', {
            // With its id, an active silence keeps its start and is updated in place (or, when
            // its matchers change, Alertmanager expires it and starts a new one).
            ...(edit ? { id: edit.id } : {}),
            matchers: ms.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual })),
            startsAt: edit && Date.parse(edit.startsAt) < now ? edit.startsAt : new Date(now).toISOString(),
            endsAt: new Date(now + d * 1000).toISOString(),
            createdBy: byIn.value.trim(),
            comment: cIn.value.trim(),
          });
          toast('ok', `Silence ${edit ? 'updated' : 'created'}${r && r.silenceID ? ': ' + r.silenceID : ''}`);
          setQuery({ new: null, matchers: null });
          replace(formBox);
          newBtn.hidden = false;
          refreshPreview = () => {};
          await load();
        } catch (e) {
          replace(formErr, e.message);
        } finally {
          submit.disabled = false;
        }
      } },
      h('div', { class: 'panel-head' }, h('h2', null, edit ? `Edit silence ${edit.id.slice(0, 8)}` : 'New silence')),
      h('div', { class: 'panel-body form-grid' },
        h('div', { class: 'stack' },
          h('label', { class: 'field' }, h('span', null, 'Matchers'), mIn, mErr,
            h('small', { class: 'muted' }, 'Alertmanager syntax: name="value", != , =~ "regex", !~ (regexes match the whole value).')),
          h('div', { style: 'display:flex;gap:12px;align-items:flex-end;flex-wrap:wrap' },
            h('label', { class: 'field' }, h('span', null, 'Duration'), dIn), endsOut),
          h('label', { class: 'field' }, h('span', null, 'Created by'), byIn),
          h('label', { class: 'field' }, h('span', null, 'Comment'), cIn),
          formErr,
          h('div', { class: 'tools' }, submit, cancel)),
        h('div', null, previewHead, preview)));
      replace(formBox, form);
      update();
      (matchers ? byIn.value ? cIn : byIn : mIn).focus();
    }

    function row(s) {
      const st = s.status.state;
      const muted = st === 'active' ? state.alerts.filter((a) => (a.status.silencedBy || []).includes(s.id)).length : null;
      return h('tr', { 'data-silence-id': s.id, 'data-state': st, class: s.id === highlight ? 'highlight' : null },
        h('td', null, badge(st, STATE_KIND[st] || 'muted')),
        h('td', null, h('span', { class: 'matchers' }, s.matchers.map((m) => h('span', { class: 'label' }, h('b', null, m.name), matcherOp(m), JSON.stringify(m.value))))),
        h('td', { class: 'num' }, muted === null ? '–' : String(muted)),
        h('td', null, s.createdBy),
        h('td', null, s.comment),
        h('td', { class: 'nowrap', title: `${fmtTime(s.startsAt)} → ${fmtTime(s.endsAt)}` },
          st === 'expired' ? `ended ${fmtAgo(s.endsAt)}` : st === 'pending' ? `starts ${fmtAgo(s.startsAt)}`
            // An acknowledgement's silence lasts until the alert resolves: its end is far away.
            : Date.parse(s.endsAt) - Date.now() > 365 * 86400e3 ? 'until the alert resolves' : `ends ${fmtAgo(s.endsAt)}`),
        h('td', { class: 'right nowrap' }, st !== 'expired' ? h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'edit', onclick: () => {
          setQuery({ new: null, matchers: null });
          showForm(formatMatchers(s.matchers), s);
          window.scrollTo(0, 0);
        } }, 'Edit') : null, ' ', st !== 'expired' ? h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'expire', onclick: async (ev) => {
          const b = ev.currentTarget;
          b.disabled = true;
          try {
            await api.del(`api/v2/silence/${encodeURIComponent(s.id)}`);
            toast('ok', `Silence ${s.id.slice(0, 8)} expired`);
            await load();
          } catch (e) {
            b.disabled = false;
            toast('crit', `Expire failed: ${e.message}`);
          }
        } }, 'Expire') : h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'recreate', title: 'A new silence with the same matchers', onclick: () => {
          const text = formatMatchers(s.matchers);
          setQuery({ new: '1', matchers: text });
          showForm(text);
          window.scrollTo(0, 0);
        } }, 'Recreate')));
    }

    function draw() {
      const q = state.q.toLowerCase();
      const all = state.silences;
      const counts = { active: 0, pending: 0, expired: 0 };
      for (const s of all) counts[s.status.state] = (counts[s.status.state] || 0) + 1;
      replace(status, `${counts.active} active · ${counts.pending} pending · ${counts.expired} expired`);
      const shown = all.filter((s) => (state.filter === 'all' || s.status.state === state.filter)
        && (!q || JSON.stringify([s.matchers, s.createdBy, s.comment, s.id]).toLowerCase().includes(q)))
        .sort((a, b) => STATE_ORDER[a.status.state] - STATE_ORDER[b.status.state] || (Date.parse(a.endsAt) - Date.parse(b.endsAt)) * (a.status.state === 'expired' ? -1 : 1));
      replace(body, state.err ? h('p', { class: 'refresh-error' }, 'Refresh failed: ', state.err.message) : null,
        !all.length ? empty('No silences', 'Nothing is muted. Create one with “New silence” or from an alert.')
          : !shown.length ? empty('No silence matches the filter')
            : h('section', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', null,
              h('thead', null, h('tr', null, h('th', null, 'State'), h('th', null, 'Matchers'), h('th', { class: 'num' }, 'Muting'),
                h('th', null, 'Created by'), h('th', null, 'Comment'), h('th', null, 'Time'), h('th'))),
              h('tbody', null, shown.map(row))))));
      refreshPreview();
    }

    const load = async () => {
      try {
        [state.silences, state.alerts] = await Promise.all([api.get('api/v2/silences'), api.get('api/v2/alerts')]);
        state.err = null;
      } catch (e) {
        state.err = e;
      }
      draw();
    };
    draw();
    if (route.query.get('new')) showForm(route.query.get('matchers') || '');
    return poll(load, 15000);
  },
};
