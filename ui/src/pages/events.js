// The live event feed: the stored history, then every event as it happens, filtered
// by router and kind (the API's filters for the history, the same test for live ones).

import { api } from '../api.js';
import { clear, debounce, h, message } from '../dom.js';
import { eventRow, eventTable } from './history.js';

const KINDS = ['', 'resource.', 'status.changed', 'session.changed', 'router.reachability', 'drift.', 'alert.'];
const MAX_ROWS = 500;

export async function eventsPage(container, ctx) {
  const router = h('input', { id: 'events-router', type: 'search', placeholder: 'router name (exact)', value: ctx.query.router || '' });
  const kind = h('select', { id: 'events-kind' }, KINDS.map((k) => h('option', { value: k }, k || 'every kind')));
  kind.value = ctx.query.kind || '';
  const text = h('input', { id: 'events-text', type: 'search', placeholder: 'text in the message', value: ctx.query.text || '' });
  const pause = h('input', { type: 'checkbox', id: 'events-pause' });
  const status = h('div', { 'aria-live': 'polite' });
  const { table, body } = eventTable('events-table');
  container.append(h('h1', { text: 'Events' }),
    h('form', { class: 'filters', role: 'search', on: { submit: (e) => e.preventDefault() } },
      h('label', {}, 'Router ', router), h('label', {}, 'Kind ', kind), h('label', {}, 'Text ', text),
      h('label', { class: 'check' }, pause, ' pause')),
    status, h('div', { class: 'table-wrap' }, table));

  const matches = (e) => (!router.value.trim() || e.router_name === router.value.trim())
    && (!kind.value || e.kind === kind.value || (kind.value.endsWith('.') && e.kind.startsWith(kind.value)))
    && (!text.value.trim() || e.message.toLowerCase().includes(text.value.trim().toLowerCase()));

  let loading = 0;
  async function load() {
    const mine = ++loading;
    ctx.setQuery({ router: router.value.trim(), kind: kind.value, text: text.value.trim() });
    try {
      const page = await api.get('/v1/events', { router: router.value.trim(), kind: kind.value, limit: 200 });
      if (mine !== loading) return;
      clear(body);
      const items = page.items.filter(matches).reverse();
      for (const e of items) body.append(eventRow(e));
      status.replaceChildren(message('info', `${items.length} stored event(s); new ones appear at the top as they happen.`));
    } catch (error) {
      status.replaceChildren(message('error', error.message));
    }
  }
  const reload = debounce(load, 250);
  for (const el of [router, text]) el.addEventListener('input', reload);
  kind.addEventListener('change', load);
  const unsubscribe = ctx.stream.subscribe((e) => {
    if (pause.checked || !matches(e)) return;
    body.prepend(eventRow(e));
    while (body.rows.length > MAX_ROWS) body.lastChild.remove();
  });
  await load();
  return () => { unsubscribe(); reload.cancel(); };
}
