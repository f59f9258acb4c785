// Time-series plots (uPlot, drawn on a canvas): an uplink's loss, latency and jitter,
// a router's sessions and prefixes. Drag across a plot to zoom into that span,
// double-click to see all of it again. A plot with no points says so instead.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';

const HEIGHT = 180;

// The time axis spans at least the last minute of the data: one point alone (or a
// few seconds of them) would otherwise be drawn on an axis of years.
function atLeastAMinute(u, min, max) {
  const times = u.data[0];
  if (!times || !times.length) return [min, max];
  const last = times[times.length - 1];
  return last - times[0] < 60 ? [last - 60, last + 5] : [min, max];
}

// spec: {id, title, series: [{label, color, scale, unit}], scales: {name: {label}}}.
// Series share the x axis (time); each names the y scale it is drawn on (a scale per
// unit: ms on the left, % on the right).
export function timeChart({ id, title, series, scales, empty = 'No measurements.' }) {
  const plotBox = h('div', { class: 'plot' });
  const note = h('p', { class: 'muted plot-note', text: empty });
  const el = h('figure', { class: 'chart', id, dataset: { points: '0' } },
    h('figcaption', { text: title }), note, plotBox);
  const scaleNames = Object.keys(scales);
  const options = {
    width: 600,
    height: HEIGHT,
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    scales: { x: { time: true, range: atLeastAMinute }, ...Object.fromEntries(scaleNames.map((name) => [name, { auto: true }])) },
    series: [
      {},
      ...series.map((s) => ({
        label: s.label, scale: s.scale, stroke: s.color, width: 1.5, spanGaps: false,
        value: (_u, v) => (v === null || v === undefined ? '—' : `${Number(v.toFixed(2))} ${s.unit}`),
      })),
    ],
    axes: [
      {},
      ...scaleNames.map((name, i) => ({
        scale: name, label: scales[name].label, side: i === 0 ? 3 : 1, grid: { show: i === 0 },
      })),
    ],
  };
  let plot = null;
  let data = [[], ...series.map(() => [])];
  const resize = new ResizeObserver(() => {
    if (plot && plotBox.clientWidth) plot.setSize({ width: plotBox.clientWidth, height: HEIGHT });
  });

  function draw() {
    const points = data[0].length;
    el.dataset.points = String(points);
    note.hidden = points > 0;
    if (!points) return;
    if (!plot) {
      plot = new uPlot({ ...options, width: plotBox.clientWidth || 600 }, data, plotBox);
      resize.observe(plotBox);
    } else {
      plot.setData(data);
    }
  }

  return {
    el,
    // times: seconds since the epoch; columns: one array per series (null: a gap)
    set(times, columns) {
      data = [times, ...columns];
      draw();
    },
    // one more point (the live plots), keeping at most `keep` of them
    append(time, values, keep = 2000) {
      data = data.map((column, i) => [...column, i === 0 ? time : values[i - 1]].slice(-keep));
      draw();
    },
    say(text) {
      note.textContent = text;
    },
    destroy() {
      resize.disconnect();
      if (plot) plot.destroy();
      plot = null;
    },
  };
}
