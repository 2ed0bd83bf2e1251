// legend.js — the legend under a view's maps: a title, the colour bar drawn
// through the view's scale, tick labels, the data's range and a line saying
// how values map to colours. Text and bar change only when what they show
// changes.

import { el } from '../dom.js';
import { drawLegend, ticksOf } from './colormap.js';
import { fmtShort } from './format.js';
import { layoutTicks } from './ticks.js';
import { missingWords } from './maplabel.js';

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
  // a tap or a click shows a description cut at five lines whole, and folds
  // it again (a phone or a projector has no hover for its title)
  desc.addEventListener('click', () => { desc.dataset.open = desc.dataset.open === 'true' ? 'false' : 'true'; });
  root.append(head, bar, ticks, range, desc);
  const lg = { root, bar, ticks, range, desc, width: 0, labels: [] };
  // the labels are placed in pixels: again when the bar's width changes
  if (typeof ResizeObserver !== 'undefined') {
    new ResizeObserver(() => {
      const w = ticks.clientWidth;
      if (w !== lg.width) { lg.width = w; placeTicks(lg); }
    }).observe(ticks);
  }
  return lg;
}

// measureText returns the width in CSS pixels of a tick label in the font
// of el (one canvas for every legend).
let measurer = null;
function measureText(el, text) {
  if (!measurer) measurer = document.createElement('canvas').getContext('2d');
  const font = getComputedStyle(el).font;
  if (measurer.font !== font) measurer.font = font;
  // a margin for what the canvas's text metrics do not know of the page's
  // (tabular digits, rounding)
  return Math.ceil(measurer.measureText(text).width * 1.08) + 2;
}

// placeTicks lays the labels lg.labels ({text, pos}) out under the bar so
// that none overlaps another or leaves the bar (ticks.js).
function placeTicks(lg) {
  const w = lg.width;
  if (!(w > 0)) { lg.ticks.replaceChildren(); return; }
  const kept = layoutTicks(lg.labels, w, (text) => measureText(lg.ticks, text));
  lg.ticks.replaceChildren(...kept.map(({ text, left }) => {
    const s = el('span', 'tick', text);
    s.style.left = `${left.toFixed(1)}px`;
    return s;
  }));
}

// setLegendEmpty shows a legend of a tensor the frame lacks: not computed
// yet in this step, or (history) not kept in the history.
export function setLegendEmpty(lg, history) {
  const ctx = lg.bar.getContext('2d');
  ctx.clearRect(0, 0, lg.bar.width, lg.bar.height);
  const words = missingWords(history);
  if (lg.ticksKey !== 'empty') {
    lg.ticksKey = 'empty';
    lg.labels = [];
    lg.ticks.replaceChildren();
  }
  // in the range's box of two lines: the words are never cut in a narrow column
  setLegendText(lg, '', words);
  lg.barKey = '';
}

function setLegendText(lg, desc, range) {
  if (lg.desc.textContent !== desc) {
    lg.desc.textContent = desc;
    lg.desc.title = desc;
  }
  if (lg.range.textContent !== range) {
    lg.range.textContent = range;
    lg.range.title = range;
  }
}

// setLegend shows a scale: perMap is true when each map has its own range
// (the ticks then say min and max, not numbers); st says what the data is
// ({min, max, exact, nonfinite, cut, sample, dead}: cut is the range of
// channels received, or null; sample names the sample the tensor is of, ''
// for the network's and the batch's tensors; dead counts its all-zero
// maps).
export function setLegend(lg, scale, perMap, st) {
  const approx = scale.approx ? '≈' : '';
  // the bar depends only on the palette and the scale's shape, not on its numbers
  const barKey = `${scale.mode}|${scale.diverging}|${scale.hi > scale.lo}|${scale.lo === 0}|${scale.symlog ? (scale.symlog.c / (scale.hi - scale.lo)).toPrecision(2) : ''}`;
  const ticks = drawLegendIfChanged(lg, scale, barKey);
  const last = ticks.length - 1;
  const labels = ticks.map(({ text, v, pos }, i) => {
    let s;
    if (!perMap) s = v === 0 ? '0' : `${approx}${text}`;
    else if (i === 0) s = scale.diverging ? '−max' : scale.lo === 0 ? '0' : 'min';
    else if (i === last) s = scale.diverging ? '+max' : 'max';
    else s = v === 0 ? '0' : '';
    return { text: s, pos };
  });
  const key = labels.map((l) => `${l.text}@${l.pos.toFixed(3)}`).join('|');
  if (lg.ticksKey !== key) {
    lg.ticksKey = key;
    lg.labels = labels;
    if (!lg.width) lg.width = lg.ticks.clientWidth;
    placeTicks(lg);
  }
  setLegendText(lg, describe(scale, perMap, st), rangeText(st, approx));
}

// describe says what the scale's numbers were computed from (always the
// whole tensor, or each whole map, of the sample shown, by the server,
// whatever part of it is on this screen), then how values map to colours:
// the first words are the ones a legend's few lines must show.
export function describe(scale, perMap, st) {
  const of = st.sample ? `, ${st.sample}` : '';
  const w = scale.words;
  let d = scale.approx ? '≈ 8-bit while playing · ' : '';
  if (perMap) {
    d += `scale from each whole map's own values${of} · ${w.mode}`;
  } else {
    d += `scale from the whole tensor${of} · `;
    const pm = scale.diverging ? '±' : '';
    if (scale.mode === 'clamp') d += `linear, clamped at ${pm}${fmtShort(scale.p99abs)}, the 99th percentile of |x| > 0`;
    else if (scale.symlog) d += `symmetric log, linear within ${pm}${fmtShort(scale.symlog.c)}, the 10th percentile of |x| > 0`;
    else d += `linear, full range, max |x| = ${fmtShort(Math.max(Math.abs(scale.lo), Math.abs(scale.hi)))}`;
  }
  if (st.dead) d += ` · ${st.dead} map${st.dead === 1 ? '' : 's'} all zero`;
  return `${d} · ${w.palette}`; // last: the bar and its ticks show it too
}

function rangeText(st, approx) {
  const a = st.exact ? '' : approx;
  let r = `data ${a}${fmtShort(st.min)} … ${a}${fmtShort(st.max)}`;
  if (st.cut) r += ' (all channels)';
  if (st.nonfinite) r += ` · ${st.nonfinite} NaN/Inf (magenta)`;
  return r;
}

// drawLegendIfChanged repaints the colour bar only when it would look
// different, and returns the ticks of the scale.
function drawLegendIfChanged(lg, scale, key) {
  if (lg.barKey === key && lg.palette === scale.palette) return ticksOf(scale);
  lg.barKey = key;
  lg.palette = scale.palette;
  return drawLegend(lg.bar, scale);
}
