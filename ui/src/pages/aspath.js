// The AS paths to one prefix as a graph (as looking glasses draw them): this router's
// AS, every AS on the paths, the prefix; the best path highlighted. graphology holds
// it, a circular start refined by ForceAtlas2 lays it out, sigma.js draws it.

import Graph from 'graphology';
import { circular } from 'graphology-layout';
import forceAtlas2 from 'graphology-layout-forceatlas2';
import Sigma from 'sigma';

let current = null;

export function asPathText(segments) {
  return (segments || []).map((seg) => (seg.type === 'sequence' ? seg.asns.join(' ') : `{${seg.asns.join(',')}}`)).join(' ');
}

// The ASes of a path in order, a set as one hop ("{65001,65002}").
function hops(route) {
  return (route.as_path || []).flatMap((seg) => (seg.type === 'sequence' || seg.type === 'confed-sequence'
    ? seg.asns.map(String) : [`{${seg.asns.join(',')}}`]));
}

export function buildAsPathGraph(router, prefix, paths) {
  const graph = new Graph({ multi: false, type: 'directed' });
  const local = `AS${router.asn}`;
  graph.addNode(local, { label: `${local} (${router.name})`, size: 12, color: '#1f4e8c', x: 0, y: 0 });
  graph.addNode(prefix, { label: prefix, size: 10, color: '#6d28d9', x: 0, y: 0 });
  for (const path of [...paths].sort((a, b) => Number(a.best) - Number(b.best))) {
    let previous = local;
    for (const hop of [...hops(path), prefix]) {
      const node = hop === prefix ? prefix : `AS${hop}`;
      if (!graph.hasNode(node)) graph.addNode(node, { label: node, size: 8, color: '#7d8796', x: 0, y: 0 });
      if (node !== previous) {
        const attrs = path.best ? { color: '#2e9d48', size: 4, best: true } : { color: '#aab1bb', size: 2, best: false };
        if (!graph.hasEdge(previous, node)) graph.addDirectedEdge(previous, node, attrs);
        else if (path.best) graph.mergeDirectedEdgeAttributes(previous, node, attrs);
      }
      previous = node;
    }
  }
  circular.assign(graph);
  forceAtlas2.assign(graph, { iterations: 200, settings: { ...forceAtlas2.inferSettings(graph), edgeWeightInfluence: 0 } });
  return graph;
}

export function asPathGraph(container, router, prefix, paths) {
  killAsPathGraph();
  const graph = buildAsPathGraph(router, prefix, paths);
  container.dataset.nodes = String(graph.order);
  container.dataset.edges = String(graph.size);
  current = new Sigma(graph, container, { defaultEdgeType: 'arrow', labelRenderedSizeThreshold: 0, renderEdgeLabels: false });
  return graph;
}

export function killAsPathGraph() {
  if (current) current.kill();
  current = null;
}
