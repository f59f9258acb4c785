// What happened to one object: its recent events (live) and its audit entries.

import { api } from '../api.js';
import { clear, fmtTime, h, message, section } from '../dom.js';

export function eventRow(event) {
  return h('tr', { dataset: { kind: event.kind, id: event.id } },
    h('td', { text: fmtTime(event.time) }),
    h('td', {}, h('code', { text: event.kind })),
    h('td', { text: event.router_name || '—' }),
    h('td', { text: event.message }));
}

export function eventTable(id) {
  const body = h('tbody');
  const table = h('table', { class: 'list compact', id },
    h('thead', {}, h('tr', {}, ['Time', 'Kind', 'Router', 'What'].map((t) => h('th', { text: t })))),
    body);
  return { table, body };
}

// Recent events of a router (all of them) or of one resource of it, kept live.
export function recentEvents(ctx, { routerName, resourceId, limit = 20 }) {
  const { table, body } = eventTable('recent-events');
  const box = section('Recent events', table);
  const matches = (e) => (!routerName || e.router_name === routerName) && (!resourceId || e.resource_id === resourceId || e.data?.router === resourceId);
  const add = (event, atTop = true) => {
    body.querySelector('.empty')?.remove();
    const row = eventRow(event);
    if (atTop) body.prepend(row); else body.append(row);
    while (body.rows.length > limit) body.lastChild.remove();
  };
  (async () => {
    try {
      const page = await api.get('/v1/events', { router: routerName, limit: resourceId ? 1000 : limit });
      const items = page.items.filter(matches).slice(-limit).reverse();
      if (!items.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 4, text: 'No events retained.' })));
      for (const e of items) add(e, false);
    } catch (error) {
      box.append(message('error', error.message));
    }
  })();
  const unsubscribe = ctx.stream.subscribe((event) => {
    if (matches(event)) add(event);
  });
  return { box, unsubscribe };
}

function jsonBlock(value) {
  return value ? h('pre', { class: 'json', text: JSON.stringify(value, null, 2) }) : h('span', { class: 'muted', text: '—' });
}

export function auditRow(entry) {
  return h('tr', { dataset: { id: entry.id } },
    h('td', { text: fmtTime(entry.at) }),
    h('td', { text: `${entry.actor} (${entry.actor_role})` }),
    h('td', { text: entry.source || '—' }),
    h('td', {}, h('code', { text: entry.action })),
    h('td', { text: `${entry.resource_type} ${entry.resource_name || entry.resource_id || ''}` }),
    h('td', {}, changedFields(entry.before, entry.after)),
    h('td', {}, h('details', {}, h('summary', { text: 'before / after' }),
      h('div', { class: 'before-after' }, h('div', {}, h('h4', { text: 'before' }), jsonBlock(entry.before)),
        h('div', {}, h('h4', { text: 'after' }), jsonBlock(entry.after))))));
}

// The fields whose value differs between before and after.
export function changedFields(before, after) {
  if (!before || !after) return h('span', { class: 'muted', text: before ? 'deleted' : after ? 'created' : '—' });
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return h('ul', { class: 'changes' }, keys.map((k) => h('li', {},
    h('code', { text: k }), `: ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`)));
}

export function auditTable(id) {
  const body = h('tbody');
  const table = h('table', { class: 'list compact', id },
    h('thead', {}, h('tr', {}, ['When', 'Who', 'From', 'Action', 'Object', 'Changed', ''].map((t) => h('th', { text: t })))),
    body);
  return { table, body };
}

export function auditEntries(resourceId) {
  const { table, body } = auditTable('object-audit');
  const box = section('Audit', table);
  (async () => {
    try {
      const page = await api.get('/v1/audit', { resource_id: resourceId, limit: 20 });
      clear(body);
      if (!page.items.length) body.append(h('tr', {}, h('td', { colspan: 7, text: 'No audit entries.' })));
      for (const entry of page.items) body.append(auditRow(entry));
    } catch (error) {
      box.append(message('error', error.message));
    }
  })();
  return box;
}
