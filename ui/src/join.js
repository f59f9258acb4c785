// Which neighbors of the fleet are sessions between two managed routers, and which
// lead outside. Pure (no DOM, no requests): the topology page draws what it returns,
// and ui/test/join.test.js checks it.
//
// A neighbor's address names another router of the same project when it is that
// router's router ID, one of its listen addresses, or the local address one of that
// router's own neighbors is declared with. A neighbor whose address names none of them
// is still a session to router B when its session reports B's router ID as the peer's
// BGP identifier (`remote_router_id`, known while it is Established) and its peer AS is
// B's AS (an identifier is unique only within an AS). The two neighbors of such a pair
// (A's neighbor B and B's neighbor A) are one session, drawn as one edge; any other
// neighbor leads to an external peer. Routers are grouped by
// their site (a router without a site forms a group of its own), peers with their
// router.

export const DOWN_ORDER = ['UNKNOWN', 'IDLE', 'ACTIVE', 'CONNECT', 'OPENSENT', 'OPENCONFIRM', 'ESTABLISHED'];

// The state an edge of two sessions shows: the less advanced one (an edge is
// Established only when both routers say so); an admin-down side wins.
export function combinedState(sessions) {
  const states = sessions.map((s) => s.state || 'UNKNOWN');
  const rank = (s) => {
    const i = DOWN_ORDER.indexOf(s);
    return i < 0 ? 0 : i;
  };
  const state = states.reduce((worst, s) => (rank(s) < rank(worst) ? s : worst), states[0] || 'UNKNOWN');
  return { state, adminDown: sessions.some((s) => s.adminDown) };
}

const key = (project, address) => `${project}|${address}`;
const identifierKey = (project, asn, identifier) => `${project}|AS${asn}|${identifier}`;

// routers: [{id, name, project_id, asn, router_id, listen_addresses}]
// neighbors: [{id, router, address, peer_asn, local_address, session_state, enabled,
//     remote_router_id}]
// sites: [{id, name, routers: [{router}]}]
// -> {routers: [{id, name, project, site}], peers: [{id, label, project, router, site}],
//     edges: [{id, source, target, kind: 'internal'|'external', sessions: [{neighbor,
//     router, address, state, adminDown}], state, adminDown}], edgeOf: Map(neighbor id -> edge id),
//     external: Map(neighbor id -> {router, project, peerAsn}) of the neighbors drawn to a peer,
//     identified: Map(project|AS|identifier -> router id, or null when two routers claim it)}
export function joinTopology(routers, neighbors, sites = []) {
  const siteOf = new Map();
  for (const site of sites) for (const member of site.routers || []) siteOf.set(member.router, site.id);
  const project = new Map(routers.map((r) => [r.id, r.project_id]));
  const owner = new Map(); // project|address -> router id
  const claim = (p, address, routerId) => {
    if (!address) return;
    const k = key(p, address);
    if (!owner.has(k)) owner.set(k, routerId);
    else if (owner.get(k) !== routerId) owner.set(k, null); // two routers claim it: no join
  };
  for (const r of routers) {
    for (const address of [r.router_id, ...(r.listen_addresses || [])]) claim(r.project_id, address, r.id);
  }
  for (const n of neighbors) {
    if (project.has(n.router)) claim(project.get(n.router), n.local_address, n.router);
  }
  const identified = new Map();
  for (const r of routers) {
    if (!r.router_id) continue;
    const k = identifierKey(r.project_id, r.asn, r.router_id);
    identified.set(k, identified.has(k) && identified.get(k) !== r.id ? null : r.id);
  }

  const out = {
    routers: routers.map((r) => ({ id: r.id, name: r.name, project: r.project_id, site: siteOf.get(r.id) || null })),
    peers: [],
    edges: [],
    edgeOf: new Map(),
    external: new Map(),
    identified,
  };
  const peers = new Map();
  const internal = new Map(); // "a|b" (a < b) -> [neighbors from a to b, neighbors from b to a]
  const session = (n) => ({
    neighbor: n.id, router: n.router, address: n.address,
    state: n.session_state || 'UNKNOWN', adminDown: n.enabled === false,
  });
  const external = (n, p) => {
    const peerId = `peer:${key(p, n.address)}`;
    if (!peers.has(peerId)) {
      peers.set(peerId, {
        id: peerId, label: `${n.address} (AS${n.peer_asn})`, project: p, router: n.router, site: siteOf.get(n.router) || null,
      });
    }
    const s = session(n);
    out.edges.push({ id: n.id, source: n.router, target: peerId, kind: 'external', sessions: [s], ...combinedState([s]) });
    out.edgeOf.set(n.id, n.id);
    out.external.set(n.id, { router: n.router, project: p, peerAsn: n.peer_asn });
  };

  for (const n of [...neighbors].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!project.has(n.router)) continue;
    const p = project.get(n.router);
    let target = owner.get(key(p, n.address));
    if (!target || target === n.router) target = identifiedRouter(out, p, n.peer_asn, n.remote_router_id);
    if (!target || target === n.router) {
      external(n, p);
      continue;
    }
    const [a, b] = n.router < target ? [n.router, target] : [target, n.router];
    const pair = `${a}|${b}`;
    if (!internal.has(pair)) internal.set(pair, [[], []]);
    internal.get(pair)[n.router === a ? 0 : 1].push(n);
  }

  for (const [pair, [forward, backward]] of internal) {
    const [a, b] = pair.split('|');
    const unmatched = [...backward];
    for (const n of forward) {
      // parallel sessions between two routers: the other side's neighbor whose address
      // is this one's local address (or whose local address is this one's address)
      // matches it; without local addresses they are paired in order
      const same = (m) => (n.local_address && m.address === n.local_address) || (m.local_address && m.local_address === n.address);
      let i = unmatched.findIndex(same);
      if (i < 0) i = unmatched.findIndex((m) => !m.local_address && !n.local_address);
      if (i < 0 && unmatched.length) i = 0;
      const other = i >= 0 ? unmatched.splice(i, 1)[0] : null;
      addInternal(out, a, b, other ? [n, other] : [n], session);
    }
    for (const m of unmatched) addInternal(out, a, b, [m], session);
  }
  out.peers = [...peers.values()];
  return out;
}

function identifiedRouter(topology, project, peerAsn, identifier) {
  return identifier ? topology.identified.get(identifierKey(project, peerAsn, identifier)) : undefined;
}

// Whether a neighbor drawn to an external peer would now be an edge between two of our
// routers: its session came up reporting (a session.changed event's remote_router_id)
// the BGP identifier of another router of its project and peer AS.
export function joinsAnotherRouter(topology, neighborId, identifier) {
  const n = topology.external.get(neighborId);
  if (!n) return false;
  const target = identifiedRouter(topology, n.project, n.peerAsn, identifier);
  return Boolean(target) && target !== n.router;
}

function addInternal(out, a, b, pair, session) {
  const sessions = pair.map(session);
  const id = pair.map((n) => n.id).join('+');
  out.edges.push({ id, source: a, target: b, kind: 'internal', sessions, ...combinedState(sessions) });
  for (const n of pair) out.edgeOf.set(n.id, id);
}

// The edge after one of its sessions changed state (a session.changed event).
export function withSessionState(edge, neighborId, state, adminDown) {
  const sessions = edge.sessions.map((s) => (s.neighbor === neighborId ? { ...s, state, adminDown: Boolean(adminDown) } : s));
  return { ...edge, sessions, ...combinedState(sessions) };
}
