// An intent's plan before a change: edit the preference, see which routers' paths
// move and why (POST /v1/intents/plan, nothing changes), then apply exactly that
// (PATCH with If-Match: the version the plan was made from; 412 if someone changed
// the intent meanwhile). Editing the preference after planning needs a new plan.

import { ApiError, api } from '../api.js';
import { dash, fill, h, message, section } from '../dom.js';
import { parsePrefer, preferText, verdictBadge } from '../sdwan.js';

function where(p) {
  if (!p) return 'no path';
  return `${p.uplink || 'outside the intent'}${p.neighbor ? ` (${p.neighbor})` : ''}`;
}

function planTable(paths) {
  return h('table', { class: 'list compact paths', id: 'plan-paths' },
    h('thead', {}, h('tr', {}, ['Router', 'Prefix', 'Now', 'After', 'Moves', 'Why'].map((t) => h('th', { text: t })))),
    h('tbody', {}, paths.length ? paths.map((p) => {
      const predicted = p.predicted || {};
      const why = Array.isArray(predicted.why) ? predicted.why : [predicted.why];
      return h('tr', { class: p.moves ? 'moves' : '', dataset: { router: p.router, prefix: p.prefix, moves: String(Boolean(p.moves)) } },
        h('td', { text: p.router }), h('td', {}, h('code', { text: p.prefix })),
        h('td', { text: where(p.current) }), h('td', { class: 'predicted', text: where(predicted) }),
        h('td', { text: p.moves ? 'moves' : '—' }),
        h('td', { class: 'why' }, predicted.step ? h('strong', { text: `${predicted.step}: ` }) : null, why.filter(Boolean).join('; '),
          p.reason ? h('div', { class: 'muted', text: p.reason }) : null));
    }) : h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No prefix of the destination is known to the routers.' }))));
}

export function planBox(ctx, currentIntent) {
  const initial = currentIntent();
  const input = h('input', {
    id: 'plan-prefer', type: 'text', value: preferText(initial.prefer), size: 48,
    'aria-describedby': 'plan-prefer-help',
  });
  const result = h('div', { id: 'intent-plan', 'aria-live': 'polite' });
  const status = h('div', { class: 'form-status', id: 'plan-status', 'aria-live': 'polite' });
  const apply = h('button', { type: 'button', class: 'primary', id: 'intent-apply', disabled: true }, 'Apply this plan');
  const planButton = h('button', { type: 'button', class: 'secondary', id: 'intent-plan-button' }, 'Plan');
  let planned = null; // {prefer, etag, version}

  input.addEventListener('input', () => {
    if (!planned) return;
    planned = null;
    apply.disabled = true;
    status.replaceChildren(message('info', 'The preference changed: plan again before applying.'));
  });

  planButton.addEventListener('click', async () => {
    const prefer = parsePrefer(input.value);
    planButton.disabled = true;
    apply.disabled = true;
    planned = null;
    status.replaceChildren(message('info', 'Planning: reading the routers…'));
    try {
      const intent = currentIntent();
      const { etag, data: now } = await api.getWithEtag(`/v1/intents/${intent.id}`);
      const body = {
        site: now.site_name, name: now.name, destination: now.destination, prefer,
        return_path: now.return_path, description: now.description,
      };
      if (now.sla_class) body.sla_class = now.sla_class;
      const plan = await api.post('/v1/intents/plan', body);
      const paths = plan.prediction.paths;
      const moving = paths.filter((p) => p.moves).length;
      fill(result,
        h('p', { id: 'plan-summary', dataset: { moves: String(moving) } },
          `Predicted verdict `, verdictBadge(plan.prediction.verdict), ` ${plan.prediction.detail}. `,
          h('strong', { text: `${moving} of ${paths.length} path(s) move.` })),
        Object.keys(plan.prediction.unreachable || {}).length
          ? message('error', `Not read: ${Object.entries(plan.prediction.unreachable).map(([r, why]) => `${r} (${why})`).join(', ')}`) : null,
        h('div', { class: 'table-wrap' }, planTable(paths)),
        plan.objects.length ? h('ul', { class: 'changes', id: 'plan-objects' }, plan.objects.map((o) => h('li', {},
          h('strong', { text: `${o.router}: ` }), o.changes.join(', ') || 'no change',
          o.effects.length ? h('span', { class: 'muted', text: ` (${o.effects.join('; ')})` }) : null))) : null);
      planned = { prefer, etag, version: now.version };
      apply.disabled = plan.action === 'none';
      status.replaceChildren(message('info', plan.action === 'none'
        ? 'This is the intent as it is: nothing to apply.'
        : `Planned against version ${now.version}. Nothing has changed yet.`));
    } catch (error) {
      status.replaceChildren(message('error', error.message));
    } finally {
      planButton.disabled = false;
    }
  });

  apply.addEventListener('click', async () => {
    if (!planned) return;
    apply.disabled = true;
    try {
      const intent = currentIntent();
      const written = await api.patch(`/v1/intents/${intent.id}`, { prefer: planned.prefer }, { etag: planned.etag });
      status.replaceChildren(message('ok', `Applied: version ${written.data.version}. The verdict follows within seconds.`));
      planned = null;
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        status.replaceChildren(message('error', `Someone changed this intent after version ${planned.version} was planned; nothing was applied. Plan again.`));
        planned = null;
      } else {
        status.replaceChildren(message('error', error.message));
        apply.disabled = false;
      }
    }
  });

  const box = section('Plan a change',
    h('div', { class: 'plan-form' },
      h('label', { for: 'plan-prefer', text: 'Prefer ' }), input, planButton, apply),
    h('small', { class: 'help', id: 'plan-prefer-help', text: 'Tiers in order, separated by ";"; uplinks sharing a tier by ","; or "cost". Planning reads the routers and changes nothing.' }),
    status, result);
  return { box, prefer: () => dash(input.value) };
}
