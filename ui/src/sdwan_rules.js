// The SD-WAN pages' rules, pure (no DOM, no requests; ui/test/sdwan_rules.test.js):
// verdicts, an uplink's state from its session and probes, quality in words, the
// preference as text, an uplink's stored history as plot columns.

export const VERDICT_ORDER = ['VERIFIED', 'DEGRADED', 'VIOLATED', 'PENDING', 'UNKNOWN'];
export const VERDICT_COLORS = {
  VERIFIED: '#2e9d48', DEGRADED: '#d98e04', VIOLATED: '#d1382e', PENDING: '#5b6b84', UNKNOWN: '#8a8f98',
};
export const LEVEL_COLORS = { ok: '#2e9d48', warn: '#d98e04', bad: '#d1382e', unknown: '#8a8f98' };

export const verdictOf = (intent) => intent.verification?.verdict || 'PENDING';

export function worstVerdict(intents) {
  let worst = null;
  for (const intent of intents) {
    const v = verdictOf(intent);
    if (worst === null || VERDICT_ORDER.indexOf(v) > VERDICT_ORDER.indexOf(worst)) worst = v;
  }
  return worst;
}

// An uplink's state now: 'bad' when its BGP session is not Established or its probes
// go unanswered (dead), 'warn' when an SLA class it is measured against is violated,
// 'ok' when Established (and, if measured, up and within its classes), 'unknown'
// when gobgpd did not say. session: its neighbor's session_state (undefined: not known).
export function uplinkHealth(uplink, sessionState) {
  const quality = uplink.quality;
  if (quality && quality.state === 'dead') return { level: 'bad', reason: 'probes unanswered (dead)' };
  if (sessionState && sessionState !== 'UNKNOWN' && sessionState !== 'ESTABLISHED') {
    return { level: 'bad', reason: `BGP session ${sessionState}` };
  }
  if (!sessionState || sessionState === 'UNKNOWN') return { level: 'unknown', reason: 'session state unknown' };
  const violated = Object.entries(quality?.classes || {}).filter(([, c]) => c.state === 'violated');
  if (violated.length) {
    return { level: 'warn', reason: violated.map(([name, c]) => `${name} violated${c.reason ? `: ${c.reason}` : ''}`).join('; ') };
  }
  return { level: 'ok', reason: quality && quality.state === 'up' ? 'session Established, probes answered' : 'session Established' };
}

const fig = (value, unit) => (value === null || value === undefined ? '—' : `${Number(value.toFixed(2))} ${unit}`);

// "loss 0.4 % · 12.1 ms · jitter 0.8 ms" of the short window, or why there is none.
export function qualityText(uplink) {
  if (!('quality' in uplink)) return 'not measured by this server';
  const q = uplink.quality;
  if (!q) return 'no measurements';
  const w = q.short || {};
  const figures = `loss ${fig(w.loss_pct, '%')} · latency ${fig(w.latency_ms, 'ms')} · jitter ${fig(w.jitter_ms, 'ms')}`;
  return `${q.state}${q.stale ? ' (stale)' : ''}: ${figures}`;
}

// The neighbor record of each uplink (its session), by uplink id.
export function sessionsOfUplinks(uplinks, neighbors) {
  const byKey = new Map(neighbors.map((n) => [`${n.router}|${n.address}`, n]));
  return new Map(uplinks.map((u) => [u.id, byKey.get(`${u.router}|${u.neighbor}`) || null]));
}

export function destinationText(destination) {
  if (!destination) return '—';
  if (destination.type === 'any') return 'every route';
  if (destination.type === 'site') return `site ${destination.site}`;
  return (destination.prefixes || []).map((p) => p.prefix + (p.ge || p.le ? ` (ge ${p.ge ?? '-'} le ${p.le ?? '-'})` : '')).join(', ');
}

// "vyos1, vyos2; lte" <-> [["vyos1", "vyos2"], ["lte"]]; "cost" stays "cost".
export function preferText(prefer) {
  return prefer === 'cost' ? 'cost' : (prefer || []).map((tier) => tier.join(', ')).join('; ');
}

export function parsePrefer(text) {
  const trimmed = text.trim();
  if (trimmed === 'cost') return 'cost';
  return trimmed.split(';').map((tier) => tier.split(',').map((s) => s.trim()).filter(Boolean)).filter((t) => t.length);
}

// GET /v1/uplinks/{id}/quality/history items -> [times (s), [latency, jitter, loss]]
export function historyColumns(items) {
  const points = (items || []).filter((p) => !Number.isNaN(Date.parse(p.start)));
  return [
    points.map((p) => Date.parse(p.start) / 1000),
    [points.map((p) => p.latency_ms ?? null), points.map((p) => p.jitter_ms ?? null), points.map((p) => p.loss_pct ?? null)],
  ];
}
