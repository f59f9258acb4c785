// The audit log: who changed what, when, from where, with before/after (secrets
// masked by the API), filtered and paged like GET /v1/audit.

import { api } from '../api.js';
import { clear, debounce, h, message, fill } from '../dom.js';
import { auditRow, auditTable } from './history.js';

const FILTERS = [
  ['actor', 'Who'], ['resource_type', 'Type (router, neighbor, user…)'], ['resource_id', 'Object id'],
  ['action', 'Action (create, update, delete, login…)'], ['project', 'Project'],
];

export async function auditPage(container, ctx) {
  const state = { offset: Number(ctx.query.offset) || 0, limit: 50 };
  const inputs = Object.fromEntries(FILTERS.map(([key, label]) => [key, h('input', {
    type: 'search', name: key, id: `audit-${key}`, placeholder: label, value: ctx.query[key] || '',
  })]));
  const status = h('div', { 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const { table, body } = auditTable('audit-table');
  container.append(h('h1', { text: 'Audit log' }),
    h('form', { class: 'filters', role: 'search', on: { submit: (e) => e.preventDefault() } },
      FILTERS.map(([key, label]) => h('label', {}, h('span', { class: 'sr-only', text: label }), inputs[key]))),
    status, h('div', { class: 'table-wrap' }, table), pager);

  let loading = 0;
  async function load() {
    const mine = ++loading;
    const filters = Object.fromEntries(FILTERS.map(([key]) => [key, inputs[key].value.trim()]));
    ctx.setQuery({ ...filters, offset: state.offset || '' });
    try {
      const page = await api.get('/v1/audit', { ...filters, limit: state.limit, offset: state.offset });
      if (mine !== loading) return;
      status.replaceChildren();
      clear(body);
      if (!page.items.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No entries.' })));
      for (const entry of page.items) body.append(auditRow(entry));
      const last = Math.min(state.offset + page.items.length, page.total);
      fill(pager,
        h('span', { class: 'count', text: page.total ? `${state.offset + 1}–${last} of ${page.total}, newest first` : '0 entries' }),
        h('button', { type: 'button', class: 'secondary', disabled: state.offset === 0, on: { click: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } } }, '‹ Newer'),
        h('button', { type: 'button', class: 'secondary', disabled: last >= page.total, on: { click: () => { state.offset += state.limit; load(); } } }, 'Older ›'));
    } catch (error) {
      status.replaceChildren(message('error', error.message));
    }
  }
  const reload = debounce(() => { state.offset = 0; load(); }, 250);
  for (const input of Object.values(inputs)) input.addEventListener('input', reload);
  await load();
  return () => reload.cancel();
}
