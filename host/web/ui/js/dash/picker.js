// The dashboard toolbar's controls: the time range picker (quick ranges, absolute from/to in
// Grafana's syntax), zoom out, the auto-refresh picker, and the template variable selectors.
import { h } from './util.js';
import { QUICK_RANGES, describeRange, parseTime } from './time.js';
import { isoDateTime } from './units.js';
import { ALL } from './vars.js';

export const REFRESH_OPTIONS = ['', '5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h'];

function popover(anchor, content, onClose) {
  const pop = h('div', { class: 'dash-popover', role: 'dialog' }, content);
  anchor.after(pop);
  const outside = (e) => {
    if (!pop.contains(e.target) && e.target !== anchor && !anchor.contains(e.target)) close();
  };
  const esc = (e) => {
    if (e.key === 'Escape') {
      close();
      anchor.focus();
    }
  };
  function close() {
    document.removeEventListener('mousedown', outside);
    document.removeEventListener('keydown', esc);
    pop.remove();
    if (onClose) onClose();
  }
  setTimeout(() => {
    document.addEventListener('mousedown', outside);
    document.addEventListener('keydown', esc);
  });
  return { pop, close };
}

/** A time picker: getRange() → {from, to} strings; onChange(from, to). */
export function timePicker({ getRange, onChange }) {
  const label = h('span', { class: 'tp-label' });
  const btn = h('button', { type: 'button', class: 'btn tp-button', 'data-action': 'time-picker', 'aria-haspopup': 'dialog' }, label);
  let open = null;
  const update = () => {
    const { from, to } = getRange();
    label.textContent = describeRange(from, to, isoDateTime);
    btn.title = `${from} to ${to}`;
  };
  btn.addEventListener('click', () => {
    if (open) return open.close();
    const { from, to } = getRange();
    const fmt = (s, up) => (/^\d{10,}$/.test(s) ? isoDateTime(parseTime(s, up)) : s);
    const fromIn = h('input', { name: 'from', value: fmt(from), 'aria-label': 'From', spellcheck: 'false' });
    const toIn = h('input', { name: 'to', value: fmt(to, true), 'aria-label': 'To', spellcheck: 'false' });
    const err = h('div', { class: 'tp-error', role: 'alert' });
    const apply = (e) => {
      e.preventDefault();
      const f = fromIn.value.trim();
      const t = toIn.value.trim();
      const fm = parseTime(f);
      const tm = parseTime(t, true);
      if (Number.isNaN(fm) || Number.isNaN(tm)) return (err.textContent = 'Use now-1h, now/d or YYYY-MM-DD HH:mm:ss');
      if (fm >= tm) return (err.textContent = '"From" must be before "To"');
      const norm = (s, ms) => (s.startsWith('now') ? s : String(ms));
      open.close();
      onChange(norm(f, fm), norm(t, tm));
    };
    const form = h('form', { class: 'tp-abs', onsubmit: apply }, h('h4', null, 'Absolute time range'), h('label', null, 'From', fromIn), h('label', null, 'To', toIn), err, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply time range'));
    const quick = h(
      'ul',
      { class: 'tp-quick' },
      QUICK_RANGES.map(([f, name, t]) =>
        h('li', null, h('button', { type: 'button', class: from === f && to === (t || 'now') ? 'active' : null, onclick: () => (open.close(), onChange(f, t || 'now')) }, name)),
      ),
    );
    open = popover(btn, h('div', { class: 'tp-body' }, form, quick), () => (open = null));
    fromIn.focus();
  });
  update();
  return { el: btn, update };
}

/** Refresh button + interval select. */
export function refreshPicker({ getRefresh, onRefresh, onChange }) {
  const sel = h(
    'select',
    { class: 'rp-select', name: 'refresh', 'aria-label': 'Auto-refresh', onchange: () => onChange(sel.value) },
    REFRESH_OPTIONS.map((r) => h('option', { value: r }, r || 'Off')),
  );
  const btn = h('button', { type: 'button', class: 'btn', 'data-action': 'refresh', title: 'Refresh now', onclick: () => onRefresh() }, '⟳');
  const update = () => {
    const r = getRefresh();
    if (r && !REFRESH_OPTIONS.includes(r)) sel.append(h('option', { value: r }, r));
    sel.value = r || '';
  };
  update();
  return { el: h('span', { class: 'rp' }, btn, sel), update };
}

/** A selector for one template variable; onChange(value) with a string or an array. */
export function variablePicker(v, onChange) {
  const id = `var-${v.name}`;
  const label = v.hide === 1 ? null : h('label', { class: 'var-label', for: id }, v.label || v.name);
  let control;
  if (v.type === 'textbox') {
    control = h('input', { id, class: 'var-input', value: v.current?.value ?? '', onchange: (e) => onChange(e.target.value) });
  } else if (!v.multi) {
    control = h(
      'select',
      { id, class: 'var-select', onchange: (e) => onChange(e.target.value) },
      v.options.map((o) => h('option', { value: o.value }, o.text)),
    );
    control.value = v.current?.value ?? '';
    if (control.value !== String(v.current?.value ?? '') && v.current?.value) {
      control.append(h('option', { value: v.current.value }, v.current.value));
      control.value = v.current.value;
    }
  } else {
    const cur = () => (Array.isArray(v.current?.value) ? v.current.value : [v.current?.value]);
    const text = () => {
      const c = cur();
      if (c.includes(ALL)) return 'All';
      return c.map((x) => v.options.find((o) => o.value === x)?.text ?? x).join(' + ') || 'None';
    };
    control = h('button', { id, type: 'button', class: 'btn var-multi', 'aria-haspopup': 'listbox' }, text());
    let open = null;
    control.addEventListener('click', () => {
      if (open) return open.close();
      const chosen = new Set(cur());
      const filter = h('input', { class: 'var-filter', placeholder: 'Filter', 'aria-label': 'Filter values' });
      const list = h('div', { class: 'var-options', role: 'listbox', 'aria-multiselectable': 'true' });
      const draw = () => {
        const q = filter.value.toLowerCase();
        list.replaceChildren(
          ...v.options
            .filter((o) => !q || o.text.toLowerCase().includes(q))
            .slice(0, 500)
            .map((o) => {
              const cb = h('input', { type: 'checkbox', checked: chosen.has(o.value) });
              cb.addEventListener('change', () => {
                if (o.value === ALL) {
                  chosen.clear();
                  if (cb.checked) chosen.add(ALL);
                } else {
                  chosen.delete(ALL);
                  if (cb.checked) chosen.add(o.value);
                  else chosen.delete(o.value);
                }
                draw();
              });
              return h('label', { class: 'var-option' }, cb, o.text);
            }),
        );
      };
      filter.addEventListener('input', draw);
      draw();
      const done = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => open.close() }, 'Apply');
      open = popover(control, h('div', { class: 'var-pop' }, filter, list, done), () => {
        open = null;
        const next = [...chosen];
        const before = cur();
        if (next.length && (next.length !== before.length || next.some((x, i) => x !== before[i]))) onChange(next);
      });
      filter.focus();
    });
  }
  const wrap = h('span', { class: 'var', 'data-variable': v.name, hidden: v.hide === 2 }, label, control);
  if (v.error) wrap.append(h('span', { class: 'var-error', title: v.error }, '⚠'));
  return wrap;
}
