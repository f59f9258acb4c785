// The topology's joining of sessions between managed routers (src/join.js), run by
// `node --test ui/test/` (tests/unit/test_ui_scripts.py runs it with the unit tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combinedState, joinsAnotherRouter, joinTopology, withSessionState } from '../src/join.js';

const router = (id, routerId, extra = {}) => ({
  id, name: id.toUpperCase(), project_id: 'p1', asn: 65000, router_id: routerId, listen_addresses: [], ...extra,
});
const neighbor = (id, from, address, extra = {}) => ({
  id, router: from, address, peer_asn: 65000, local_address: null, session_state: 'ESTABLISHED', enabled: true, ...extra,
});

test('two routers peering at their router IDs are one edge, not two peers', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [neighbor('n1', 'a', '198.18.0.2'), neighbor('n2', 'b', '198.18.0.1')],
  );
  assert.equal(t.peers.length, 0);
  assert.equal(t.edges.length, 1);
  const [edge] = t.edges;
  assert.deepEqual([edge.source, edge.target, edge.kind], ['a', 'b', 'internal']);
  assert.deepEqual(edge.sessions.map((s) => s.neighbor).sort(), ['n1', 'n2']);
  assert.equal(t.edgeOf.get('n1'), edge.id);
  assert.equal(t.edgeOf.get('n2'), edge.id);
});

test('a listen address or a neighbor local address names the router too', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1', { listen_addresses: ['198.18.31.1'] }), router('b', '198.18.0.2')],
    [
      neighbor('n1', 'b', '198.18.31.1'),
      neighbor('n2', 'a', '198.18.31.2', { local_address: '198.18.31.1' }),
      neighbor('n3', 'b', '198.18.32.9', { local_address: '198.18.31.2' }),
    ],
  );
  // n2's address is b's local address of n3: a-b; n1 names a's listen address
  const internal = t.edges.filter((e) => e.kind === 'internal');
  assert.equal(internal.length, 1);
  assert.deepEqual(internal[0].sessions.map((s) => s.neighbor).sort(), ['n1', 'n2']);
  assert.deepEqual(t.peers.map((p) => p.label), ['198.18.32.9 (AS65000)']);
});

test('an address elsewhere, in another project, or claimed by two routers is a peer', () => {
  const t = joinTopology(
    [
      router('a', '198.18.0.1'), router('b', '198.18.0.2', { project_id: 'p2' }),
      router('c', '198.18.0.3', { listen_addresses: ['198.18.9.9'] }),
      router('d', '198.18.0.4', { listen_addresses: ['198.18.9.9'] }),
    ],
    [neighbor('n1', 'a', '198.18.0.2'), neighbor('n2', 'a', '198.18.9.9'), neighbor('n3', 'a', '203.0.113.1')],
  );
  assert.equal(t.edges.filter((e) => e.kind === 'internal').length, 0);
  assert.equal(t.peers.length, 3);
  assert.deepEqual(t.edges.map((e) => e.id).sort(), ['n1', 'n2', 'n3']);
});

test('a one-sided declaration is still an edge between the routers', () => {
  const t = joinTopology([router('a', '198.18.0.1'), router('b', '198.18.0.2')], [neighbor('n1', 'b', '198.18.0.1')]);
  assert.equal(t.edges.length, 1);
  assert.deepEqual([t.edges[0].source, t.edges[0].target, t.edges[0].sessions.length], ['a', 'b', 1]);
});

test('parallel sessions are paired by their local addresses', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2', { listen_addresses: ['198.18.41.2', '198.18.42.2'] })],
    [
      neighbor('x1', 'a', '198.18.41.2', { local_address: '198.18.41.1' }),
      neighbor('x2', 'a', '198.18.42.2', { local_address: '198.18.42.1' }),
      neighbor('y2', 'b', '198.18.42.1', { local_address: '198.18.42.2' }),
      neighbor('y1', 'b', '198.18.41.1', { local_address: '198.18.41.2' }),
    ],
  );
  assert.deepEqual(t.edges.map((e) => e.id).sort(), ['x1+y1', 'x2+y2']);
});

test('routers are grouped by site, peers with their router', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [neighbor('n1', 'a', '203.0.113.1')],
    [{ id: 's1', name: 'hq', routers: [{ router: 'a' }] }],
  );
  assert.deepEqual(t.routers.map((r) => [r.id, r.site]), [['a', 's1'], ['b', null]]);
  assert.equal(t.peers[0].site, 's1');
});

test('the edge shows the less advanced side, and follows each side', () => {
  assert.deepEqual(combinedState([{ state: 'ESTABLISHED' }, { state: 'ACTIVE' }]), { state: 'ACTIVE', adminDown: false });
  assert.equal(combinedState([{ state: 'ESTABLISHED' }, { state: 'UNKNOWN' }]).state, 'UNKNOWN');
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [neighbor('n1', 'a', '198.18.0.2'), neighbor('n2', 'b', '198.18.0.1')],
  );
  const down = withSessionState(t.edges[0], 'n2', 'IDLE', false);
  assert.equal(down.state, 'IDLE');
  assert.equal(withSessionState(down, 'n2', 'ESTABLISHED', false).state, 'ESTABLISHED');
  assert.equal(withSessionState(down, 'n1', 'ESTABLISHED', true).adminDown, true);
});

test('a session reporting a router\'s BGP identifier joins it when no address does', () => {
  // A peers with B at 198.18.51.2, B with A at 198.18.51.1: neither is declared anywhere
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [
      neighbor('n1', 'a', '198.18.51.2', { remote_router_id: '198.18.0.2' }),
      neighbor('n2', 'b', '198.18.51.1', { remote_router_id: '198.18.0.1' }),
    ],
  );
  assert.equal(t.peers.length, 0);
  assert.equal(t.edges.length, 1);
  assert.deepEqual([t.edges[0].source, t.edges[0].target, t.edges[0].kind], ['a', 'b', 'internal']);
  assert.deepEqual(t.edges[0].sessions.map((s) => s.neighbor).sort(), ['n1', 'n2']);
  assert.equal(t.external.size, 0);
});

test('one side known by address, the other by identifier: still one edge', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [
      neighbor('n1', 'a', '198.18.0.2'),
      neighbor('n2', 'b', '198.18.51.1', { remote_router_id: '198.18.0.1' }),
    ],
  );
  assert.deepEqual(t.edges.map((e) => e.id), ['n1+n2']);
});

test('an identifier of another AS, of two routers, of its own router or unknown joins nothing', () => {
  const t = joinTopology(
    [
      router('a', '198.18.0.1'), router('b', '198.18.0.2'),
      router('c', '198.18.0.9'), router('d', '198.18.0.9'),
    ],
    [
      neighbor('n1', 'a', '203.0.113.1', { remote_router_id: '198.18.0.2', peer_asn: 64999 }),
      neighbor('n2', 'a', '203.0.113.2', { remote_router_id: '198.18.0.9' }),
      neighbor('n3', 'a', '203.0.113.3', { remote_router_id: '198.18.0.1' }),
      neighbor('n4', 'a', '203.0.113.4', { remote_router_id: '198.18.7.7' }),
      neighbor('n5', 'b', '203.0.113.5', { remote_router_id: null }),
    ],
  );
  assert.equal(t.edges.filter((e) => e.kind === 'internal').length, 0);
  assert.equal(t.peers.length, 5);
  assert.deepEqual([...t.external.keys()].sort(), ['n1', 'n2', 'n3', 'n4', 'n5']);
});

test('an address that names a router wins over the identifier', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2'), router('c', '198.18.0.3')],
    [neighbor('n1', 'a', '198.18.0.2', { remote_router_id: '198.18.0.3' })],
  );
  assert.deepEqual([t.edges[0].source, t.edges[0].target], ['a', 'b']);
});

test('a peer whose session comes up with one of our identifiers needs joining anew', () => {
  const t = joinTopology(
    [router('a', '198.18.0.1'), router('b', '198.18.0.2')],
    [neighbor('n1', 'a', '198.18.51.2', { session_state: 'ACTIVE' }), neighbor('n2', 'b', '198.18.0.1')],
  );
  assert.equal(t.edgeOf.get('n1'), 'n1'); // drawn to a peer while nothing names b
  assert.equal(joinsAnotherRouter(t, 'n1', '198.18.0.2'), true);
  assert.equal(joinsAnotherRouter(t, 'n1', '198.18.0.1'), false); // its own router
  assert.equal(joinsAnotherRouter(t, 'n1', '203.0.113.9'), false);
  assert.equal(joinsAnotherRouter(t, 'n1', null), false); // a session going down
  assert.equal(joinsAnotherRouter(t, 'n2', '198.18.0.1'), false); // already an edge to a
});
