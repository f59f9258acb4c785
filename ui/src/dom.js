// DOM helpers. Everything is built with createElement and textContent: no HTML
// strings, so nothing a router name or a BGP attribute contains is ever parsed.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked') el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Empty ``el`` and put ``children`` in it (null, undefined and false left out, as in h()).
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const mm = Math.floor(s / 60); s -= mm * 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m ${s}s`;
  return `${s}s`;
}

export function dash(value) {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

// Session states and config statuses as small coloured badges (colour from CSS).
export function badge(value, kind = 'status') {
  const text = value || 'UNKNOWN';
  return h('span', { class: `badge ${kind}-${text.toLowerCase().replaceAll('_', '-')}`, text });
}

// A definition list of label/value pairs; values may be nodes.
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(Boolean).map(([label, value]) => [
      h('dt', { text: label }),
      h('dd', {}, value instanceof Node ? value : dash(value)),
    ]));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...children);
}

// A resource's conditions (type, status, reason, message, since), as the API gives them.
export function conditionsBox(conditions) {
  return section('Conditions', conditions?.length
    ? h('table', { class: 'list compact conditions' },
      h('thead', {}, h('tr', {}, ['Type', 'Status', 'Reason', 'Message', 'Since'].map((t) => h('th', { text: t })))),
      h('tbody', {}, conditions.map((c) => h('tr', { dataset: { type: c.type } },
        h('td', { text: c.type }), h('td', {}, badge(c.status, 'condition')), h('td', { text: c.reason }),
        h('td', { text: dash(c.message) }), h('td', { text: fmtTime(c.since) })))))
    : message('info', 'None reported yet.'));
}

// One line for a table cell: "Applied False (Rejected)", the message as its tooltip.
export function conditionLine(conditions) {
  return (conditions || []).map((c) => h('div', { class: 'muted condition', title: c.message || '', text: `${c.type} ${c.status} (${c.reason})` }));
}

export function message(kind, text) {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}

// A modal dialog (the <dialog> element) that resolves true when confirmed.
export function confirmDialog({ title, lines, confirm = 'Confirm', danger = false, extra = null }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-label': title });
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    dialog.append(
      h('h2', { text: title }),
      h('ul', {}, lines.map((line) => h('li', { text: line }))),
      extra,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', on: { click: () => done(false) } }, 'Cancel'),
        h('button', {
          type: 'button', class: danger ? 'danger' : 'primary', 'data-confirm': 'yes',
          on: { click: () => done(true) },
        }, confirm)),
    );
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Debounce: run fn at most once per `ms` after the last call.
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
