// Routing policy of one router, readable as a whole: attachments in the order they
// run, with the neighbors each one affects; the policies they apply, statement by
// statement; the defined sets those match; the prefixes the router announces.
// Changes go through the fleet page (or the CLI): this page only reads.

import { listAll } from '../api.js';
import { badge, h, message, section, conditionLine } from '../dom.js';

function describe(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(describe).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value).filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => (typeof v === 'object' ? `${k} (${describe(v)})` : `${k} ${v}`)).join(', ');
  }
  return String(value);
}

function statement(s) {
  const conditions = Object.entries(s.conditions || {}).filter(([, v]) => v !== null && v !== undefined);
  const actions = Object.entries(s.actions || {}).filter(([k, v]) => v !== null && v !== undefined && k !== 'disposition');
  return h('li', { class: 'statement' },
    h('strong', { text: `${s.name}: ` }),
    conditions.length ? ['if ', conditions.map(([k, v], i) => [i ? ' and ' : '', h('code', { text: k }), ` ${describe(v)}`])] : 'every route',
    actions.length ? [' → ', actions.map(([k, v], i) => [i ? ', ' : '', h('code', { text: k }), ` ${describe(v)}`])] : '',
    ' → ', h('strong', { text: s.actions?.disposition || 'next' }));
}

export async function policyPage(container, ctx) {
  const routers = await listAll('/v1/routers', { sort: 'name' });
  container.append(h('h1', { text: 'Policy' }));
  if (!routers.length) {
    container.append(message('info', 'No routers yet.'));
    return null;
  }
  const select = h('select', { id: 'policy-router' }, routers.map((r) => h('option', { value: r.name }, r.name)));
  select.value = ctx.query.router && routers.some((r) => r.name === ctx.query.router) ? ctx.query.router : routers[0].name;
  const body = h('div', { id: 'policy-body' });
  container.append(h('form', { class: 'filters', on: { submit: (e) => e.preventDefault() } }, h('label', {}, 'Router ', select)),
    h('p', { class: 'muted', text: 'Read-only: change policy with a fleet file (Fleet page) or the CLI (sdwan policy, attachment, defined-set).' }),
    body);

  async function load() {
    ctx.setQuery({ router: select.value });
    const router = routers.find((r) => r.name === select.value);
    body.replaceChildren(message('info', 'Loading…'));
    const by = { router: router.id };
    const [sets, policies, attachments, announcements, neighbors] = await Promise.all([
      listAll('/v1/defined-sets', by), listAll('/v1/policies', by), listAll('/v1/policy-attachments', by),
      listAll('/v1/announcements', by), listAll('/v1/neighbors', by),
    ]);
    const byAddress = new Map(neighbors.map((n) => [n.address, n]));
    const neighborChip = (address) => {
      const n = byAddress.get(address);
      return n ? h('li', {}, h('a', { href: `#/neighbors/${n.id}` }, `${address} (AS${n.peer_asn})`), ' ', badge(n.session_state, 'session'))
        : h('li', {}, `${address} `, badge('not a neighbor', 'status'));
    };
    const ordered = [...attachments].sort((a, b) => a.direction.localeCompare(b.direction) || a.priority - b.priority);
    body.replaceChildren(
      section('Attachments', ordered.length ? h('table', { class: 'list compact', id: 'attachments' },
        h('thead', {}, h('tr', {}, ['Name', 'Direction', 'Priority', 'Policies', 'Default', 'Affects', 'Status'].map((t) => h('th', { text: t })))),
        h('tbody', {}, ordered.map((a) => h('tr', { dataset: { name: a.name } },
          h('td', { text: a.name }), h('td', { text: a.direction }), h('td', { text: a.priority }),
          h('td', {}, a.policies.map((p, i) => [i ? ' → ' : '', h('button', { type: 'button', class: 'link policy-ref', on: { click: () => document.getElementById(`policy-${p}`)?.scrollIntoView() } }, p)])),
          h('td', { text: a.default_action }),
          h('td', {}, a.neighbors.length
            ? h('ul', { class: 'affects' }, a.neighbors.map(neighborChip))
            : h('details', {}, h('summary', { text: `every neighbor (${neighbors.length})` }), h('ul', { class: 'affects' }, neighbors.map((n) => neighborChip(n.address))))),
          h('td', {}, badge(a.status), conditionLine(a.conditions))))))
        : message('info', 'No attachments: every route is accepted as is.')),
      section('Policies', policies.length ? policies.map((p) => h('div', { class: 'policy', id: `policy-${p.name}` },
        h('h3', {}, `${p.name} `, badge(p.status)), conditionLine(p.conditions), p.description ? h('p', { text: p.description }) : null,
        h('ol', {}, p.statements.map(statement)))) : message('info', 'No policies.')),
      section('Defined sets', sets.length ? h('table', { class: 'list compact', id: 'defined-sets' },
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Members', 'Status'].map((t) => h('th', { text: t })))),
        h('tbody', {}, sets.map((s) => h('tr', {}, h('td', { text: s.name }), h('td', { text: s.type }),
          h('td', { text: s.members.map(describe).join(', ') || '(empty)' }), h('td', {}, badge(s.status), conditionLine(s.conditions))))))
        : message('info', 'No defined sets.')),
      section('Announcements', announcements.length ? h('table', { class: 'list compact', id: 'announcements' },
        h('thead', {}, h('tr', {}, ['Prefix', 'Next hop', 'Origin', 'MED', 'Local pref', 'Communities', 'Prepend', 'Status'].map((t) => h('th', { text: t })))),
        h('tbody', {}, announcements.map((a) => h('tr', {}, h('td', { text: a.prefix }), h('td', { text: a.next_hop || 'self' }),
          h('td', { text: a.origin }), h('td', { text: a.med ?? '—' }), h('td', { text: a.local_pref ?? '—' }),
          h('td', { text: [...a.communities, ...a.large_communities].join(' ') || '—' }), h('td', { text: a.as_path_prepend || '—' }),
          h('td', {}, badge(a.status), conditionLine(a.conditions))))))
        : message('info', 'No announcements.')));
  }
  select.addEventListener('change', () => load().catch((e) => body.replaceChildren(message('error', e.message))));
  await load();
  return null;
}
