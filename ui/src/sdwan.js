// What the SD-WAN pages share: their rules (sdwan_rules.js), verdict badges, and an
// uplink's quality history as plots.

import { ApiError, api } from './api.js';
import { timeChart } from './chart.js';
import { badge, h } from './dom.js';
import { historyColumns } from './sdwan_rules.js';

export * from './sdwan_rules.js';

export function verdictBadge(verdict) {
  return badge(verdict || 'PENDING', 'verdict');
}

const RANGES = [['1h', 3600], ['6h', 6 * 3600], ['24h', 86400], ['7d', 7 * 86400]];

// An uplink's loss, latency and jitter over the stored history
// (GET /v1/uplinks/{id}/quality/history), with a choice of span; drag to zoom. A
// server without path quality (no ``quality`` in its uplinks) or an answer 404 gives
// a "no measurements" note instead.
export function uplinkQualityPlot(uplink) {
  const chart = timeChart({
    id: `quality-${uplink.name}`,
    title: `${uplink.name} (${uplink.transport}, ${uplink.router_name} → ${uplink.neighbor})`,
    series: [
      { label: 'latency', color: '#1f4e8c', scale: 'ms', unit: 'ms' },
      { label: 'jitter', color: '#7a4fb5', scale: 'ms', unit: 'ms' },
      { label: 'loss', color: '#d1382e', scale: '%', unit: '%' },
    ],
    scales: { ms: { label: 'ms' }, '%': { label: 'loss %' } },
  });
  let span = 3600;
  const select = h('select', { class: 'plot-span', 'aria-label': 'span' }, RANGES.map(([t, s]) => h('option', { value: s }, `last ${t}`)));
  select.addEventListener('change', () => { span = Number(select.value); load(); });
  chart.el.querySelector('figcaption').append(' ', select);

  async function load() {
    if (!('quality' in uplink)) {
      chart.say('No measurements: this server does not measure path quality.');
      chart.set([], [[], [], []]);
      return;
    }
    try {
      const since = new Date(Date.now() - span * 1000).toISOString();
      const history = await api.get(`/v1/uplinks/${uplink.id}/quality/history`, { since });
      const items = history.items || [];
      chart.say(items.length ? '' : 'No measurements in this span.');
      chart.set(...historyColumns(items));
    } catch (error) {
      chart.say(error instanceof ApiError && error.status === 404 ? 'No measurements.' : `No measurements: ${error.message}`);
      chart.set([], [[], [], []]);
    }
  }
  return { el: chart.el, load, update(next) { uplink = next; }, destroy: chart.destroy };
}
