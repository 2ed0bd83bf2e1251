// views.js — a View is one tensor of the trace (e.g. "conv 1, dL/dY") shown
// as a set of maps (planes), each in its own canvas, with one legend.
// drawView paints a view from a decoded frame; describeCell says what one
// cell is, for the tooltip.

import { stats, makeScale, drawLegend, fmt32, fmtShort, MODES } from './colormap.js';
import { sizeCanvas, drawHeatmap, clearHeatmap } from './heatmap.js';

// KIND_WORDS names the tensor kinds of the protocol as the page shows them.
export const KIND_WORDS = {
  input: 'input image x',
  act: 'feature map Y',
  grad: 'δ = dL/dY',
  gradin: 'dL/dX',
  weights: 'W',
  bias: 'b',
  wgrad: 'dL/dW',
  bgrad: 'dL/db',
  update: 'ΔW',
  probs: 'p',
};

let nextID = 0;
export const registry = new Map(); // canvas id → {view, plane}

// el creates an element with a class and text (text is never parsed as HTML).
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// View describes one tensor drawn as planes.
//   layer, kinds  which tensor: the first of kinds present in the frame
//   name          e.g. "conv 1"
//   word          what the tensor is, when not the kind's usual words
//   style         "image" (grey, sequential), "act" (sequential unless it has
//                 negative values), or "signed" (always diverging)
//   legend        a legend element from makeLegend, or null
//   maskOf(frame) optional: per plane, a Uint8Array of cells to keep bright
export class View {
  constructor({ layer, kinds, name, word, style, legend, maskOf }) {
    this.layer = layer;
    this.word = word || '';
    this.kinds = kinds;
    this.name = name;
    this.style = style;
    this.legend = legend || null;
    this.maskOf = maskOf || null;
    this.planes = [];
    this.visible = true;
    this.tensor = null; // the tensor last drawn
    this.approx = false;
  }

  // addPlane adds one map: data[offset … offset+h·w) drawn cell CSS pixels
  // per cell. where(y, x) describes a cell for the tooltip.
  addPlane(parent, { offset, h, w, cell, where, testid }) {
    const c = document.createElement('canvas');
    c.className = 'map';
    c.id = `map${nextID++}`;
    c.tabIndex = -1;
    if (testid) c.dataset.testid = testid;
    c.dataset.layer = String(this.layer);
    c.dataset.kind = this.kinds[0];
    sizeCanvas(c, h, w, cell);
    parent.append(c);
    const plane = { canvas: c, offset, h, w, where, scale: null };
    this.planes.push(plane);
    registry.set(c.id, { view: this, plane });
    return c;
  }

  find(frame) {
    if (!frame) return null;
    for (const k of this.kinds) {
      const t = frame.tensors.get(`${this.layer}:${k}`);
      if (t) return t;
    }
    return null;
  }
}

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
  const desc = el('div', 'legend-desc');
  root.append(head, bar, ticks, desc);
  return { root, bar, ticks, desc };
}

// drawView paints every plane of a view from frame with the view options
// (range "layer" | "map", outliers, palettes).
export function drawView(view, frame, opts) {
  const t = view.find(frame);
  view.tensor = t;
  view.approx = !!(frame && frame.header && frame.header.exact === false);
  if (!t) {
    for (const p of view.planes) { clearHeatmap(p.canvas); p.scale = null; }
    if (view.legend) setLegendEmpty(view.legend);
    return;
  }
  const data = t.data;
  const all = stats([data]);
  const diverging = view.style === 'signed' || (view.style === 'act' && all.min < 0);
  const palette = view.style === 'image' ? 'gray' : diverging ? opts.div : opts.seq;
  const mode = view.style === 'image' ? 'full' : opts.outliers;
  const so = { diverging, mode, palette, approx: view.approx };
  const shared = makeScale(all, so);
  const masks = view.maskOf ? view.maskOf(frame) : null;
  view.planes.forEach((p, i) => {
    let scale = shared;
    if (opts.range === 'map' && view.style !== 'image') {
      scale = makeScale(stats([data], p.offset, p.offset + p.h * p.w), so);
    }
    p.scale = scale;
    drawHeatmap(p.canvas, data, p.offset, p.h, p.w, scale, masks ? masks[i] : null);
  });
  if (view.legend) setLegend(view.legend, shared, opts.range === 'map' && view.style !== 'image', all);
}

function setLegendEmpty(lg) {
  const ctx = lg.bar.getContext('2d');
  ctx.clearRect(0, 0, lg.bar.width, lg.bar.height);
  lg.ticks.replaceChildren(el('span', 'tick', 'not computed yet in this step'));
  lg.desc.textContent = '';
}

function setLegend(lg, scale, perMap, st) {
  const ticks = drawLegend(lg.bar, scale);
  const approx = scale.approx ? '≈' : '';
  const last = ticks.length - 1;
  const spans = ticks.map(({ pos, text, v }, i) => {
    const s = el('span', 'tick');
    if (!perMap) s.textContent = v === 0 ? '0' : `${approx}${text}`;
    else if (i === 0) s.textContent = scale.diverging ? '−max' : 'min';
    else if (i === last) s.textContent = scale.diverging ? '+max' : 'max';
    else s.textContent = v === 0 ? '0' : '';
    s.dataset.pos = String(pos);
    return s;
  });
  lg.ticks.replaceChildren(...spans);
  for (const s of spans) s.style.left = `${(Number(s.dataset.pos) * 100).toFixed(2)}%`;
  let d = `${scale.describe}${perMap ? ' · each map its own range' : ' · shared by the layer'}`;
  d += ` · range ${approx}${fmtShort(st.min)} … ${approx}${fmtShort(st.max)}`;
  if (st.nonfinite) d += ` · ${st.nonfinite} NaN/Inf (magenta)`;
  if (scale.approx) d += ' · ≈ 8-bit while playing';
  lg.desc.textContent = d;
}

// describeCell returns the tooltip lines for the cell {y, x} of a canvas, or
// null when nothing is drawn there.
export function describeCell(canvasID, cell) {
  const r = registry.get(canvasID);
  if (!r) return null;
  const { view, plane } = r;
  const t = view.tensor;
  if (!t || !cell) return null;
  const i = plane.offset + cell.y * plane.w + cell.x;
  const v = t.data[i];
  const approx = view.approx && t.enc === 'q8';
  const lines = [
    `${approx ? '≈ ' : ''}${fmt32(v)}`,
    `${view.name} · ${view.word || KIND_WORDS[t.kind] || t.kind}`,
    plane.where(cell.y, cell.x),
  ];
  if (plane.scale) {
    const s = plane.scale;
    lines.push(`colour scale ${fmtShort(s.lo)} … ${fmtShort(s.hi)} (${MODES[s.mode]})`);
  }
  if (approx) lines.push('approximate while playing; pause for exact values');
  return { value: v, approx, lines };
}
