// One intent: its tiers, its verdict, router by router the path predicted next to
// the one gobgpd (and the kernel) use with the decision step that chose it, its
// verdict history (intent.verdict events, live), and for members the plan of a
// changed preference before applying it (intent_plan.js). Built on the detail skeleton.

import { api } from '../api.js';
import { badge, clear, dash, facts, fmtTime, h, message, section } from '../dom.js';
import { destinationText, preferText, verdictBadge, verdictOf } from '../sdwan.js';
import { detailPage } from './detail.js';
import { planBox } from './intent_plan.js';

const CHECK_POLL_MS = 3000; // a path can move without a verdict change (and its event)
const INTENT_FIELDS = [{ key: 'description', label: 'Description', type: 'text' }];

// "uplink vb (198.18.110.2)", or how it came: the planner's own words (via)
function pathLine(p) {
  if (!p) return 'no path';
  return p.via || (p.uplink ? `${p.uplink}${p.neighbor ? ` (${p.neighbor})` : ''}` : 'no path');
}

function usedLine(actual) {
  if (!actual) return 'not checked';
  const bgp = actual.neighbor ? `${actual.uplink || '?'} (${actual.neighbor})` : 'no best path';
  return actual.kernel ? `${bgp}; kernel via ${actual.kernel.join(', ') || 'nothing'}` : bgp;
}

export function pathsTable(paths, id) {
  const body = h('tbody');
  for (const p of paths) {
    const predicted = p.predicted || {};
    body.append(h('tr', { dataset: { router: p.router, prefix: p.prefix, state: p.state } },
      h('td', { text: p.router }), h('td', {}, h('code', { text: p.prefix })),
      h('td', { text: p.tier === null || p.tier === undefined ? '—' : `${p.tier + 1}: ${p.expected.join(', ') || '—'}` }),
      h('td', { class: 'predicted', text: pathLine(predicted) }),
      h('td', { class: 'step' }, h('strong', { text: dash(predicted.step) }),
        h('ul', { class: 'why' }, (Array.isArray(predicted.why) ? predicted.why : [predicted.why]).filter(Boolean).map((w) => h('li', { text: w })))),
      h('td', { class: 'used', text: usedLine(p.actual) }),
      h('td', { text: p.state }), h('td', {}, verdictBadge(p.verdict)), h('td', { class: 'why', text: dash(p.reason) })));
  }
  if (!paths.length) body.append(h('tr', {}, h('td', { colspan: 9, class: 'empty', text: 'No paths checked yet.' })));
  return h('table', { class: 'list compact paths', id },
    h('thead', {}, h('tr', {}, ['Router', 'Prefix', 'Expected tier', 'Predicted', 'Decided by', 'Used', 'State', 'Verdict', 'Why'].map((t) => h('th', { text: t })))),
    body);
}

// intent.verdict events of this intent, newest first, kept live.
function verdictHistory(ctx, intent) {
  const body = h('tbody');
  const box = section('Verdict history', h('table', { class: 'list compact', id: 'verdict-history' },
    h('thead', {}, h('tr', {}, ['When', 'From', 'To', 'Detail'].map((t) => h('th', { text: t })))), body));
  const row = (e) => h('tr', { dataset: { id: e.id, verdict: e.data.verdict } },
    h('td', { text: fmtTime(e.time) }), h('td', {}, e.data.previous ? verdictBadge(e.data.previous) : 'new'),
    h('td', {}, verdictBadge(e.data.verdict)), h('td', { text: e.data.detail || e.message }));
  const mine = (e) => e.kind === 'intent.verdict' && e.resource_id === intent.id;
  (async () => {
    try {
      const page = await api.get('/v1/events', { kind: 'intent.verdict', router: intent.site_name, limit: 1000 });
      const items = page.items.filter(mine).reverse();
      clear(body);
      if (!items.length) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 4, text: 'No verdict change retained.' })));
      for (const e of items) body.append(row(e));
    } catch (error) {
      box.append(message('error', error.message));
    }
  })();
  const unsubscribe = ctx.stream.subscribe((e) => {
    if (!mine(e)) return;
    body.querySelector('.empty')?.remove();
    body.prepend(row(e));
  });
  return { box, unsubscribe };
}

export async function intentPage(container, ctx, id) {
  let history = null;
  let plan = null;
  const cleanup = await detailPage(container, ctx, {
    path: `/v1/intents/${encodeURIComponent(id)}`,
    item: (r) => `/v1/intents/${r.id}`,
    kind: 'intent',
    fields: INTENT_FIELDS,
    list: 'sites',
    name: (r) => `${r.site_name}/${r.name}`,
    title: (r) => h('h1', {}, `Intent ${r.site_name}/${r.name} `, verdictBadge(verdictOf(r)), ' ', badge(r.status)),
    links: (r) => [h('a', { class: 'button secondary', href: `#/sites/${r.site}` }, `Site ${r.site_name}`)],
    sections: (r) => {
      history ||= verdictHistory(ctx, r);
      if (ctx.canWrite) plan ||= planBox(ctx, () => r);
      const v = r.verification;
      return [
        h('div', { class: 'columns' },
          section('Intent', facts([
            ['Destination', destinationText(r.destination)],
            ['Prefer', r.prefer === 'cost' ? 'by uplink cost' : preferText(r.prefer)],
            ['Tiers', h('ol', { class: 'tiers', id: 'intent-tiers' }, r.tiers.map((t) => h('li', { text: t.join(', ') })))],
            'sla_class' in r ? ['SLA class', r.sla_class || 'none (reachability only)'] : null,
            ['Return path', r.return_path?.method && r.return_path.method !== 'none' ? JSON.stringify(r.return_path) : 'none'],
            ['Version', r.version], ['Updated', fmtTime(r.updated_at)],
          ])),
          section('Verdict', facts([
            ['Verdict', verdictBadge(verdictOf(r))],
            ['Detail', v?.detail || 'not checked yet'],
            ['Since', fmtTime(v?.since)], ['Checked', fmtTime(v?.checked_at)],
            ['Checked version', v ? `${v.intent_version}${v.intent_version !== r.version ? ` (now ${r.version}: a check follows)` : ''}` : null],
          ]))),
        section('Paths, router by router', h('p', { class: 'muted', text: 'The path the planner predicts (and the decision step that made it win) next to the one gobgpd uses, as the last check found them.' }),
          h('div', { class: 'table-wrap' }, pathsTable(v?.paths || [], 'intent-paths'))),
        plan ? plan.box : null,
        history.box,
      ];
    },
    events: (r) => ({ routerName: r.site_name, resourceId: r.id }),
    watches: (e, r) => e.resource_id === r.id,
    pollMs: CHECK_POLL_MS,
    deletion: (r) => ({
      title: `Delete intent ${r.site_name}/${r.name}?`,
      lines: ['Its policy objects leave the routers (soft resets, no session reset).'],
    }),
    deleted: () => 'Intent deleted.',
    gone: (r) => `Intent ${r.site_name}/${r.name} is gone.`,
  });
  return () => {
    history?.unsubscribe();
    if (typeof cleanup === 'function') cleanup();
  };
}
