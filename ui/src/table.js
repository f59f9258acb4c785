// A list page over a /v1 list endpoint: the API's own filters, sort and paging
// (limit/offset/total), kept in the URL so that a filtered view can be linked.

import { api } from './api.js';
import { clear, debounce, h, message, fill } from './dom.js';

const PAGE_SIZES = [25, 50, 100, 250];

// spec: {path, columns: [{key, label, sort?, link?, render?(item)}], filters: [{key, label,
// type?: 'text'|'number'|'select', options?}], rowHref(item), defaultSort, live?(event)
// -> bool (refresh on this event)}
export function listView(container, ctx, spec) {
  const state = {
    limit: Number(ctx.query.limit) || 50,
    offset: Number(ctx.query.offset) || 0,
    sort: ctx.query.sort || spec.defaultSort || '',
    filters: Object.fromEntries(spec.filters.map((f) => [f.key, ctx.query[f.key] || ''])),
  };
  const status = h('div', { class: 'list-status', 'aria-live': 'polite' });
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const headRow = h('tr');
  const table = h('table', { class: 'list', id: spec.id }, h('thead', {}, headRow), body);

  const syncUrl = () => ctx.setQuery({
    ...state.filters,
    sort: state.sort !== (spec.defaultSort || '') ? state.sort : '',
    offset: state.offset || '',
    limit: state.limit !== 50 ? state.limit : '',
  });

  const filterBar = h('form', { class: 'filters', role: 'search' },
    spec.filters.map((f) => {
      const input = f.type === 'select'
        ? h('select', { name: f.key }, h('option', { value: '' }, `any ${f.label.toLowerCase()}`),
          f.options.map((o) => h('option', { value: o }, o)))
        : h('input', { name: f.key, type: f.type === 'number' ? 'number' : 'search', placeholder: f.label });
      input.value = state.filters[f.key];
      input.addEventListener('input', debounce(() => {
        state.filters[f.key] = input.value.trim();
        state.offset = 0;
        load();
      }, 250));
      return h('label', {}, h('span', { class: 'sr-only', text: f.label }), input);
    }));
  filterBar.addEventListener('submit', (e) => e.preventDefault());

  const drawHead = () => {
    clear(headRow);
    for (const col of spec.columns) {
      if (!col.sort) {
        headRow.append(h('th', { text: col.label }));
        continue;
      }
      const keys = state.sort.split(',');
      const dir = keys[0] === col.sort ? 'ascending' : keys[0] === `-${col.sort}` ? 'descending' : null;
      const button = h('button', {
        type: 'button', class: 'sort',
        on: {
          click: () => {
            state.sort = dir === 'ascending' ? `-${col.sort}` : col.sort;
            state.offset = 0;
            load();
          },
        },
      }, col.label, dir === 'ascending' ? ' ▲' : dir === 'descending' ? ' ▼' : '');
      headRow.append(h('th', { 'aria-sort': dir || 'none' }, button));
    }
  };

  let loading = 0;
  async function load() {
    const mine = ++loading;
    syncUrl();
    drawHead();
    const params = { ...state.filters, sort: state.sort, limit: state.limit, offset: state.offset };
    let page;
    try {
      page = await api.get(spec.path, params);
    } catch (error) {
      if (mine === loading) status.replaceChildren(message('error', error.message));
      return;
    }
    if (mine !== loading) return; // a newer request is on its way
    status.replaceChildren();
    clear(body);
    if (!page.items.length) {
      body.append(h('tr', {}, h('td', { colspan: spec.columns.length, class: 'empty', text: 'Nothing matches.' })));
    }
    for (const item of page.items) {
      const row = h('tr', { dataset: { id: item.id } },
        spec.columns.map((col) => {
          let value = col.render ? col.render(item) : item[col.key];
          if (!(value instanceof Node)) value = value === null || value === undefined || value === '' ? '—' : String(value);
          if (col.link && spec.rowHref) value = h('a', { href: spec.rowHref(item) }, value);
          return h('td', {}, value);
        }));
      body.append(row);
    }
    const last = Math.min(page.offset + page.items.length, page.total);
    fill(pager,
      h('span', { class: 'count', text: page.total ? `${page.offset + 1}–${last} of ${page.total}` : '0 items' }),
      h('button', {
        type: 'button', class: 'secondary', disabled: page.offset === 0,
        on: { click: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } },
      }, '‹ Previous'),
      h('button', {
        type: 'button', class: 'secondary', disabled: last >= page.total,
        on: { click: () => { state.offset += state.limit; load(); } },
      }, 'Next ›'),
      h('label', {}, 'Per page ', (() => {
        const select = h('select', { on: { change: (e) => { state.limit = Number(e.target.value); state.offset = 0; load(); } } },
          PAGE_SIZES.map((n) => h('option', { value: n }, String(n))));
        select.value = String(state.limit);
        return select;
      })()));
  }

  container.append(filterBar, status, h('div', { class: 'table-wrap' }, table), pager);
  load();
  const reload = debounce(load, 300);
  const unsubscribe = ctx.stream.subscribe((event) => {
    if (spec.live && spec.live(event)) reload();
  });
  return () => {
    unsubscribe();
    reload.cancel();
  };
}
