// Create and edit forms for a resource. Edits send only the fields that changed,
// with If-Match (the ETag read when the form opened): a concurrent change is a 412,
// shown as a conflict naming what the other change did. A change the API says would
// reset a BGP session (PATCH ?dry_run=true answers its warnings) is confirmed first.

import { ApiError, api } from './api.js';
import { confirmDialog, h, message } from './dom.js';

// field: {key, label, type: text|number|checkbox|select|list|password, options?,
// help?, required?, nullable?, createOnly?, placeholder?}
function input(field, value) {
  const id = `field-${field.key}`;
  if (field.type === 'checkbox') {
    return h('input', { id, name: field.key, type: 'checkbox', checked: Boolean(value) });
  }
  if (field.type === 'select') {
    const select = h('select', { id, name: field.key }, field.options.map((o) => h('option', { value: o }, o)));
    select.value = value ?? field.options[0];
    return select;
  }
  const el = h('input', {
    id, name: field.key,
    type: field.type === 'number' ? 'number' : field.type === 'password' ? 'password' : 'text',
    placeholder: field.placeholder || '', required: field.required || false,
    autocomplete: field.type === 'password' ? 'new-password' : 'off',
  });
  if (field.type === 'list') el.value = (value || []).join(', ');
  else if (field.type !== 'password') el.value = value ?? '';
  return el;
}

function read(field, el) {
  if (field.type === 'checkbox') return el.checked;
  const text = el.value.trim();
  if (field.type === 'number') return text === '' ? null : Number(text);
  if (field.type === 'list') return text ? text.split(',').map((s) => s.trim()).filter(Boolean) : [];
  if (field.type === 'password') return text === '' ? undefined : el.value;
  if (text === '' && field.nullable) return null;
  return text;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

// Build the form; onSubmit(values) returns nothing or throws ApiError (shown at the field).
export function resourceForm({ fields, initial = {}, mode, submitLabel, onSubmit, onCancel }) {
  const inputs = new Map();
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const form = h('form', { class: 'resource', id: `${mode}-form`, novalidate: true });
  for (const field of fields) {
    if (mode === 'edit' && field.createOnly) continue;
    const el = input(field, initial[field.key]);
    inputs.set(field.key, el);
    form.append(h('div', { class: `field ${field.type === 'checkbox' ? 'check' : ''}`, dataset: { field: field.key } },
      h('label', { for: el.id, text: field.label }),
      el,
      field.help ? h('small', { class: 'help', text: field.help }) : null,
      h('small', { class: 'field-error', 'aria-live': 'polite' })));
  }
  const submit = h('button', { type: 'submit', class: 'primary', id: 'form-submit' }, submitLabel);
  form.append(h('div', { class: 'actions' }, submit,
    onCancel ? h('button', { type: 'button', class: 'secondary', on: { click: onCancel } }, 'Cancel') : null), status);

  const values = () => {
    const out = {};
    for (const field of fields) {
      if (!inputs.has(field.key)) continue;
      const value = read(field, inputs.get(field.key));
      if (value === undefined) continue;
      if (mode === 'create' && (value === null || (field.type === 'list' && !value.length && !field.required))) continue;
      if (mode === 'edit' && same(value, initial[field.key])) continue;
      out[field.key] = value;
    }
    return out;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
    status.replaceChildren();
    submit.disabled = true;
    try {
      await onSubmit(values(), status);
    } catch (error) {
      if (error instanceof ApiError && error.field) {
        const key = error.field.split('.')[0].split('[')[0];
        const box = form.querySelector(`[data-field="${CSS.escape(key)}"]`);
        if (box) {
          box.classList.add('invalid');
          box.querySelector('.field-error').textContent = error.message;
        }
      }
      if (!status.childNodes.length) status.replaceChildren(message('error', error.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// PATCH with If-Match; confirmation first when the API warns of a session reset.
// kind: 'router'|'neighbor'; path: '/v1/routers/ID'; etag: the version edited.
export async function applyEdit({ kind, path, etag, initial, keys, changes, status, onDone, onConflict }) {
  if (!Object.keys(changes).length) {
    status.replaceChildren(message('info', 'Nothing changed.'));
    return;
  }
  try {
    const preview = await api.patch(path, changes, { etag, params: { dry_run: true } });
    const warnings = preview.data.warnings || [];
    if (warnings.length) {
      const ok = await confirmDialog({
        title: `This ${kind} change affects BGP sessions`,
        lines: [...warnings, 'Apply it anyway?'],
        confirm: 'Apply the change',
        danger: true,
      });
      if (!ok) {
        status.replaceChildren(message('info', 'Not applied.'));
        return;
      }
    }
    const written = await api.patch(path, changes, { etag });
    onDone(written.data, written.etag);
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      await showConflict({ kind, path, etag, initial, keys, changes, status, onConflict });
      return;
    }
    throw error;
  }
}

async function showConflict({ kind, path, etag, initial, keys, changes, status, onConflict }) {
  let current = null;
  try {
    current = await api.getWithEtag(path);
  } catch {
    // deleted meanwhile: said below
  }
  const lines = [];
  if (!current) {
    lines.push(`This ${kind} was deleted by someone else meanwhile.`);
  } else {
    lines.push(`You edited version ${String(etag).replaceAll('"', '')}; it is now at version ${String(current.etag).replaceAll('"', '')}.`);
    for (const key of keys) {
      if (key === 'password' || same(initial[key], current.data[key])) continue;
      const yours = key in changes ? `; you wanted ${JSON.stringify(changes[key])}` : '';
      lines.push(`${key} was changed from ${JSON.stringify(initial[key])} to ${JSON.stringify(current.data[key])}${yours}`);
    }
  }
  status.replaceChildren(h('div', { class: 'message error conflict', role: 'alert', id: 'conflict' },
    h('strong', { text: `Conflict: someone else changed this ${kind} since you opened the form. Nothing was saved.` }),
    h('ul', {}, lines.map((l) => h('li', { text: l }))),
    current ? h('button', {
      type: 'button', class: 'secondary', id: 'conflict-reload',
      on: { click: () => onConflict(current.data, current.etag) },
    }, 'Load the current version and edit again') : null));
}
