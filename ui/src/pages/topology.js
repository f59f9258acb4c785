// The fleet as a graph: every router and every peer (a neighbor address that is not
// one of our routers is an external peer node), one edge per session, coloured by
// its state and kept live from the event stream. A session between two of our routers
// (A's neighbor B and B's neighbor A) is one edge between them (join.js decides, by
// addresses or by the BGP identifier a session reported).
// graphology holds the graph, graphology-layout's circle packing (routers with their
// peers, by site, by project) lays it out, ForceAtlas2 refines small graphs, and
// sigma.js draws it with WebGL, which keeps 100 routers x 100 neighbors interactive.

import Graph from 'graphology';
import { circlepack } from 'graphology-layout';
import forceAtlas2 from 'graphology-layout-forceatlas2';
import Sigma from 'sigma';
import { EdgeLineProgram, EdgeRectangleProgram } from 'sigma/rendering';
import { api, listAll } from '../api.js';
import { badge, clear, dash, debounce, facts, fmtDuration, fmtTime, h, message } from '../dom.js';
import { joinTopology, joinsAnotherRouter, withSessionState } from '../join.js';

export const STATE_COLORS = {
  ESTABLISHED: '#2e9d48',
  OPENCONFIRM: '#d98e04',
  OPENSENT: '#d98e04',
  CONNECT: '#d98e04',
  ACTIVE: '#d98e04',
  IDLE: '#d1382e',
  UNKNOWN: '#8a8f98',
};
const ADMIN_DOWN = '#5b6b84';
const PEER_COLOR = '#7d8796';
const DIM = '#e3e6ea';
const SMALL = 1500; // nodes up to which ForceAtlas2 refines the packing
const EDGE_EVENTS = 5000; // edges up to which edges react to the mouse

function routerColor(router) {
  if (router.reachable === false) return '#b3261e';
  return router.reachable ? '#1f4e8c' : '#6b7280';
}

function edgeColor(state, adminDown) {
  return adminDown ? ADMIN_DOWN : STATE_COLORS[state] || STATE_COLORS.UNKNOWN;
}

const isDown = (state) => state !== 'ESTABLISHED';

// Routers, peers and sessions -> a graph with positions.
export function buildGraph(routers, neighbors, sites = []) {
  const graph = new Graph({ multi: true, type: 'directed' });
  const joined = joinTopology(routers, neighbors, sites);
  const reachable = new Map(routers.map((r) => [r.id, r]));
  for (const r of joined.routers) {
    graph.addNode(r.id, {
      kind: 'router', label: r.name, size: 7, color: routerColor(reachable.get(r.id)), project: r.project,
      site: r.site || `router:${r.id}`, group: r.id, x: 0, y: 0,
    });
  }
  for (const p of joined.peers) {
    graph.addNode(p.id, {
      kind: 'peer', label: p.label, size: 3, color: PEER_COLOR, project: p.project,
      site: p.site || `router:${p.router}`, group: p.router, x: 0, y: 0,
    });
  }
  for (const e of joined.edges) {
    graph.addDirectedEdgeWithKey(e.id, e.source, e.target, {
      kind: e.kind, sessions: e.sessions, state: e.state, adminDown: e.adminDown,
      color: edgeColor(e.state, e.adminDown), size: neighbors.length > SMALL ? 1 : 3,
    });
  }
  graph.setAttribute('edgeOf', joined.edgeOf);
  graph.setAttribute('joined', joined);
  circlepack.assign(graph, { hierarchyAttributes: ['project', 'site', 'group'] });
  if (graph.order <= SMALL && graph.size) {
    forceAtlas2.assign(graph, {
      iterations: 60,
      settings: { ...forceAtlas2.inferSettings(graph), barnesHutOptimize: graph.order > 300 },
    });
  }
  return graph;
}

function counts(graph) {
  const out = { established: 0, down: 0, total: graph.size };
  graph.forEachEdge((_e, a) => { if (isDown(a.state)) out.down += 1; else out.established += 1; });
  return out;
}

export async function topologyPage(container, ctx) {
  const filters = {
    project: ctx.query.project || '',
    router: ctx.query.router || '',
    state: ctx.query.state || 'all',
  };
  const summary = h('div', { class: 'summary', id: 'topology-summary', 'aria-live': 'polite' });
  const panel = h('aside', { class: 'details', id: 'topology-details' },
    h('p', { class: 'muted', text: 'Hover or click a router, a peer or a session.' }));
  const canvas = h('div', { class: 'topology-canvas', id: 'topology-canvas' });
  const status = h('div', { class: 'topology-status' });

  const projectSelect = h('select', { id: 'filter-project', name: 'project' }, h('option', { value: '' }, 'all projects'));
  const routerInput = h('input', { id: 'filter-router', type: 'search', placeholder: 'router name', value: filters.router });
  const stateSelect = h('select', { id: 'filter-state', name: 'state' },
    [['all', 'all sessions'], ['established', 'established'], ['down', 'not established'],
      ...Object.keys(STATE_COLORS).map((s) => [s, s])].map(([v, t]) => h('option', { value: v }, t)));
  stateSelect.value = filters.state;
  const legend = h('ul', { class: 'legend' },
    Object.entries({ Established: STATE_COLORS.ESTABLISHED, 'Connecting (Active/Connect/Open*)': STATE_COLORS.ACTIVE, Idle: STATE_COLORS.IDLE, Unknown: STATE_COLORS.UNKNOWN, 'Admin down': ADMIN_DOWN })
      .map(([label, color]) => h('li', { dataset: { color } }, h('span', { class: `swatch swatch-${color.slice(1)}` }), label)));

  container.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Topology' }), summary),
    h('form', { class: 'filters', role: 'search', on: { submit: (e) => e.preventDefault() } },
      h('label', {}, 'Project ', projectSelect), h('label', {}, 'Router ', routerInput),
      h('label', {}, 'State ', stateSelect)),
    status,
    h('div', { class: 'topology' }, canvas, panel),
    legend);

  let graph = null;
  let renderer = null;
  let selected = null; // {type: 'node'|'edge', key}
  let hovered = null;
  const stats = { fetchMs: 0, layoutMs: 0, renderMs: 0, nodes: 0, edges: 0 };
  // an edge by its key or by the id of one of its neighbors
  const edgeKey = (id) => (graph ? graph.getAttribute('edgeOf').get(id) || id : null);
  window.sdwanTopology = {
    stats,
    edgeState: (id) => (graph && graph.hasEdge(edgeKey(id)) ? graph.getEdgeAttributes(edgeKey(id)).state : null),
    edgeColor: (id) => (graph && graph.hasEdge(edgeKey(id)) ? graph.getEdgeAttributes(edgeKey(id)).color : null),
    // the routers an edge joins (or the router and the peer), by a neighbor id
    edgeEnds: (id) => (graph && graph.hasEdge(edgeKey(id)) ? graph.extremities(edgeKey(id)) : null),
    edgeCount: (a, b) => (graph ? new Set([...graph.edges(a, b), ...graph.edges(b, a)]).size : 0),
    hasNode: (id) => Boolean(graph && graph.hasNode(id)),
    nodeLabels: () => (graph ? graph.mapNodes((_n, a) => a.label) : []),
    // where a node is drawn, in CSS pixels from the canvas' top left (for pointing at it)
    nodePosition: (id) => (renderer && graph && graph.hasNode(id)
      ? renderer.graphToViewport(graph.getNodeAttributes(id)) : null),
  };

  if (ctx.isAdmin) {
    api.get('/v1/projects').then((page) => {
      for (const p of page.items || page) projectSelect.append(h('option', { value: p.name }, p.name));
      projectSelect.value = filters.project;
    }).catch(() => {});
  } else {
    projectSelect.replaceChildren(h('option', { value: '' }, ctx.me.project || 'your project'));
    projectSelect.disabled = true;
  }

  const routerMatches = (attrs) => !filters.router || attrs.label.toLowerCase().includes(filters.router.toLowerCase());
  const stateMatches = (state) => filters.state === 'all'
    || (filters.state === 'established' ? state === 'ESTABLISHED' : filters.state === 'down' ? isDown(state) : state === filters.state);

  function edgeVisible(edge, attrs) {
    if (!stateMatches(attrs.state)) return false;
    if (!filters.router) return true;
    const [source, target] = graph.extremities(edge);
    return routerMatches(graph.getNodeAttributes(source)) || routerMatches(graph.getNodeAttributes(target));
  }

  function nodeVisible(node, attrs) {
    if (filters.state === 'all' && !filters.router) return true;
    if (attrs.kind === 'router' && filters.state === 'all') return routerMatches(attrs) || graph.someEdge(node, (e, a) => edgeVisible(e, a));
    return graph.someEdge(node, (e, a) => edgeVisible(e, a));
  }

  const focus = () => hovered || selected;
  function highlighted(type, key) {
    const f = focus();
    if (!f) return true;
    if (f.type === 'edge') return type === 'edge' ? key === f.key : graph.extremities(f.key).includes(key);
    if (type === 'node') return key === f.key || graph.areNeighbors(key, f.key);
    return graph.extremities(key).includes(f.key);
  }

  function draw() {
    const t0 = performance.now();
    clear(canvas);
    if (renderer) renderer.kill();
    const big = graph.size > SMALL;
    renderer = new Sigma(graph, canvas, {
      defaultEdgeType: big ? 'line' : 'rect',
      edgeProgramClasses: { line: EdgeLineProgram, rect: EdgeRectangleProgram },
      enableEdgeEvents: graph.size <= EDGE_EVENTS,
      labelRenderedSizeThreshold: big ? 9 : graph.order < 200 ? 0 : 4,
      hideEdgesOnMove: big,
      zIndex: true,
      nodeReducer: (node, attrs) => {
        if (!nodeVisible(node, attrs)) return { ...attrs, hidden: true };
        if (!highlighted('node', node)) return { ...attrs, color: DIM, label: '', zIndex: 0 };
        return { ...attrs, zIndex: 1, highlighted: Boolean(focus() && focus().key === node) };
      },
      edgeReducer: (edge, attrs) => {
        if (!edgeVisible(edge, attrs)) return { ...attrs, hidden: true };
        if (!highlighted('edge', edge)) return { ...attrs, color: DIM, zIndex: 0 };
        return { ...attrs, zIndex: 1, size: focus() ? 3 : attrs.size };
      },
    });
    const focusOn = (hover, select) => { hovered = hover; selected = select; renderer.refresh(); showDetails(); };
    renderer.on('enterNode', ({ node }) => focusOn({ type: 'node', key: node }, selected));
    renderer.on('leaveNode', () => focusOn(null, selected));
    renderer.on('clickNode', ({ node }) => focusOn(hovered, { type: 'node', key: node }));
    // Edges: picked from sigma's picking layer under the pointer (its own edge events
    // did not fire in headless Chromium); a click on the stage selects the edge there.
    renderer.on('clickStage', () => focusOn(hovered, edgeUnderPointer ? { type: 'edge', key: edgeUnderPointer } : null));
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))));
  }

  let edgeUnderPointer = null;
  canvas.addEventListener('mousemove', (event) => {
    if (!renderer || !graph || graph.size > EDGE_EVENTS || (hovered && hovered.type === 'node')) return;
    const box = canvas.getBoundingClientRect();
    const edge = renderer.getEdgeAtPoint(event.clientX - box.left, event.clientY - box.top);
    if (edge === edgeUnderPointer) return;
    edgeUnderPointer = edge;
    hovered = edge ? { type: 'edge', key: edge } : null;
    renderer.refresh();
    showDetails();
  });

  function drawSummary() {
    const c = counts(graph);
    const routers = graph.filterNodes((_n, a) => a.kind === 'router').length;
    summary.dataset.established = c.established;
    summary.dataset.down = c.down;
    summary.textContent = `${routers} routers · ${graph.order - routers} peers · ${c.total} sessions: ${c.established} established, ${c.down} not`;
  }

  // Details of the hovered (else the selected) object: fresh from the API.
  const detailCache = new Map();
  async function fetchCached(path) {
    const hit = detailCache.get(path);
    if (hit && performance.now() - hit.at < 2000) return hit.data;
    const data = await api.get(path);
    detailCache.set(path, { at: performance.now(), data });
    return data;
  }

  function sessionFacts(n) {
    return [
      h('h3', {}, h('a', { href: `#/neighbors/${n.id}` }, `${n.router_name} → ${n.address}`), ' ', badge(n.session_state, 'session')),
      facts([
        ['Peer AS', n.peer_asn], ['Peer BGP identifier', n.remote_router_id], ['Status', badge(n.status)],
        ['Uptime', fmtDuration(n.uptime)], ['Established since', fmtTime(n.established_since)],
        ['Flaps', n.flap_count], ['Last down reason', n.last_down_reason],
        ['Prefixes received', n.prefixes_received], ['Prefixes accepted', n.prefixes_accepted],
      ]),
    ];
  }

  let detailsRun = 0;
  const showDetails = debounce(async () => {
    const run = ++detailsRun;
    const f = focus();
    if (!f || !graph) {
      panel.replaceChildren(h('p', { class: 'muted', text: 'Hover or click a router, a peer or a session.' }));
      return;
    }
    try {
      let content;
      if (f.type === 'edge') {
        const sessions = graph.getEdgeAttribute(f.key, 'sessions');
        const found = await Promise.all(sessions.map((s) => fetchCached(`/v1/neighbors/${s.neighbor}`)));
        content = found.flatMap(sessionFacts);
      } else if (graph.getNodeAttribute(f.key, 'kind') === 'router') {
        const r = await fetchCached(`/v1/routers/${f.key}`);
        const edges = graph.edges(f.key);
        const up = edges.filter((e) => !isDown(graph.getEdgeAttribute(e, 'state'))).length;
        content = [
          h('h3', {}, h('a', { href: `#/routers/${r.id}` }, `Router ${r.name}`), ' ', badge(r.status)),
          facts([
            ['AS', r.asn], ['Router ID', r.router_id], ['Project', r.project_id],
            ['gobgpd', r.reachable === null ? 'not contacted yet' : r.reachable ? `reachable, up ${fmtDuration(r.gobgpd_uptime)}` : `unreachable: ${dash(r.last_error)}`],
            ['Sessions', `${up} of ${edges.length} established`], ['Status detail', r.status_detail],
          ]),
        ];
      } else {
        const sessions = await Promise.all(graph.inEdges(f.key).slice(0, 5).map((e) => fetchCached(`/v1/neighbors/${e}`)));
        content = [h('h3', { text: `Peer ${graph.getNodeAttribute(f.key, 'label')}` }), ...sessions.flatMap(sessionFacts)];
      }
      if (run === detailsRun) panel.replaceChildren(...content);
    } catch (error) {
      if (run === detailsRun) panel.replaceChildren(message('error', error.message));
    }
  }, 120);

  async function load() {
    status.replaceChildren(message('info', 'Loading the fleet…'));
    const t0 = performance.now();
    const params = filters.project ? { project: filters.project } : {};
    const [routers, neighbors, sites] = await Promise.all([
      listAll('/v1/routers', params), listAll('/v1/neighbors', params), listAll('/v1/sites')]);
    const t1 = performance.now();
    graph = buildGraph(routers, neighbors, sites);
    const t2 = performance.now();
    const paint = await draw();
    Object.assign(stats, {
      fetchMs: Math.round(t1 - t0), layoutMs: Math.round(t2 - t1), renderMs: Math.round(t2 - t1 + paint),
      nodes: graph.order, edges: graph.size,
    });
    canvas.dataset.renderMs = String(stats.renderMs);
    canvas.dataset.ready = 'true';
    drawSummary();
    status.replaceChildren(graph.order ? h('p', {
      class: 'muted', id: 'topology-timing',
      text: `${graph.order} nodes, ${graph.size} edges: fetched in ${stats.fetchMs} ms, laid out and drawn in ${stats.renderMs} ms.`,
    }) : message('info', 'No routers yet.'));
  }

  const refilter = () => {
    ctx.setQuery({ project: filters.project, router: filters.router, state: filters.state !== 'all' ? filters.state : '' });
    if (renderer) renderer.refresh();
  };
  routerInput.addEventListener('input', debounce(() => { filters.router = routerInput.value.trim(); refilter(); }, 200));
  stateSelect.addEventListener('change', () => { filters.state = stateSelect.value; refilter(); });
  projectSelect.addEventListener('change', () => { filters.project = projectSelect.value; refilter(); reload(); });

  const reload = debounce(() => load().catch((e) => status.replaceChildren(message('error', e.message))), 500);
  const unsubscribe = ctx.stream.subscribe((event) => {
    if (!graph) return;
    const edge = edgeKey(event.resource_id);
    if (event.kind === 'session.changed'
      && joinsAnotherRouter(graph.getAttribute('joined'), event.resource_id, event.data.remote_router_id)) {
      reload(); // up, and its peer's BGP identifier names one of our routers: redrawn as that edge
    } else if (event.kind === 'session.changed' && graph.hasEdge(edge)) {
      const { session_state: state, admin_down: adminDown } = event.data;
      const changed = withSessionState(graph.getEdgeAttributes(edge), event.resource_id, state, adminDown);
      graph.mergeEdgeAttributes(edge, {
        sessions: changed.sessions, state: changed.state, adminDown: changed.adminDown,
        color: edgeColor(changed.state, changed.adminDown),
      });
      drawSummary();
      detailCache.clear();
      if (focus()) showDetails();
    } else if (event.kind === 'router.reachability' && graph.hasNode(event.resource_id)) {
      graph.setNodeAttribute(event.resource_id, 'color', routerColor({ reachable: event.data.reachable }));
    } else if (event.kind === 'resource.updated' && event.resource_type === 'site') {
      reload(); // its routers changed: the grouping follows
    } else if (['resource.created', 'resource.deleted'].includes(event.kind)
      || (event.kind === 'status.changed' && event.data.status === 'DELETED')) {
      if (['router', 'neighbor', 'site'].includes(event.resource_type)) reload();
    }
  });

  await load();
  return () => {
    unsubscribe();
    reload.cancel();
    showDetails.cancel();
    if (renderer) renderer.kill();
    delete window.sdwanTopology;
  };
}
