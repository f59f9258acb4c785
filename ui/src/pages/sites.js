// The sites map: every site a node coloured by its worst intent verdict, every
// uplink an edge from its site to its transport (mpls, internet...), coloured by the
// uplink's own live state (its BGP session, its probes). Kept live from the event
// stream: session.changed, intent.verdict, uplink.quality; sites, uplinks and intents
// created or deleted elsewhere appear and disappear.

import Graph from 'graphology';
import Sigma from 'sigma';
import { api, listAll } from '../api.js';
import { debounce, facts, fmtTime, h, message } from '../dom.js';
import {
  LEVEL_COLORS, VERDICT_COLORS, qualityText, sessionsOfUplinks, uplinkHealth, verdictBadge, verdictOf, worstVerdict,
} from '../sdwan.js';

const TRANSPORT_COLOR = '#17263b';
const NO_INTENT = '#1f4e8c';
const SDWAN_KINDS = ['site', 'uplink', 'intent'];

// sites, uplinks, intents, neighbors -> a graph with positions: transports in the
// middle, sites on a circle around them (by name).
export function buildSitesGraph(sites, uplinks, intents, neighbors) {
  const graph = new Graph({ multi: true });
  const sessions = sessionsOfUplinks(uplinks, neighbors);
  const transports = [...new Set(uplinks.map((u) => u.transport))].sort();
  transports.forEach((t, i) => {
    const angle = Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, transports.length);
    const r = transports.length > 1 ? 0.25 : 0;
    graph.addNode(`transport:${t}`, {
      kind: 'transport', label: t, size: 12, color: TRANSPORT_COLOR, x: r * Math.cos(angle), y: r * Math.sin(angle),
    });
  });
  const bySite = new Map(sites.map((s) => [s.id, []]));
  for (const intent of intents) bySite.get(intent.site)?.push(intent);
  [...sites].sort((a, b) => a.name.localeCompare(b.name)).forEach((site, i) => {
    const angle = (2 * Math.PI * i) / sites.length;
    const verdict = worstVerdict(bySite.get(site.id));
    graph.addNode(site.id, {
      kind: 'site', label: site.name, size: 6 + Math.min(6, site.routers.length), verdict,
      color: verdict ? VERDICT_COLORS[verdict] : NO_INTENT, x: Math.cos(angle), y: Math.sin(angle),
    });
  });
  for (const u of uplinks) {
    if (!graph.hasNode(u.site)) continue;
    const neighbor = sessions.get(u.id);
    const health = uplinkHealth(u, neighbor?.session_state);
    graph.addEdgeWithKey(u.id, u.site, `transport:${u.transport}`, {
      kind: 'uplink', label: u.name, neighbor: neighbor?.id || null, state: neighbor?.session_state,
      level: health.level, reason: health.reason, color: LEVEL_COLORS[health.level], size: 2.5,
      zIndex: ['unknown', 'ok', 'warn', 'bad'].indexOf(health.level),
    });
  }
  return graph;
}

export async function sitesPage(container, ctx) {
  const summary = h('div', { class: 'summary', id: 'sites-summary', 'aria-live': 'polite' });
  const canvas = h('div', { class: 'topology-canvas sites-canvas', id: 'sites-canvas' });
  const panel = h('aside', { class: 'details', id: 'sites-details' },
    h('p', { class: 'muted', text: 'Hover or click a site or an uplink.' }));
  const status = h('div', { class: 'topology-status' });
  const legend = h('ul', { class: 'legend' },
    [['uplink up', LEVEL_COLORS.ok], ['SLA class violated', LEVEL_COLORS.warn], ['session down or probes dead', LEVEL_COLORS.bad],
      ['unknown', LEVEL_COLORS.unknown]].map(([label, color]) => h('li', {}, h('span', { class: `swatch swatch-${color.slice(1)}` }), label)),
    h('li', { class: 'muted', text: 'sites: their worst intent verdict' }));
  container.append(h('div', { class: 'page-head' }, h('h1', { text: 'Sites' }), summary),
    status, h('div', { class: 'topology' }, canvas, panel), legend);

  let data = null; // {sites, uplinks, intents, neighbors}
  let graph = null;
  let renderer = null;
  let focus = null;
  const stats = { fetchMs: 0, renderMs: 0, nodes: 0, edges: 0 };
  window.sdwanSites = {
    stats,
    edgeColor: (id) => (graph && graph.hasEdge(id) ? graph.getEdgeAttribute(id, 'color') : null),
    edgeLevel: (id) => (graph && graph.hasEdge(id) ? graph.getEdgeAttribute(id, 'level') : null),
    siteVerdict: (id) => (graph && graph.hasNode(id) ? graph.getNodeAttribute(id, 'verdict') : null),
    nodePosition: (id) => (renderer && graph && graph.hasNode(id) ? renderer.graphToViewport(graph.getNodeAttributes(id)) : null),
  };

  function drawSummary() {
    const levels = { ok: 0, warn: 0, bad: 0, unknown: 0 };
    graph.forEachEdge((_e, a) => { levels[a.level] += 1; });
    const verdicts = {};
    for (const i of data.intents) verdicts[verdictOf(i)] = (verdicts[verdictOf(i)] || 0) + 1;
    summary.dataset.bad = String(levels.bad);
    summary.textContent = `${data.sites.length} sites · ${data.uplinks.length} uplinks (${levels.ok} up, ${levels.warn} violating a class, ${levels.bad} down) · ${data.intents.length} intents${
      Object.keys(verdicts).length ? `: ${Object.entries(verdicts).map(([v, n]) => `${n} ${v}`).join(', ')}` : ''}`;
  }

  function showDetails() {
    if (!focus || !graph) {
      panel.replaceChildren(h('p', { class: 'muted', text: 'Hover or click a site or an uplink.' }));
      return;
    }
    if (focus.type === 'edge') {
      const u = data.uplinks.find((x) => x.id === focus.key);
      const a = graph.getEdgeAttributes(focus.key);
      panel.replaceChildren(h('h3', {}, h('a', { href: `#/sites/${encodeURIComponent(u.site)}` }, `Uplink ${u.site_name}/${u.name}`)),
        facts([['Router', u.router_name], ['Neighbor', u.neighbor], ['Transport', u.transport], ['Cost', u.cost],
          ['Session', a.state || 'UNKNOWN'], ['State', a.reason], ['Quality', qualityText(u)],
          ['Used by', u.used_by.length ? u.used_by.join(', ') : 'no intent']]));
      return;
    }
    const site = data.sites.find((s) => s.id === focus.key);
    if (!site) return;
    const intents = data.intents.filter((i) => i.site === site.id);
    panel.replaceChildren(h('h3', {}, h('a', { href: `#/sites/${encodeURIComponent(site.id)}` }, `Site ${site.name}`)),
      facts([['Routers', site.routers.map((r) => r.router_name).join(', ') || '—'],
        ['Prefixes', site.prefixes.map((p) => p.prefix).join(', ') || '—'],
        ['Uplinks', site.uplinks.join(', ') || '—']]),
      h('ul', { class: 'intents' }, intents.map((i) => h('li', {},
        h('a', { href: `#/intents/${i.id}` }, i.name), ' ', verdictBadge(verdictOf(i)),
        i.verification ? h('span', { class: 'muted', text: ` since ${fmtTime(i.verification.since)}` }) : null))));
  }

  function draw() {
    const t0 = performance.now();
    if (renderer) renderer.kill();
    renderer = new Sigma(graph, canvas, {
      enableEdgeEvents: true, labelRenderedSizeThreshold: graph.order > 60 ? 6 : 0, zIndex: true, renderEdgeLabels: false,
      edgeReducer: (edge, attrs) => (focus && focus.type === 'node' && !graph.extremities(edge).includes(focus.key)
        ? { ...attrs, color: '#e3e6ea', zIndex: 0 } : { ...attrs, size: focus && focus.key === edge ? 5 : attrs.size }),
    });
    const on = (next) => { focus = next; renderer.refresh(); showDetails(); };
    renderer.on('enterNode', ({ node }) => on({ type: 'node', key: node }));
    renderer.on('clickNode', ({ node }) => {
      if (graph.getNodeAttribute(node, 'kind') === 'site') ctx.navigate(`sites/${node}`);
    });
    renderer.on('enterEdge', ({ edge }) => on({ type: 'edge', key: edge }));
    renderer.on('clickEdge', ({ edge }) => on({ type: 'edge', key: edge }));
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))));
  }

  async function load() {
    const t0 = performance.now();
    const [sites, uplinks, intents, neighbors] = await Promise.all(
      ['/v1/sites', '/v1/uplinks', '/v1/intents', '/v1/neighbors'].map((path) => listAll(path)));
    data = { sites, uplinks, intents, neighbors };
    const t1 = performance.now();
    graph = buildSitesGraph(sites, uplinks, intents, neighbors);
    await draw();
    Object.assign(stats, { fetchMs: Math.round(t1 - t0), renderMs: Math.round(performance.now() - t1), nodes: graph.order, edges: graph.size });
    canvas.dataset.ready = 'true';
    drawSummary();
    showDetails();
    status.replaceChildren(sites.length ? h('p', {
      class: 'muted', id: 'sites-timing', text: `${sites.length} sites: fetched in ${stats.fetchMs} ms, drawn in ${stats.renderMs} ms.`,
    }) : message('info', 'No sites yet.'));
  }

  function recolourUplink(u) {
    if (!graph.hasEdge(u.id)) return;
    const state = graph.getEdgeAttribute(u.id, 'state');
    const health = uplinkHealth(u, state);
    graph.mergeEdgeAttributes(u.id, { level: health.level, reason: health.reason, color: LEVEL_COLORS[health.level] });
  }

  const reload = debounce(() => load().catch((e) => status.replaceChildren(message('error', e.message))), 500);
  const unsubscribe = ctx.stream.subscribe(async (event) => {
    if (!graph) return;
    if (event.kind === 'session.changed') {
      const edge = graph.findEdge((_e, a) => a.neighbor === event.resource_id);
      if (!edge) return;
      graph.setEdgeAttribute(edge, 'state', event.data.session_state);
      recolourUplink(data.uplinks.find((u) => u.id === edge));
    } else if (event.kind === 'intent.verdict') {
      const intent = data.intents.find((i) => i.id === event.resource_id);
      if (!intent) { reload(); return; }
      intent.verification = { ...(intent.verification || {}), verdict: event.data.verdict, detail: event.data.detail, since: event.time };
      const verdict = worstVerdict(data.intents.filter((i) => i.site === intent.site));
      if (graph.hasNode(intent.site)) graph.mergeNodeAttributes(intent.site, { verdict, color: VERDICT_COLORS[verdict] });
    } else if (event.kind === 'uplink.quality' && graph.hasEdge(event.resource_id)) {
      const fresh = await api.get(`/v1/uplinks/${event.resource_id}`).catch(() => null);
      if (!fresh) return;
      const i = data.uplinks.findIndex((u) => u.id === fresh.id);
      if (i >= 0) data.uplinks[i] = fresh;
      recolourUplink(fresh);
    } else if (SDWAN_KINDS.includes(event.resource_type) && event.kind.startsWith('resource.')) {
      reload();
      return;
    } else {
      return;
    }
    drawSummary();
    showDetails();
  });

  await load();
  return () => {
    unsubscribe();
    reload.cancel();
    if (renderer) renderer.kill();
    delete window.sdwanSites;
  };
}
