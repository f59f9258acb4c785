// Neighbors: the list (filters, sort, paging of GET /v1/neighbors with live session
// state), one neighbor's page and its create/edit/delete forms.

import { api, listAll } from '../api.js';
import { badge, dash, facts, fmtDuration, fmtTime, h, message, section } from '../dom.js';
import { resourceForm } from '../form.js';
import { listView } from '../table.js';
import { detailPage } from './detail.js';

const STATUSES = ['PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE', 'ACTIVE', 'ERROR'];

export const NEIGHBOR_FIELDS = [
  { key: 'address', label: 'Address', type: 'text', required: true, createOnly: true, placeholder: '198.18.1.2 or 2001:db8::2' },
  { key: 'peer_asn', label: 'Peer AS', type: 'number', required: true },
  { key: 'description', label: 'Description', type: 'text', help: 'kept by the orchestrator only' },
  { key: 'local_address', label: 'Local address', type: 'text', nullable: true },
  { key: 'hold_time', label: 'Hold time (s)', type: 'number', help: '0 or 3..65535; default 90' },
  { key: 'keepalive_interval', label: 'Keepalive (s)', type: 'number', help: 'less than the hold time; default 30' },
  { key: 'passive', label: 'Passive (wait for the peer to connect)', type: 'checkbox' },
  { key: 'ebgp_multihop_ttl', label: 'eBGP multihop TTL', type: 'number', help: '0: off' },
  { key: 'password', label: 'TCP-MD5 password', type: 'password', help: 'write-only; empty: unchanged' },
  { key: 'route_reflector_client', label: 'Route-reflector client', type: 'checkbox' },
  { key: 'enabled', label: 'Enabled (off: admin down)', type: 'checkbox' },
  { key: 'families', label: 'Families', type: 'list', help: 'ipv4-unicast, ipv6-unicast; empty: the address family' },
];

export function neighborsPage(container, ctx) {
  container.append(h('div', { class: 'page-head' },
    h('h1', { text: 'Neighbors' }),
    ctx.canWrite ? h('a', { class: 'button primary', href: `#/neighbors/new${ctx.query.router ? `?router=${encodeURIComponent(ctx.query.router)}` : ''}`, id: 'new-neighbor' }, 'New neighbor') : null));
  const filters = [
    { key: 'router', label: 'Router' },
    { key: 'address', label: 'Address' },
    { key: 'peer_asn', label: 'Peer AS', type: 'number' },
    { key: 'status', label: 'Status', type: 'select', options: STATUSES },
    { key: 'enabled', label: 'Enabled', type: 'select', options: ['true', 'false'] },
  ];
  if (ctx.isAdmin) filters.push({ key: 'project', label: 'Project' });
  return listView(container, ctx, {
    id: 'neighbors-table',
    path: '/v1/neighbors',
    defaultSort: 'router,address',
    rowHref: (n) => `#/neighbors/${encodeURIComponent(n.id)}`,
    filters,
    columns: [
      { key: 'address', label: 'Address', sort: 'address', link: true },
      { key: 'router_name', label: 'Router', sort: 'router' },
      { key: 'peer_asn', label: 'Peer AS', sort: 'peer_asn' },
      { key: 'status', label: 'Status', sort: 'status', render: (n) => badge(n.status) },
      { key: 'session_state', label: 'Session', render: (n) => badge(n.session_state, 'session') },
      { key: 'uptime', label: 'Up', render: (n) => fmtDuration(n.uptime) },
      { key: 'prefixes', label: 'Rcvd / acc', render: (n) => `${dash(n.prefixes_received)} / ${dash(n.prefixes_accepted)}` },
      { key: 'flap_count', label: 'Flaps' },
      { key: 'enabled', label: 'Enabled', sort: 'enabled', render: (n) => (n.enabled ? 'yes' : 'no') },
    ],
    live: (e) => e.resource_type === 'neighbor',
  });
}

export async function neighborPage(container, ctx, id) {
  if (id === null) return newNeighbor(container, ctx);
  return detailPage(container, ctx, {
    path: `/v1/neighbors/${encodeURIComponent(id)}`,
    item: (n) => `/v1/neighbors/${n.id}`,
    kind: 'neighbor',
    fields: NEIGHBOR_FIELDS,
    list: 'neighbors',
    name: (n) => `${n.router_name}/${n.address}`,
    title: (n) => h('h1', {}, `Neighbor ${n.router_name}/${n.address} `, badge(n.status), ' ', badge(n.session_state, 'session')),
    links: (n) => [
      h('a', { class: 'button secondary', href: `#/rib?router=${encodeURIComponent(n.router_name)}&table=in&neighbor=${n.id}` }, 'Routes received'),
      h('a', { class: 'button secondary', href: `#/rib?router=${encodeURIComponent(n.router_name)}&table=out&neighbor=${n.id}` }, 'Routes sent'),
    ],
    sections: (n) => [
      h('div', { class: 'columns' },
        section('Intent', facts([
          ['ID', n.id], ['Router', h('a', { href: `#/routers/${n.router}` }, n.router_name)],
          ['Address', n.address], ['Peer AS', n.peer_asn], ['Description', n.description],
          ['Local address', n.local_address], ['Hold / keepalive', `${n.hold_time} s / ${n.keepalive_interval} s`],
          ['Passive', n.passive ? 'yes' : 'no'], ['eBGP multihop TTL', n.ebgp_multihop_ttl || 'off'],
          ['Password', n.password_set ? 'set' : 'none'], ['RR client', n.route_reflector_client ? 'yes' : 'no'],
          ['Enabled', n.enabled ? 'yes' : 'no (admin down)'], ['Families', n.families.join(', ')],
          ['Version', n.version], ['Updated', fmtTime(n.updated_at)],
        ])),
        section('Session', facts([
          ['State', badge(n.session_state, 'session')], ['UP/DOWN', n.session],
          ['Established since', fmtTime(n.established_since)], ['Uptime', fmtDuration(n.uptime)],
          ['In this state since', fmtTime(n.state_since)], ['Peer BGP identifier', n.remote_router_id],
          ['Prefixes received', n.prefixes_received], ['Prefixes accepted', n.prefixes_accepted],
          ['Flaps', n.flap_count], ['Last down', fmtTime(n.last_down_at)], ['Last down reason', n.last_down_reason],
          ['Admin down', n.admin_down === null ? '—' : n.admin_down ? 'yes' : 'no'],
        ]))),
    ],
    events: (n) => ({ routerName: n.router_name, resourceId: n.id }),
    watches: (e, n) => e.resource_id === n.id,
    deletion: (n) => ({
      title: `Delete neighbor ${n.address} of ${n.router_name}?`,
      lines: ['The peer is removed from gobgpd: its BGP session ends.'],
    }),
    deleted: () => 'Deletion requested: the neighbor goes once gobgpd confirmed.',
    gone: () => 'This neighbor is gone.',
  });
}

async function newNeighbor(container, ctx) {
  container.append(h('h1', { text: 'New neighbor' }));
  if (!ctx.canWrite) {
    container.append(message('error', 'Your role may not create neighbors.'));
    return null;
  }
  const routers = await listAll('/v1/routers', { sort: 'name' });
  if (!routers.length) {
    container.append(message('info', 'Create a router first.'), h('a', { href: '#/routers/new' }, 'New router'));
    return null;
  }
  const fields = [
    { key: 'router', label: 'Router', type: 'select', options: routers.map((r) => r.name), createOnly: true },
    ...NEIGHBOR_FIELDS,
  ];
  const form = resourceForm({
    fields,
    initial: { router: ctx.query.router || routers[0].name, hold_time: 90, keepalive_interval: 30, ebgp_multihop_ttl: 0, enabled: true },
    mode: 'create', submitLabel: 'Create neighbor',
    onCancel: () => ctx.navigate('neighbors'),
    onSubmit: async (values) => {
      const created = await api.post('/v1/neighbors', values);
      ctx.navigate(`neighbors/${created.id}`);
    },
  });
  container.append(section('Neighbor', form));
  return null;
}
