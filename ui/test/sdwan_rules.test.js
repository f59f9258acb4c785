// The SD-WAN pages' pure rules (src/sdwan_rules.js), under `node --test ui/test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  historyColumns, parsePrefer, preferText, qualityText, sessionsOfUplinks, uplinkHealth, worstVerdict,
} from '../src/sdwan_rules.js';

const measured = (extra) => ({
  quality: { state: 'up', stale: false, short: { loss_pct: 0.5, latency_ms: 12.345, jitter_ms: 1 }, classes: {}, ...extra },
});

test('an uplink is down when its session is, or its probes are dead, whatever else', () => {
  assert.equal(uplinkHealth({}, 'IDLE').level, 'bad');
  assert.equal(uplinkHealth(measured({ state: 'dead' }), 'ESTABLISHED').level, 'bad');
  assert.equal(uplinkHealth({}, undefined).level, 'unknown');
  assert.equal(uplinkHealth({}, 'UNKNOWN').level, 'unknown');
  assert.equal(uplinkHealth({}, 'ESTABLISHED').level, 'ok');
  const violated = uplinkHealth(measured({ classes: { voice: { state: 'violated', reason: 'loss 6 % > 1 %' } } }), 'ESTABLISHED');
  assert.deepEqual(violated, { level: 'warn', reason: 'voice violated: loss 6 % > 1 %' });
});

test('quality in words: not measured, nothing yet, or the short window', () => {
  assert.equal(qualityText({}), 'not measured by this server');
  assert.equal(qualityText({ quality: null }), 'no measurements');
  assert.equal(qualityText(measured({})), 'up: loss 0.5 % · latency 12.35 ms · jitter 1 ms');
});

test('the worst verdict ranks UNKNOWN worst and an unchecked intent as PENDING', () => {
  assert.equal(worstVerdict([]), null);
  const v = (verdict) => ({ verification: { verdict } });
  assert.equal(worstVerdict([v('VERIFIED'), v('DEGRADED')]), 'DEGRADED');
  assert.equal(worstVerdict([v('VERIFIED'), {}]), 'PENDING');
  assert.equal(worstVerdict([v('VIOLATED'), v('UNKNOWN')]), 'UNKNOWN');
});

test('the preference as text and back', () => {
  assert.equal(preferText([['a', 'b'], ['c']]), 'a, b; c');
  assert.deepEqual(parsePrefer(' a ,b;; c ; '), [['a', 'b'], ['c']]);
  assert.equal(parsePrefer(' cost '), 'cost');
  assert.equal(preferText('cost'), 'cost');
});

test('history points become plot columns, gaps kept as null', () => {
  const [times, [latency, jitter, loss]] = historyColumns([
    { start: '2026-12-07T10:00:00+00:00', latency_ms: 10, jitter_ms: 1, loss_pct: 0 },
    { start: '2026-12-07T10:01:00+00:00', latency_ms: null, jitter_ms: null, loss_pct: 100 },
  ]);
  assert.deepEqual(times, [Date.parse('2026-12-07T10:00:00Z') / 1000, Date.parse('2026-12-07T10:01:00Z') / 1000]);
  assert.deepEqual([latency, jitter, loss], [[10, null], [1, null], [0, 100]]);
  assert.deepEqual(historyColumns(undefined), [[], [[], [], []]]);
});

test('an uplink finds its session by router and address', () => {
  const found = sessionsOfUplinks(
    [{ id: 'u1', router: 'r1', neighbor: '198.18.0.2' }, { id: 'u2', router: 'r2', neighbor: '198.18.0.2' }],
    [{ id: 'n1', router: 'r1', address: '198.18.0.2' }],
  );
  assert.equal(found.get('u1').id, 'n1');
  assert.equal(found.get('u2'), null);
});
