// One site: its routers (reachable or not), its uplinks with their session and their
// measured quality (live figures and plots over the stored history), its intents
// with their verdict and since when. Built on the detail skeleton (edit, delete,
// conditions, events, audit); the tables follow the event stream.

import { api, listAll } from '../api.js';
import { badge, clear, facts, fmtTime, h, message, section } from '../dom.js';
import {
  LEVEL_COLORS, destinationText, preferText, qualityText, sessionsOfUplinks, uplinkHealth, uplinkQualityPlot,
  verdictBadge, verdictOf,
} from '../sdwan.js';
import { detailPage } from './detail.js';

const SITE_FIELDS = [
  { key: 'description', label: 'Description', type: 'text' },
  { key: 'next_hop_self', label: 'Next hop self towards iBGP peers', type: 'checkbox' },
];
const QUALITY_POLL_MS = 5000; // live figures: the probe agents report more often than events say

function table(id, headings) {
  const body = h('tbody');
  return { body, el: h('table', { class: 'list compact', id }, h('thead', {}, h('tr', {}, headings.map((t) => h('th', { text: t })))), body) };
}

function emptyRow(body, columns, text) {
  body.append(h('tr', {}, h('td', { colspan: columns, class: 'empty', text })));
}

export async function sitePage(container, ctx, key) {
  const routers = table('site-routers', ['Router', 'Router ID', 'AS', 'gobgpd', 'Status']);
  const uplinks = table('site-uplinks', ['Uplink', 'Router', 'Neighbor', 'Transport', 'Cost', 'Session', 'State', 'Quality (short window)', 'Used by']);
  const intents = table('site-intents', ['Intent', 'Destination', 'Tiers', 'Verdict', 'Since', 'Detail']);
  const plotsBox = h('div', { class: 'plots', id: 'site-plots' });
  const boxes = {
    routers: section('Routers', routers.el),
    uplinks: section('Uplinks', uplinks.el),
    intents: section('Intents', intents.el),
    plots: section('Uplink quality', h('p', { class: 'muted', text: 'Loss, latency and jitter as the probe agents measured them. Drag across a plot to zoom, double-click to zoom out.' }), plotsBox),
  };
  const plots = new Map(); // uplink id -> plot
  let site = null;

  function drawRouters(found) {
    clear(routers.body);
    if (!found.length) emptyRow(routers.body, 5, 'No routers.');
    for (const r of found) {
      routers.body.append(h('tr', { dataset: { id: r.id } },
        h('td', {}, h('a', { href: `#/routers/${r.id}` }, r.name)), h('td', { text: r.router_id }), h('td', { text: r.asn }),
        h('td', {}, r.reachable === null ? badge('UNKNOWN', 'session') : badge(r.reachable ? 'reachable' : 'unreachable', 'reach')),
        h('td', {}, badge(r.status))));
    }
  }

  function drawUplinks(found, neighbors) {
    const sessions = sessionsOfUplinks(found, neighbors);
    clear(uplinks.body);
    if (!found.length) emptyRow(uplinks.body, 9, 'No uplinks.');
    for (const u of found) {
      const n = sessions.get(u.id);
      const health = uplinkHealth(u, n?.session_state);
      uplinks.body.append(h('tr', { dataset: { id: u.id, name: u.name, level: health.level } },
        h('td', {}, h('span', { class: `dot dot-${LEVEL_COLORS[health.level].slice(1)}` }), u.name),
        h('td', { text: u.router_name }),
        h('td', {}, n ? h('a', { href: `#/neighbors/${n.id}` }, u.neighbor) : u.neighbor),
        h('td', { text: u.transport }), h('td', { text: u.cost }),
        h('td', {}, badge(n?.session_state || 'UNKNOWN', 'session')),
        h('td', { text: health.reason }),
        h('td', { class: 'quality', text: qualityText(u) }),
        h('td', { text: u.used_by.join(', ') || '—' })));
    }
  }

  function drawIntents(found) {
    clear(intents.body);
    if (!found.length) emptyRow(intents.body, 6, 'No intents.');
    for (const i of found) {
      intents.body.append(h('tr', { dataset: { id: i.id, name: i.name, verdict: verdictOf(i) } },
        h('td', {}, h('a', { href: `#/intents/${i.id}` }, i.name)),
        h('td', { text: destinationText(i.destination) }),
        h('td', { text: preferText(i.tiers) }),
        h('td', {}, verdictBadge(verdictOf(i))),
        h('td', { text: i.verification ? fmtTime(i.verification.since) : '—' }),
        h('td', { text: i.verification?.detail || i.status_detail || '—' })));
    }
  }

  function drawPlots(found) {
    for (const [id, plot] of plots) {
      if (!found.some((u) => u.id === id)) { plot.destroy(); plot.el.remove(); plots.delete(id); }
    }
    for (const u of found) {
      if (plots.has(u.id)) { plots.get(u.id).update(u); continue; }
      const plot = uplinkQualityPlot(u);
      plots.set(u.id, plot);
      plotsBox.append(plot.el);
      plot.load();
    }
    if (!found.length && !plotsBox.querySelector('.empty')) plotsBox.append(h('p', { class: 'muted empty', text: 'No uplinks.' }));
    if (found.length) plotsBox.querySelector('.empty')?.remove();
  }

  async function loadParts(r, { plotsToo = true } = {}) {
    site = r;
    const [found, intentList, neighbors, routerList] = await Promise.all([
      listAll('/v1/uplinks', { site: r.id }),
      listAll('/v1/intents', { site: r.id }),
      Promise.all(r.routers.map((m) => listAll('/v1/neighbors', { router: m.router }))).then((all) => all.flat()),
      Promise.all(r.routers.map((m) => api.get(`/v1/routers/${m.router}`))),
    ]);
    drawRouters(routerList);
    drawUplinks(found, neighbors);
    drawIntents(intentList);
    if (plotsToo) drawPlots(found);
  }

  const failed = (box) => (error) => box.append(message('error', error.message));
  const timer = setInterval(() => {
    if (site && document.visibilityState === 'visible') loadParts(site, { plotsToo: false }).catch(() => {});
  }, QUALITY_POLL_MS);
  const historyTimer = setInterval(() => { for (const plot of plots.values()) plot.load(); }, 60_000);

  const cleanup = await detailPage(container, ctx, {
    path: `/v1/sites/${encodeURIComponent(key)}`,
    item: (r) => `/v1/sites/${r.id}`,
    kind: 'site',
    fields: SITE_FIELDS,
    list: 'sites',
    name: (r) => r.name,
    title: (r) => h('h1', {}, `Site ${r.name} `, badge(r.status)),
    links: () => [h('a', { class: 'button secondary', href: '#/sites' }, 'Map')],
    sections: (r) => [
      section('Site', facts([
        ['ID', r.id], ['Project', r.project_id],
        ['Prefixes', r.prefixes.length ? r.prefixes.map((p) => p.prefix).join(', ') : 'none'],
        ['Next hop self', r.next_hop_self ? 'yes' : 'no'], ['Description', r.description],
        ['Version', r.version], ['Updated', fmtTime(r.updated_at)],
      ])),
      boxes.routers, boxes.uplinks, boxes.intents, boxes.plots,
    ],
    events: (r) => ({ routerName: r.name }),
    watches: (e, r) => e.resource_id === r.id || e.data?.site === r.id
      || (['uplink', 'intent'].includes(e.resource_type) && e.kind.startsWith('resource.'))
      || (e.kind === 'session.changed' && r.routers.some((m) => m.router_name === e.router_name))
      || (e.kind === 'router.reachability' && r.routers.some((m) => m.router === e.resource_id)),
    deletion: (r) => ({
      title: `Delete site ${r.name}?`,
      lines: [
        `Its ${r.uplinks.length} uplink(s) and ${r.intents.length} intent(s) are deleted with it.`,
        'Their policy objects leave the routers; the routers and their neighbors stay.',
      ],
    }),
    deleted: () => 'Site deleted.',
    gone: (r) => `Site ${r.name} is gone.`,
    after: (r) => loadParts(r).catch(failed(boxes.uplinks)),
  }).catch((error) => { clearInterval(timer); clearInterval(historyTimer); throw error; });
  return () => {
    clearInterval(timer);
    clearInterval(historyTimer);
    for (const plot of plots.values()) plot.destroy();
    if (typeof cleanup === 'function') cleanup();
  };
}
