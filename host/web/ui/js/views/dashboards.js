// The dashboards list (Grafana's api/search): title, tags, a read-only badge for dashboards
// from plugins or provisioning, a filter box (`/` focuses it), delete for stored dashboards,
// and an import box that POSTs pasted JSON to api/dashboards/db.
import { fetchJSON, h, limiter, setUrlQuery, slugify } from '../dash/util.js';

function isReadOnly(d) {
  return !!(d.readOnly || d.provisioned || d.plugin || (d.meta && d.meta.provisioned));
}

export default {
  title: 'Dashboards',
  async render(root, route, ctx) {
    const filter = h('input', { type: 'search', name: 'filter', class: 'dash-filter', placeholder: 'Filter dashboards by title or tag (press /)', 'aria-label': 'Filter dashboards', value: route.query.get('query') || '' });
    const list = h('ul', { class: 'dash-list', 'aria-label': 'Dashboards' });
    const status = h('p', { class: 'explore-msg', role: 'status' });
    let items = [];

    function draw() {
      const q = filter.value.trim().toLowerCase();
      const shown = items.filter((d) => !q || String(d.title).toLowerCase().includes(q) || (d.tags || []).some((t) => String(t).toLowerCase().includes(q)));
      list.replaceChildren(
        ...shown.map((d) => {
          const ro = isReadOnly(d);
          const href = `d/${encodeURIComponent(d.uid)}/${slugify(d.title)}`;
          // Two clicks delete (the first asks), with no blocking window.confirm dialog.
          const del = ro
            ? null
            : h('button', {
                type: 'button',
                class: 'btn btn-danger',
                'data-action': 'delete',
                title: `Delete ${d.title}`,
                onclick: (e) => {
                  const b = e.currentTarget;
                  if (b.dataset.confirm === '1') remove(d);
                  else {
                    b.dataset.confirm = '1';
                    b.textContent = 'Really delete?';
                    setTimeout(() => {
                      if (b.isConnected) {
                        b.dataset.confirm = '';
                        b.textContent = 'Delete';
                      }
                    }, 4000);
                  }
                },
              }, 'Delete');
          return h(
            'li',
            null,
            h('a', { href, 'data-dashboard-uid': d.uid, 'data-readonly': ro ? '' : null }, d.title),
            ro ? h('span', { class: 'badge', title: 'Provided by a plugin or provisioned; read-only' }, 'read-only') : null,
            h('span', { class: 'dash-list-tags' }, (d.tags || []).map((t) => h('span', { class: 'badge dash-tag' }, t))),
            del,
          );
        }),
      );
      status.textContent = items.length ? (shown.length ? '' : 'No dashboard matches the filter.') : 'No dashboards yet: import one below, or install a dashboard plugin.';
      list.hidden = !shown.length;
    }

    async function load() {
      try {
        const r = await fetchJSON('api/search?type=dash-db');
        items = Array.isArray(r) ? r.filter((d) => d.type !== 'dash-folder') : [];
        // Grafana's search does not say which dashboards are read-only; when the server adds
        // no marker, a short list asks each dashboard's meta (provisioned = from a plugin).
        const marked = items.some((d) => 'readOnly' in d || 'provisioned' in d || 'plugin' in d);
        if (!marked && items.length && items.length <= 50) {
          const run = limiter(6);
          await Promise.all(
            items.map((d) =>
              run(() =>
                fetchJSON(`api/dashboards/uid/${encodeURIComponent(d.uid)}`)
                  .then((full) => {
                    d.readOnly = !!(full && full.meta && (full.meta.provisioned || full.meta.canSave === false));
                  })
                  .catch(() => {}),
              ),
            ),
          );
        }
      } catch (e) {
        items = [];
        status.textContent = `Could not list dashboards: ${e.message}`;
        list.hidden = true;
        return;
      }
      draw();
    }

    async function remove(d) {
      try {
        await fetchJSON(`api/dashboards/uid/${encodeURIComponent(d.uid)}`, { method: 'DELETE' });
        await load();
        importMsg.className = 'dash-msg-ok';
        importMsg.textContent = `Deleted "${d.title}".`;
      } catch (e) {
        importMsg.className = 'dash-msg-error';
        importMsg.textContent = e.status === 404 || e.status === 405 ? 'Deleting dashboards is not available in this build.' : `Delete failed: ${e.message}`;
      }
    }

    // Import: paste a Grafana dashboard JSON (bare, or as {dashboard: ...}).
    const text = h('textarea', { name: 'dashboard-json', spellcheck: 'false', 'aria-label': 'Dashboard JSON', placeholder: '{ "title": "Service Health", "panels": [ ... ] }' });
    const overwrite = h('input', { type: 'checkbox', name: 'overwrite' });
    const importMsg = h('span', { role: 'status' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Import');
    const file = h('input', { type: 'file', accept: '.json,application/json', 'aria-label': 'Load dashboard JSON from a file' });
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (f) text.value = await f.text();
    });
    const form = h(
      'form',
      { 'data-form': 'import' },
      text,
      h('div', { class: 'dash-import-actions' }, submit, file, h('label', null, overwrite, ' Overwrite a dashboard with the same uid'), importMsg),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      let model;
      try {
        model = JSON.parse(text.value);
      } catch (err) {
        importMsg.className = 'dash-msg-error';
        importMsg.textContent = `Not valid JSON: ${err.message}`;
        return;
      }
      const dashboard = model && model.dashboard ? model.dashboard : model;
      if (!dashboard || typeof dashboard !== 'object' || Array.isArray(dashboard)) {
        importMsg.className = 'dash-msg-error';
        importMsg.textContent = 'The JSON must be a dashboard object.';
        return;
      }
      submit.disabled = true;
      try {
        const r = await fetchJSON('api/dashboards/db', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ dashboard, overwrite: overwrite.checked || !!(model && model.overwrite) }),
        });
        importMsg.className = 'dash-msg-ok';
        importMsg.textContent = `Imported "${dashboard.title || r.uid}".`;
        text.value = '';
        await load();
        if (r && r.uid) ctx.navigate(`d/${encodeURIComponent(r.uid)}/${r.slug || slugify(dashboard.title)}`);
      } catch (err) {
        importMsg.className = 'dash-msg-error';
        if (err.status === 404 || err.status === 405) importMsg.textContent = 'Importing dashboards is not available in this build.';
        else if (err.status === 412) importMsg.textContent = `${err.message} (tick "Overwrite" to replace it).`;
        else importMsg.textContent = `Import failed: ${err.message}`;
      } finally {
        submit.disabled = false;
      }
    });

    filter.addEventListener('input', () => {
      draw();
      const p = new URLSearchParams(route.query);
      if (filter.value) p.set('query', filter.value);
      else p.delete('query');
      setUrlQuery(ctx, p, { replace: true });
    });
    const onKey = (e) => {
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '')) {
        e.preventDefault();
        filter.focus();
      }
    };
    document.addEventListener('keydown', onKey);

    root.replaceChildren(
      h('div', { class: 'dash-list-head' }, h('h1', null, 'Dashboards'), filter),
      status,
      list,
      h('details', { class: 'dash-import', open: route.query.get('import') === '1' ? '' : null }, h('summary', null, 'Import a Grafana dashboard (paste JSON)'), form),
    );
    await load();
    return () => document.removeEventListener('keydown', onKey);
  },
};
