// Routers: the list (filters, sort, paging of GET /v1/routers), one router's page
// (status, live state, neighbors, events, audit) and its create/edit/delete forms.

import { api, listAll } from '../api.js';
import { timeChart } from '../chart.js';
import { badge, clear, dash, facts, fmtDuration, fmtTime, h, message, section } from '../dom.js';
import { resourceForm } from '../form.js';
import { listView } from '../table.js';
import { detailPage } from './detail.js';

const SAMPLE_MS = 10_000; // the live plot: the neighbors read again this often (and on events)

const STATUSES = ['PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE', 'ACTIVE', 'ERROR'];

export const ROUTER_FIELDS = [
  { key: 'name', label: 'Name', type: 'text', required: true, help: 'unique; the original host_name' },
  { key: 'router_id', label: 'Router ID', type: 'text', required: true, placeholder: '198.18.0.1' },
  { key: 'asn', label: 'AS number', type: 'number', required: true },
  { key: 'api_address', label: 'gobgpd API address', type: 'text', required: true, placeholder: 'unix:///run/sdwan/gobgp1.sock or host:50051' },
  { key: 'listen_port', label: 'BGP listen port', type: 'number', help: '179 by default; -1: do not listen' },
  { key: 'listen_addresses', label: 'Listen addresses', type: 'list', help: 'comma-separated; empty: all' },
  { key: 'drift_mode', label: 'Drift mode', type: 'select', options: ['repair', 'report'] },
  { key: 'description', label: 'Description', type: 'text' },
];

function reachability(router) {
  if (router.reachable === null || router.reachable === undefined) return badge('UNKNOWN', 'session');
  return router.reachable ? badge('reachable', 'reach') : badge('unreachable', 'reach');
}

export function routersPage(container, ctx) {
  container.append(h('div', { class: 'page-head' },
    h('h1', { text: 'Routers' }),
    ctx.canWrite ? h('a', { class: 'button primary', href: '#/routers/new', id: 'new-router' }, 'New router') : null));
  const filters = [
    { key: 'name', label: 'Name' },
    { key: 'asn', label: 'AS', type: 'number' },
    { key: 'router_id', label: 'Router ID' },
    { key: 'status', label: 'Status', type: 'select', options: STATUSES },
  ];
  if (ctx.isAdmin) filters.push({ key: 'project', label: 'Project' });
  return listView(container, ctx, {
    id: 'routers-table',
    path: '/v1/routers',
    defaultSort: 'name',
    rowHref: (r) => `#/routers/${encodeURIComponent(r.id)}`,
    filters,
    columns: [
      { key: 'name', label: 'Name', sort: 'name', link: true },
      { key: 'router_id', label: 'Router ID', sort: 'router_id' },
      { key: 'asn', label: 'AS', sort: 'asn' },
      { key: 'api_address', label: 'API address', sort: 'api_address' },
      { key: 'project_id', label: 'Project' },
      { key: 'status', label: 'Status', sort: 'status', render: (r) => badge(r.status) },
      { key: 'reachable', label: 'gobgpd', render: reachability },
      { key: 'gobgpd_uptime', label: 'Up', render: (r) => fmtDuration(r.gobgpd_uptime) },
      { key: 'drift', label: 'Drift', render: (r) => (r.drift?.length ? r.drift.join('; ') : '—') },
    ],
    live: (e) => e.resource_type === 'router' || e.kind === 'router.reachability',
  });
}

export async function routerPage(container, ctx, key) {
  if (key === null) return newRouter(container, ctx);
  const neighborsBody = h('tbody');
  const neighborsBox = section('Neighbors', h('table', { class: 'list compact', id: 'router-neighbors' },
    h('thead', {}, h('tr', {}, ['Address', 'Peer AS', 'Status', 'Session', 'Up', 'Received / accepted', 'Flaps', 'Last down'].map((t) => h('th', { text: t })))),
    neighborsBody));
  // The API keeps no history of these counts: the plot shows what this page saw since
  // it was opened (a point per read of the neighbors).
  const plot = timeChart({
    id: 'router-sessions-plot',
    title: 'Established sessions and prefixes received, since this page was opened',
    series: [
      { label: 'established', color: '#2e9d48', scale: 'n', unit: '' },
      { label: 'prefixes received', color: '#1f4e8c', scale: 'p', unit: '' },
    ],
    scales: { n: { label: 'sessions' }, p: { label: 'prefixes' } },
    empty: 'Collecting: a point per read of the neighbors.',
  });
  const plotBox = section('Sessions and prefixes', plot.el);
  let current = null;
  async function loadNeighbors(router) {
    current = router;
    const items = await listAll('/v1/neighbors', { router: router.id, sort: 'address' });
    const established = items.filter((n) => n.session_state === 'ESTABLISHED').length;
    plot.append(Date.now() / 1000, [established, items.reduce((sum, n) => sum + (n.prefixes_received || 0), 0)]);
    clear(neighborsBody);
    if (!items.length) neighborsBody.append(h('tr', {}, h('td', { colspan: 8, text: 'No neighbors.' })));
    for (const n of items) {
      neighborsBody.append(h('tr', { dataset: { id: n.id } },
        h('td', {}, h('a', { href: `#/neighbors/${n.id}` }, n.address)),
        h('td', { text: n.peer_asn }), h('td', {}, badge(n.status)),
        h('td', {}, badge(n.session_state, 'session')), h('td', { text: fmtDuration(n.uptime) }),
        h('td', { text: `${dash(n.prefixes_received)} / ${dash(n.prefixes_accepted)}` }),
        h('td', { text: n.flap_count ?? 0 }), h('td', { text: dash(n.last_down_reason) })));
    }
  }
  const timer = setInterval(() => {
    if (current && document.visibilityState === 'visible') loadNeighbors(current).catch(() => {});
  }, SAMPLE_MS);
  const cleanup = await detailPage(container, ctx, {
    path: `/v1/routers/${encodeURIComponent(key)}`,
    item: (r) => `/v1/routers/${r.id}`,
    kind: 'router',
    fields: ROUTER_FIELDS,
    list: 'routers',
    name: (r) => r.name,
    title: (r) => h('h1', {}, `Router ${r.name} `, badge(r.status)),
    links: (r) => [
      h('a', { class: 'button secondary', href: `#/rib?router=${encodeURIComponent(r.name)}` }, 'Routes'),
      h('a', { class: 'button secondary', href: `#/policy?router=${encodeURIComponent(r.name)}` }, 'Policy'),
    ],
    sections: (r) => [
      h('div', { class: 'columns' },
        section('Intent', facts([
          ['ID', r.id], ['Project', r.project_id], ['Router ID', r.router_id], ['AS', r.asn],
          ['gobgpd API', r.api_address], ['Listen port', r.listen_port],
          ['Listen addresses', r.listen_addresses.length ? r.listen_addresses.join(', ') : 'all'],
          ['Drift mode', r.drift_mode], ['Description', r.description],
          ['Version', r.version], ['Updated', fmtTime(r.updated_at)],
        ])),
        section('Live', facts([
          ['gobgpd', reachability(r)],
          ['Reachable since', fmtTime(r.reachable_since)],
          ['gobgpd up', fmtDuration(r.gobgpd_uptime)],
          ['Last error', r.last_error],
          ['Unrepaired drift', r.drift?.length ? h('ul', {}, r.drift.map((d) => h('li', { text: d }))) : '—'],
        ]))),
      neighborsBox,
      plotBox,
    ],
    events: (r) => ({ routerName: r.name }),
    watches: (e, r) => e.router_name === r.name || e.resource_id === r.id,
    deletion: (r) => {
      const count = neighborsBody.querySelectorAll('tr[data-id]').length;
      const cascade = h('input', { type: 'checkbox', id: 'cascade' });
      return {
        title: `Delete router ${r.name}?`,
        lines: [
          'BGP is stopped on its gobgpd; the router is gone once gobgpd confirmed.',
          count ? `It has ${count} neighbor(s): their sessions end too.` : 'It has no neighbors.',
        ],
        extra: count ? h('label', { class: 'check' }, cascade, ` Also delete its ${count} neighbor(s)`) : null,
        params: () => ({ cascade: cascade.checked || undefined }),
      };
    },
    deleted: (data) => `Deletion requested (${data.status || 'deleted'}). ${(data.warnings || []).join('; ')}`,
    gone: (r) => `Router ${r.name} is gone.`,
    after: (r) => loadNeighbors(r).catch((e) => neighborsBox.append(message('error', e.message))),
  }).catch((error) => { clearInterval(timer); throw error; });
  return () => {
    clearInterval(timer);
    plot.destroy();
    if (typeof cleanup === 'function') cleanup();
  };
}

function newRouter(container, ctx) {
  container.append(h('h1', { text: 'New router' }));
  if (!ctx.canWrite) {
    container.append(message('error', 'Your role may not create routers.'));
    return null;
  }
  const fields = ctx.isAdmin
    ? [...ROUTER_FIELDS, { key: 'project', label: 'Project', type: 'text', placeholder: 'default', createOnly: true }]
    : ROUTER_FIELDS;
  const form = resourceForm({
    fields, initial: { listen_port: 179, drift_mode: 'repair' }, mode: 'create', submitLabel: 'Create router',
    onCancel: () => ctx.navigate('routers'),
    onSubmit: async (values) => {
      const created = await api.post('/v1/routers', values);
      ctx.navigate(`routers/${created.id}`);
    },
  });
  container.append(section('Router', form));
  return null;
}
