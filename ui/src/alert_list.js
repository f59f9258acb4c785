// The alerts page's pure rules (no DOM): an alert out of its event, the order of the
// list, and how a newer word about an alert replaces what the page holds.

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };

// An alert as an `alert.firing` / `alert.resolved` event carries it, in the API's shape.
export function alertOfEvent(e) {
  return { id: e.resource_id, router_name: e.router_name, ...e.data };
}

// Firing first (most severe, then the longest held), then resolved, newest first.
export function alertOrder(a, b) {
  if (a.state !== b.state) return a.state === 'firing' ? -1 : 1;
  if (a.state === 'firing') {
    const bySeverity = (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3);
    if (bySeverity) return bySeverity;
    return Date.parse(a.since) - Date.parse(b.since);
  }
  return Date.parse(b.resolved_at) - Date.parse(a.resolved_at);
}

// An alert only ever goes from firing to resolved (a subject down again is a new
// alert): a firing copy read late never overwrites the resolved one held.
export function mergeAlert(alerts, alert) {
  const held = alerts.get(alert.id);
  if (held && held.state === 'resolved' && alert.state === 'firing') return false;
  alerts.set(alert.id, alert);
  return true;
}
