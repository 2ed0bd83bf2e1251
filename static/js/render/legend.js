// legend.js — the legend under a view's maps: a title, the colour bar drawn
// through the view's scale, tick labels, the data's range and a line saying
// how values map to colours. Text and bar change only when what they show
// changes.

import { el } from '../dom.js';
import { drawLegend, ticksOf } from './colormap.js';
import { fmtShort } from './format.js';

// makeLegend builds a legend: title, a colour bar, tick labels and a line
// saying how values map to colours.
export function makeLegend(title) {
  const root = el('div', 'legend');
  root.dataset.testid = 'legend';
  const head = el('div', 'legend-title', title);
  const bar = el('canvas', 'legend-bar');
  bar.width = 256;
  bar.height = 1;
  const ticks = el('div', 'legend-ticks');
  const range = el('div', 'legend-range');
  const desc = el('div', 'legend-desc');
  root.append(head, bar, ticks, range, desc);
  return { root, bar, ticks, range, desc };
}

// setLegendEmpty shows a legend of a tensor not computed yet in this step.
export function setLegendEmpty(lg) {
  const ctx = lg.bar.getContext('2d');
  ctx.clearRect(0, 0, lg.bar.width, lg.bar.height);
  setText(lg, 'ticksKey', lg.ticks, () => [el('span', 'tick', 'not computed yet in this step')]);
  setLegendText(lg, '', '');
  lg.barKey = '';
}

// setText replaces the children of an element only when their text changes:
// unchanged text costs no layout and no repaint.
function setText(lg, key, parent, make, text) {
  const k = text ?? key;
  if (lg[key] === k) return;
  lg[key] = k;
  parent.replaceChildren(...make());
}

function setLegendText(lg, desc, range) {
  if (lg.desc.textContent !== desc) lg.desc.textContent = desc;
  if (lg.range.textContent !== range) lg.range.textContent = range;
}

// setLegend shows a scale: perMap is true when each map has its own range
// (the ticks then say min and max, not numbers); st says what the data is
// ({min, max, exact, nonfinite, cut}: cut is the range of channels received,
// or null).
export function setLegend(lg, scale, perMap, st) {
  const approx = scale.approx ? '≈' : '';
  // the bar depends only on the palette and the scale's shape, not on its numbers
  const barKey = `${scale.mode}|${scale.diverging}|${scale.hi > scale.lo}|${scale.symlog ? (scale.symlog.c / (scale.hi - scale.lo)).toPrecision(2) : ''}`;
  const ticks = drawLegendIfChanged(lg, scale, barKey);
  const last = ticks.length - 1;
  const labels = ticks.map(({ text, v }, i) => {
    if (!perMap) return v === 0 ? '0' : `${approx}${text}`;
    if (i === 0) return scale.diverging ? '−max' : 'min';
    if (i === last) return scale.diverging ? '+max' : 'max';
    return v === 0 ? '0' : '';
  });
  setText(lg, 'ticksKey', lg.ticks, () => ticks.map(({ pos }, i) => {
    const s = el('span', 'tick', labels[i]);
    s.style.left = `${(pos * 100).toFixed(2)}%`;
    return s;
  }), labels.join('|') + ticks.map((t) => t.pos.toFixed(3)).join('|'));
  let d = scale.describe;
  if (st.cut && !perMap) {
    // percentiles and medians need every value: they come from the
    // channels received (those on screen), the extremes from all of them
    const chans = `of channels ${st.cut[0]}–${st.cut[1] - 1} (on screen)`;
    if (scale.mode === 'clamp') d += ` ${chans}`;
    if (scale.mode === 'symlog') d += ` · threshold: the median ${chans}`;
  }
  d += perMap ? ' · each map its own range' : ' · shared by the layer';
  if (scale.approx) d += ' · ≈ 8-bit while playing';
  const a = st.exact ? '' : approx;
  let r = `data ${a}${fmtShort(st.min)} … ${a}${fmtShort(st.max)}`;
  if (st.cut) r += ' (all channels)';
  if (st.nonfinite) r += ` · ${st.nonfinite} NaN/Inf (magenta)`;
  setLegendText(lg, d, r);
}

// drawLegendIfChanged repaints the colour bar only when it would look
// different, and returns the ticks of the scale.
function drawLegendIfChanged(lg, scale, key) {
  if (lg.barKey === key && lg.palette === scale.palette) return ticksOf(scale);
  lg.barKey = key;
  lg.palette = scale.palette;
  return drawLegend(lg.bar, scale);
}
