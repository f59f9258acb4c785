// The skeleton of a resource's detail page (routers, neighbors): the resource read with
// its ETag and drawn; Edit in place (a conflicting edit reopens on the current
// version); Delete after a confirmation; redrawn when the event stream says it changed.
// What differs per resource is the spec:
//   path            the resource to read (`/v1/routers/GoBGP-1`)
//   item(r)         where it is changed and deleted (`/v1/routers/<id>`)
//   kind, fields    the edit form (as resourceForm and applyEdit take them)
//   list            the list route to go back to once it is gone
//   title(r), links(r), sections(r), name(r)   what the page shows of it
//   events(r)       which recent events it lists (recentEvents' options)
//   watches(e, r)   whether an event of the stream concerns it
//   deletion(r)     the confirmation: { title, lines, extra, params() }
//   deleted(data)   what to say once its deletion was accepted
//   gone(r)         what to say when it disappeared
//   after(r)        optional: more to read after each draw (a router's neighbors)
//   pollMs          optional: read it again this often, redrawn if it changed (observed
//                   state that changes without an event: an intent's last check)

import { ApiError, api } from '../api.js';
import { conditionsBox, confirmDialog, debounce, fill, h, message, section } from '../dom.js';
import { applyEdit, resourceForm } from '../form.js';
import { auditEntries, recentEvents } from './history.js';

export async function detailPage(container, ctx, spec) {
  const head = h('div', { class: 'page-head' });
  const body = h('div', { class: 'detail' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  container.append(head, body);
  let current;
  let etag;
  let editing = false;
  let events;
  const say = (kind, text) => status.replaceChildren(message(kind, text));

  async function load() {
    const answer = await api.getWithEtag(spec.path);
    current = answer.data;
    etag = answer.etag;
  }

  function draw() {
    const r = current;
    fill(head,
      spec.title(r),
      h('div', { class: 'actions' },
        ...spec.links(r),
        ctx.canWrite ? h('button', { type: 'button', class: 'secondary', id: 'edit', on: { click: () => edit() } }, 'Edit') : null,
        ctx.canWrite ? h('button', { type: 'button', class: 'danger', id: 'delete', on: { click: remove } }, 'Delete') : null));
    fill(body,
      status,
      r.status_detail ? message(r.status === 'ERROR' ? 'error' : 'info', r.status_detail) : null,
      ...spec.sections(r),
      conditionsBox(r.conditions),
      events.box,
      auditEntries(r.id));
  }

  function edit(base = current, baseEtag = etag) {
    editing = true;
    current = base;
    etag = baseEtag;
    const form = resourceForm({
      fields: spec.fields, initial: base, mode: 'edit', submitLabel: 'Save',
      onCancel: () => { editing = false; draw(); },
      onSubmit: (changes, formStatus) => applyEdit({
        kind: spec.kind, path: spec.item(base), etag: baseEtag, initial: base,
        keys: spec.fields.map((f) => f.key), changes, status: formStatus,
        onDone: async (data) => {
          editing = false;
          await load();
          draw();
          const warnings = data.warnings || [];
          say('ok', warnings.length ? `Saved. ${warnings.join('; ')}` : 'Saved.');
        },
        onConflict: (data, newEtag) => edit(data, newEtag),
      }),
    });
    fill(body, section(`Edit ${spec.name(base)} (version ${base.version})`, form));
  }

  async function remove() {
    const deletion = spec.deletion(current);
    const ok = await confirmDialog({
      title: deletion.title, lines: deletion.lines, extra: deletion.extra, confirm: 'Delete', danger: true,
    });
    if (!ok) return;
    try {
      const answer = await api.delete(spec.item(current), { etag, params: deletion.params?.() });
      say('ok', spec.deleted(answer.data));
      await load();
      draw();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) ctx.navigate(spec.list);
      else say('error', error.message);
    }
  }

  await load();
  events = recentEvents(ctx, spec.events(current));
  draw();
  spec.after?.(current);
  const refresh = debounce(async () => {
    try {
      await load();
      if (!editing) draw();
      await spec.after?.(current);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) say('info', spec.gone(current));
    }
  }, 300);
  const unsubscribe = ctx.stream.subscribe((e) => {
    if (spec.watches(e, current)) refresh();
  });
  const poll = spec.pollMs ? setInterval(async () => {
    if (editing || document.visibilityState !== 'visible') return;
    const before = JSON.stringify(current);
    try {
      await load();
    } catch {
      return; // gone or unreachable: the stream's events say so
    }
    if (JSON.stringify(current) !== before && !editing) {
      draw();
      await spec.after?.(current);
    }
  }, spec.pollMs) : null;
  return () => { unsubscribe(); events.unsubscribe(); refresh.cancel(); clearInterval(poll); };
}
