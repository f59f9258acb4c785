// Alerts: what the alert rules raised, firing ones first, then the resolved ones
// newest first; filtered by state (in the URL). Kept live from the event stream: an
// `alert.firing` or `alert.resolved` event carries the whole alert, which replaces
// its row in place. Read-only: rules and webhooks are managed with the CLI or the API.

import { api, listAll } from '../api.js';
import { alertOfEvent, alertOrder, mergeAlert } from '../alert_list.js';
import { badge, clear, fmtTime, h, message } from '../dom.js';

const STATES = ['', 'firing', 'resolved'];
const RESOLVED_SHOWN = 200; // the newest resolved alerts listed (the API keeps 7 days)
const COLUMNS = ['State', 'Severity', 'Rule', 'Subject', 'Since', 'Fired', 'Resolved', 'Detail'];

function alertRow(a) {
  return h('tr', { dataset: { id: a.id, state: a.state, rule: a.rule_name, subject: a.subject_name } },
    h('td', {}, badge(a.state, 'alert')),
    h('td', {}, badge(a.severity, 'severity')),
    h('td', { title: a.kind || '' }, a.rule_name),
    h('td', { text: a.subject_name }),
    h('td', { text: fmtTime(a.since) }),
    h('td', { text: fmtTime(a.fired_at) }),
    h('td', { text: fmtTime(a.resolved_at) }),
    h('td', { class: 'detail', text: a.detail || '—' }));
}

export async function alertsPage(container, ctx) {
  const state = h('select', { id: 'alerts-state' }, STATES.map((s) => h('option', { value: s }, s || 'every state')));
  state.value = STATES.includes(ctx.query.state) ? ctx.query.state : '';
  const status = h('div', { 'aria-live': 'polite' });
  const summary = h('p', { class: 'muted', id: 'alerts-summary' });
  const body = h('tbody');
  const table = h('table', { class: 'list', id: 'alerts-table' },
    h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { text: t })))), body);
  container.append(h('h1', { text: 'Alerts' }),
    h('p', { class: 'muted', text: 'What the alert rules raised, firing first; new alerts and resolutions appear as they happen. Rules and webhooks are managed with the CLI (sdwan alert rule …, sdwan webhook …) or the API.' }),
    h('form', { class: 'filters', role: 'search', on: { submit: (e) => e.preventDefault() } },
      h('label', {}, 'State ', state)),
    summary, status, h('div', { class: 'table-wrap' }, table));

  let alerts = new Map(); // id -> alert
  const shown = (a) => !state.value || a.state === state.value;

  function draw() {
    const items = [...alerts.values()].filter(shown).sort(alertOrder);
    clear(body);
    if (!items.length) body.append(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty', text: 'No alerts.' })));
    for (const a of items) body.append(alertRow(a));
    const firing = [...alerts.values()].filter((a) => a.state === 'firing').length;
    summary.textContent = `${firing} firing · ${alerts.size - firing} resolved (the newest ${RESOLVED_SHOWN} at most)`;
  }

  async function load() {
    ctx.setQuery({ state: state.value });
    try {
      const [firing, resolved] = await Promise.all([
        listAll('/v1/alerts', { state: 'firing' }),
        api.get('/v1/alerts', { state: 'resolved', limit: RESOLVED_SHOWN, sort: '-updated_at' }),
      ]);
      const held = alerts; // alerts the stream told of while the lists were read
      alerts = new Map();
      for (const a of [...firing, ...resolved.items, ...held.values()]) mergeAlert(alerts, a);
      status.replaceChildren();
      draw();
    } catch (error) {
      status.replaceChildren(message('error', error.message));
    }
  }
  state.addEventListener('change', () => { ctx.setQuery({ state: state.value }); draw(); });
  const unsubscribe = ctx.stream.subscribe((e) => {
    if (e.resource_type !== 'alert' || !e.kind.startsWith('alert.')) return;
    if (mergeAlert(alerts, alertOfEvent(e))) draw();
  });
  await load();
  return unsubscribe;
}
