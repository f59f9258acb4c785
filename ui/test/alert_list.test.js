// The alerts page's ordering and merging (src/alert_list.js), run by
// `node --test ui/test/` (tests/unit/test_ui_scripts.py runs it with the unit tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertOfEvent, alertOrder, mergeAlert } from '../src/alert_list.js';

const alert = (id, state, extra = {}) => ({
  id, state, severity: 'warning', since: '2026-12-01T10:00:00+00:00', fired_at: '2026-12-01T10:00:30+00:00',
  resolved_at: state === 'resolved' ? '2026-12-01T11:00:00+00:00' : null, ...extra,
});

test('firing alerts come first, the most severe and longest held first', () => {
  const items = [
    alert('r-old', 'resolved', { resolved_at: '2026-12-01T09:00:00+00:00' }),
    alert('f-warn-new', 'firing', { since: '2026-12-01T10:05:00+00:00' }),
    alert('r-new', 'resolved', { resolved_at: '2026-12-01T12:00:00+00:00' }),
    alert('f-info', 'firing', { severity: 'info', since: '2026-12-01T08:00:00+00:00' }),
    alert('f-crit', 'firing', { severity: 'critical' }),
    alert('f-warn-old', 'firing', { since: '2026-12-01T09:55:00+00:00' }),
  ];
  assert.deepEqual(items.sort(alertOrder).map((a) => a.id),
    ['f-crit', 'f-warn-old', 'f-warn-new', 'f-info', 'r-new', 'r-old']);
});

test('since compares as time, not as text, across UTC offsets', () => {
  const a = alert('a', 'firing', { since: '2026-12-01T10:00:00+02:00' }); // 08:00 UTC
  const b = alert('b', 'firing', { since: '2026-12-01T09:00:00+00:00' });
  assert.deepEqual([b, a].sort(alertOrder).map((x) => x.id), ['a', 'b']);
});

test('an event carries the whole alert', () => {
  const e = {
    kind: 'alert.resolved', resource_type: 'alert', resource_id: 'x1', router_name: 'GoBGP-1',
    data: { rule_name: 'peer-down', state: 'resolved', subject_name: 'GoBGP-1/198.18.11.11' },
  };
  assert.deepEqual(alertOfEvent(e), {
    id: 'x1', router_name: 'GoBGP-1', rule_name: 'peer-down', state: 'resolved', subject_name: 'GoBGP-1/198.18.11.11',
  });
});

test('a resolved alert never goes back to firing; a firing one resolves', () => {
  const alerts = new Map();
  assert.equal(mergeAlert(alerts, alert('a', 'firing')), true);
  assert.equal(mergeAlert(alerts, alert('a', 'resolved')), true);
  assert.equal(alerts.get('a').state, 'resolved');
  assert.equal(mergeAlert(alerts, alert('a', 'firing')), false); // a stale copy read late
  assert.equal(alerts.get('a').state, 'resolved');
  assert.equal(mergeAlert(alerts, alert('b', 'firing')), true); // a new alert of the subject
  assert.equal(alerts.size, 2);
});
