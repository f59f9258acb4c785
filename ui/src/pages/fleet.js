// Fleet files: paste or upload YAML (the format of `sdwan apply`, docs/fleet-file.md),
// see the plan field by field with what it does to BGP sessions, then apply it in one
// transaction. The file is parsed here (the yaml package); the API checks everything.

import YAML from 'yaml';
import { ApiError, api } from '../api.js';
import { confirmDialog, h, message, section } from '../dom.js';

function fieldsCell(change) {
  if (change.action === 'create') {
    return h('ul', { class: 'changes' }, Object.entries(change.values || {}).map(([k, v]) => h('li', {}, h('code', { text: k }), ` ${JSON.stringify(v)}`)));
  }
  if (change.action === 'delete') return h('span', { class: 'muted', text: '(deleted)' });
  return h('ul', { class: 'changes' }, Object.entries(change.fields || {}).map(([k, [before, after]]) => h('li', {},
    h('code', { text: k }), ': ', h('del', { text: JSON.stringify(before) }), ' → ', h('ins', { text: JSON.stringify(after) }))));
}

function planTable(result) {
  if (!result.changes.length) return message('ok', 'Nothing to change: the store already matches this file.');
  return h('table', { class: 'list compact', id: 'fleet-plan' },
    h('thead', {}, h('tr', {}, ['Action', 'Kind', 'Router', 'Key', 'Fields', 'Session effect'].map((t) => h('th', { text: t })))),
    h('tbody', {}, result.changes.map((c) => h('tr', { class: `action-${c.action}` },
      h('td', { text: c.action }), h('td', { text: c.kind }), h('td', { text: c.router }), h('td', { text: c.key }),
      h('td', {}, fieldsCell(c)), h('td', { class: c.effect ? 'effect' : 'muted', text: c.effect || 'none' })))));
}

export function fleetPage(container, ctx) {
  const text = h('textarea', { id: 'fleet-yaml', rows: 18, spellcheck: 'false', placeholder: 'routers:\n  - name: GoBGP-1\n    router_id: 198.18.0.1\n    ...' });
  const file = h('input', { type: 'file', id: 'fleet-file', accept: '.yaml,.yml,.json,text/yaml,application/json' });
  const prune = h('input', { type: 'checkbox', id: 'fleet-prune' });
  const status = h('div', { 'aria-live': 'polite', id: 'fleet-status' });
  const plan = h('div', { id: 'fleet-plan-box' });
  const applyButton = h('button', { type: 'button', class: 'danger', id: 'fleet-apply', disabled: true }, 'Apply this plan');
  let planned = null; // the document and prune flag the plan shown is for

  const parse = () => {
    try {
      const doc = YAML.parse(text.value);
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the file must be a mapping with a routers: list');
      return doc;
    } catch (error) {
      throw new Error(`not a valid fleet file: ${error.message}`);
    }
  };
  const showError = (error) => status.replaceChildren(message('error', error instanceof ApiError && error.field ? `${error.field}: ${error.message}` : error.message));

  async function doPlan() {
    status.replaceChildren(message('info', 'Planning…'));
    plan.replaceChildren();
    applyButton.disabled = true;
    planned = null;
    try {
      const fleet = parse();
      const result = await api.post('/v1/fleet/plan', { fleet, prune: prune.checked });
      planned = { fleet, prune: prune.checked, result };
      status.replaceChildren(message('info', `${result.changes.length} change(s)${result.effects.length ? `, ${result.effects.length} affecting BGP sessions` : ''}. Nothing has changed yet.`));
      plan.replaceChildren(section('Plan', planTable(result),
        result.effects.length ? h('div', { class: 'effects' }, h('h3', { text: 'Session effects' }), h('ul', {}, result.effects.map((e) => h('li', { text: e })))) : null,
        ctx.canWrite && result.changes.length ? h('div', { class: 'actions' }, applyButton) : null));
      applyButton.disabled = !result.changes.length;
    } catch (error) {
      showError(error);
    }
  }

  async function doApply() {
    if (!planned) return;
    if (planned.result.effects.length) {
      const ok = await confirmDialog({ title: 'Apply a plan that affects BGP sessions?', lines: planned.result.effects, confirm: 'Apply', danger: true });
      if (!ok) return;
    }
    applyButton.disabled = true;
    try {
      const result = await api.post('/v1/fleet/apply', { fleet: planned.fleet, prune: planned.prune });
      status.replaceChildren(message('ok', `Applied ${result.changes.length} change(s) in one transaction.`));
      plan.replaceChildren(section('Applied', planTable(result)));
      planned = null;
    } catch (error) {
      showError(error);
      applyButton.disabled = false;
    }
  }

  async function doExport() {
    try {
      const doc = await api.get('/v1/fleet/export');
      text.value = YAML.stringify(doc);
      status.replaceChildren(message('info', 'The current fleet, as a file: planning it changes nothing.'));
    } catch (error) {
      showError(error);
    }
  }

  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    text.value = await file.files[0].text();
    doPlan();
  });
  text.addEventListener('input', () => { applyButton.disabled = true; planned = null; });
  prune.addEventListener('change', () => { applyButton.disabled = true; planned = null; });
  applyButton.addEventListener('click', doApply);

  container.append(
    h('h1', { text: 'Fleet file' }),
    h('p', { class: 'muted', text: 'Paste or upload a fleet file (docs/fleet-file.md): plan it first, then apply it in one transaction.' }),
    section('File',
      h('div', { class: 'fleet-tools' }, h('label', {}, 'Upload ', file),
        h('button', { type: 'button', class: 'secondary', id: 'fleet-export', on: { click: doExport } }, 'Load the current fleet')),
      text,
      ctx.canWrite ? h('div', { class: 'actions' },
        h('label', { class: 'check' }, prune, ' prune (delete what the file does not mention, within its routers)'),
        h('button', { type: 'button', class: 'primary', id: 'fleet-plan-button', on: { click: doPlan } }, 'Plan')) : null),
    status, plan);
  if (!ctx.canWrite) {
    status.replaceChildren(message('info', 'Your role may read the current fleet file; planning and applying need the member or admin role.'));
  }
  return null;
}
