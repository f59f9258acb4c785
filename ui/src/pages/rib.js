// The RIB explorer: a router's global RIB or a neighbor's adj-RIB-in/out, read live
// from gobgpd through the API (prefix search, family filter, cursor paging), and for
// one prefix every path, which one gobgpd chose and why, and the AS paths as a graph.

import { api, listAll } from '../api.js';
import { clear, dash, fmtDuration, h, message, section, fill } from '../dom.js';
import { asPathGraph, asPathText, killAsPathGraph } from './aspath.js';

const ORIGIN_RANK = { igp: 0, egp: 1, incomplete: 2 };

function pathLength(route) {
  // a set counts as one AS (RFC 4271 9.1.2.2); confederation segments do not count
  return (route.as_path || []).reduce((n, seg) => n + (seg.type === 'sequence' ? seg.asns.length : seg.type === 'set' ? 1 : 0), 0);
}

// Why `best` beats `other`, by the steps of BGP best-path selection that the API's
// attributes let us check; the rest (eBGP over iBGP, IGP cost, router ID, address)
// is named when these tie. gobgpd made the choice: this only explains it.
export function whyBetter(best, other) {
  const lp = (r) => (r.local_pref === null || r.local_pref === undefined ? 100 : r.local_pref);
  if (lp(best) !== lp(other)) return `higher local preference (${lp(best)} vs ${lp(other)})`;
  if (!best.neighbor && other.neighbor) return 'originated by this router';
  if (pathLength(best) !== pathLength(other)) return `shorter AS path (${pathLength(best)} vs ${pathLength(other)})`;
  if (ORIGIN_RANK[best.origin] !== ORIGIN_RANK[other.origin]) return `better origin (${best.origin} vs ${other.origin})`;
  const med = (r) => r.med ?? 0;
  if (med(best) !== med(other)) return `lower MED (${med(best)} vs ${med(other)})`;
  return 'equal local preference, AS path length, origin and MED: a later tie-break (eBGP over iBGP, IGP cost, oldest path, router ID or peer address)';
}

function routeRow(route, onSelect, reason) {
  return h('tr', { class: route.best ? 'best' : '', dataset: { prefix: route.prefix } },
    h('td', {}, h('button', { type: 'button', class: 'link', on: { click: () => onSelect(route.prefix) } }, route.prefix)),
    h('td', { class: 'best-mark', text: route.best ? '★ best' : '' }),
    h('td', { text: dash(route.next_hop) }),
    h('td', { class: 'as-path', text: asPathText(route.as_path) || '(local)' }),
    h('td', { text: route.origin }),
    h('td', { text: dash(route.local_pref) }),
    h('td', { text: dash(route.med) }),
    h('td', { text: [...(route.communities || []), ...(route.large_communities || [])].join(' ') || '—' }),
    h('td', { text: route.neighbor || 'local' }),
    h('td', { text: fmtDuration(route.age) }),
    reason === undefined ? null : h('td', { class: 'why', text: reason }));
}

const HEAD = ['Prefix', 'Best', 'Next hop', 'AS path', 'Origin', 'Local pref', 'MED', 'Communities', 'From', 'Age'];

export async function ribPage(container, ctx) {
  const q = { ...ctx.query };
  const routers = await listAll('/v1/routers', { sort: 'name' });
  container.append(h('h1', { text: 'Routes' }));
  if (!routers.length) {
    container.append(message('info', 'No routers yet.'));
    return null;
  }
  const routerSelect = h('select', { id: 'rib-router', name: 'router' }, routers.map((r) => h('option', { value: r.name }, r.name)));
  routerSelect.value = q.router && routers.some((r) => r.name === q.router) ? q.router : routers[0].name;
  const tableSelect = h('select', { id: 'rib-table', name: 'table' },
    h('option', { value: 'global' }, 'global RIB'), h('option', { value: 'in' }, 'adj-RIB-in (received from)'),
    h('option', { value: 'out' }, 'adj-RIB-out (sent to)'));
  tableSelect.value = q.table || 'global';
  const neighborSelect = h('select', { id: 'rib-neighbor', name: 'neighbor' });
  const familySelect = h('select', { id: 'rib-family', name: 'family' },
    h('option', { value: '' }, 'default family'), h('option', { value: 'ipv4-unicast' }, 'ipv4-unicast'),
    h('option', { value: 'ipv6-unicast' }, 'ipv6-unicast'));
  familySelect.value = q.family || '';
  const prefixInput = h('input', { id: 'rib-prefix', name: 'prefix', type: 'search', placeholder: 'prefix or address', value: q.prefix || '' });
  const longer = h('input', { id: 'rib-longer', type: 'checkbox', checked: q.longer === 'true' });
  const bestOnly = h('input', { id: 'rib-best', type: 'checkbox', checked: q.best === 'true' });
  const form = h('form', { class: 'filters', id: 'rib-form', role: 'search' },
    h('label', {}, 'Router ', routerSelect), h('label', {}, 'Table ', tableSelect),
    h('label', { class: 'neighbor-pick' }, 'Neighbor ', neighborSelect), h('label', {}, 'Family ', familySelect),
    h('label', {}, 'Prefix ', prefixInput), h('label', { class: 'check' }, longer, ' more specifics'),
    h('label', { class: 'check' }, bestOnly, ' best only'),
    h('button', { type: 'submit', class: 'primary', id: 'rib-search' }, 'Show'));
  const status = h('div', { 'aria-live': 'polite' });
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const detail = h('div', { id: 'prefix-detail' });
  container.append(form, status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list compact', id: 'rib-table-view' },
      h('thead', {}, h('tr', {}, HEAD.map((t) => h('th', { text: t })))), body)),
    pager, detail);

  let cursors = [null]; // cursor of each page shown so far
  const router = () => routers.find((r) => r.name === routerSelect.value);

  async function loadNeighbors() {
    const items = await listAll('/v1/neighbors', { router: router().id, sort: 'address' });
    neighborSelect.replaceChildren(...items.map((n) => h('option', { value: n.id }, `${n.address} (AS${n.peer_asn})`)));
    if (q.neighbor && items.some((n) => n.id === q.neighbor)) neighborSelect.value = q.neighbor;
    return items;
  }

  function sync() {
    const adj = tableSelect.value !== 'global';
    form.querySelector('.neighbor-pick').hidden = !adj;
    bestOnly.parentElement.hidden = adj;
    longer.disabled = !prefixInput.value.trim();
  }

  async function load(pageIndex) {
    sync();
    const table = tableSelect.value;
    const params = {
      family: familySelect.value, prefix: prefixInput.value.trim(),
      longer: prefixInput.value.trim() && longer.checked ? 'true' : '', limit: 50, after: cursors[pageIndex] || '',
    };
    if (table === 'global' && bestOnly.checked) params.best = 'true';
    ctx.setQuery({
      router: routerSelect.value, table: table !== 'global' ? table : '', neighbor: table !== 'global' ? neighborSelect.value : '',
      family: params.family, prefix: params.prefix, longer: params.longer, best: params.best || '',
    });
    let path = `/v1/routers/${encodeURIComponent(router().id)}/rib`;
    if (table !== 'global') {
      if (!neighborSelect.value) {
        status.replaceChildren(message('info', 'This router has no neighbors.'));
        return;
      }
      path = `/v1/neighbors/${neighborSelect.value}/rib-${table}`;
    }
    status.replaceChildren(message('info', 'Reading from gobgpd…'));
    let page;
    try {
      page = await api.get(path, params);
    } catch (error) {
      status.replaceChildren(message('error', error.message));
      clear(body);
      return;
    }
    status.replaceChildren();
    clear(body);
    if (!page.items.length) body.append(h('tr', {}, h('td', { colspan: HEAD.length, class: 'empty', text: 'No routes.' })));
    for (const route of page.items) body.append(routeRow(route, showPrefix));
    cursors = cursors.slice(0, pageIndex + 1);
    if (page.next) cursors.push(page.next);
    fill(pager,
      h('span', { class: 'count', text: `page ${pageIndex + 1} · ${page.family} · ${page.items.length} paths` }),
      h('button', { type: 'button', class: 'secondary', disabled: pageIndex === 0, on: { click: () => load(pageIndex - 1) } }, '‹ Previous'),
      h('button', { type: 'button', class: 'secondary', disabled: !page.next, on: { click: () => load(pageIndex + 1) } }, 'Next ›'));
  }

  // Every path to one prefix in the router's global RIB: the best, why, the AS paths.
  async function showPrefix(prefix) {
    fill(detail, message('info', `Reading the paths to ${prefix}…`));
    try {
      const r = router();
      const page = await api.get(`/v1/routers/${encodeURIComponent(r.id)}/rib`, { prefix, family: familySelect.value, limit: 1 });
      const paths = page.items.filter((p) => p.prefix === prefix);
      const best = paths.find((p) => p.best);
      const rows = h('tbody');
      for (const p of [...paths].sort((a, b) => Number(b.best) - Number(a.best))) {
        rows.append(routeRow(p, showPrefix, p.best ? 'chosen by gobgpd' : best ? `best wins: ${whyBetter(best, p)}` : 'no best path'));
      }
      const graphBox = h('div', { class: 'aspath-canvas', id: 'aspath-graph' });
      fill(detail, section(`Paths to ${prefix} on ${r.name} (AS${r.asn})`,
        paths.length ? h('table', { class: 'list compact', id: 'prefix-paths' },
          h('thead', {}, h('tr', {}, [...HEAD, 'Why'].map((t) => h('th', { text: t })))), rows)
          : message('info', 'No path to this prefix in the global RIB.'),
        h('h3', { text: 'AS paths' }), graphBox));
      if (paths.length) asPathGraph(graphBox, r, prefix, paths);
    } catch (error) {
      fill(detail, message('error', error.message));
    }
  }

  routerSelect.addEventListener('change', async () => { cursors = [null]; await loadNeighbors(); load(0); });
  tableSelect.addEventListener('change', () => { cursors = [null]; load(0); });
  neighborSelect.addEventListener('change', () => { cursors = [null]; load(0); });
  prefixInput.addEventListener('input', sync);
  form.addEventListener('submit', (e) => { e.preventDefault(); cursors = [null]; load(0); });
  await loadNeighbors();
  await load(0);
  if (q.show) showPrefix(q.show);
  return killAsPathGraph;
}
