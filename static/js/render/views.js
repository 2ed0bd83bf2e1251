// views.js — a View is one tensor of the trace (e.g. "conv 1, dL/dY") shown
// as a set of maps (planes), each in its own canvas, with one legend.
// drawView paints a view from a decoded frame; canvasIndex and describeCell
// say what one cell is, for the tooltip.

import { makeScale, MODES } from './colormap.js';
import { stats } from './stats.js';
import { fmt32, fmtShort } from './format.js';
import { Surface } from './heatmap.js';
import { setLegend, setLegendEmpty } from './legend.js';
import { mapLabel } from './maplabel.js';

// KIND_WORDS names the tensor kinds of the protocol as the page shows them.
export const KIND_WORDS = Object.freeze({
  input: 'input image x',
  act: 'feature map Y',
  grad: 'δ = dL/dY',
  gradin: 'dL/dX',
  weights: 'W',
  bias: 'b',
  wgrad: 'dL/dW (batch mean)',
  bgrad: 'dL/db (batch mean)',
  swgrad: 'dL/dW, this sample (X ⋆ δ)',
  sbgrad: 'dL/db, this sample',
  update: 'ΔW',
  probs: 'p',
});

// View describes one tensor drawn as planes.
//   layer, kinds  which tensor: the first of kinds present in the frame
//   name          e.g. "conv 1"
//   word          what the tensor is, when not the kind's usual words
//   style         "image" (grey, sequential), "act" (sequential unless it has
//                 negative values), or "signed" (always diverging)
//   legend        a legend element from makeLegend, or null
//   maskOf(frame) optional: per plane, a Uint8Array of cells to keep bright
//   also          optional: further [layer, kind] pairs the view reads
//                 (whole), e.g. the max-pool switches behind maskOf
export class View {
  constructor({ layer, kinds, name, word, style, legend, maskOf, also }) {
    this.layer = layer;
    this.word = word || '';
    this.kinds = kinds;
    this.name = name;
    this.style = style;
    this.legend = legend || null;
    this.maskOf = maskOf || null;
    this.also = also || [];
    this.rowLen = 1; // channels to a grid row (strip maps)
    this.planes = [];
    this.surfaces = [];
    this.visible = true;
    this.tensor = null; // the tensor last drawn
    this.approx = false;
  }

  // canvas creates a canvas of h×w pixels shown at cell CSS pixels each;
  // about says what it shows for its accessible name: {channel, h, w,
  // tiles} (see maplabel.js).
  canvas(parent, h, w, cell, testid, about) {
    const c = document.createElement('canvas');
    c.className = 'map';
    if (testid) c.dataset.testid = testid;
    c.dataset.layer = String(this.layer);
    c.dataset.kind = this.kinds[0];
    // keyboard: the maps of a view are one stop of the Tab key (the first
    // map; explain/picking.js moves the stop), a focused map has a cell
    // cursor the arrow keys move, Enter explains its cell
    c.tabIndex = this.surfaces.length === 0 ? 0 : -1;
    c.setAttribute('role', 'img');
    c.setAttribute('aria-describedby', 'map-help');
    parent.append(c);
    const surface = new Surface(c, h, w, cell);
    surface.about = about;
    surface.label = '';
    this.surfaces.push(surface);
    labelSurface(this, surface, null, null);
    return surface;
  }

  // addPlane adds one map in a canvas of its own: data[offset … offset+h·w)
  // drawn cell CSS pixels per cell. where(y, x) describes a cell for the
  // tooltip.
  // channel, if given, is the channel of a (C, H, W) tensor the map shows:
  // the page subscribes to the channels of the maps on screen.
  addPlane(parent, { offset, h, w, cell, where, testid, channel }) {
    const surface = this.canvas(parent, h, w, cell, testid, { channel, h, w });
    this.planes.push({ surface, x0: 0, y0: 0, offset, h, w, where, scale: null, channel, at: null });
    return surface.canvas;
  }

  // addTiled adds rows×cols maps of h×w in one canvas, one cell apart;
  // planeAt(r, c) gives each map's {offset, where}.
  addTiled(parent, { rows, cols, h, w, cell, planeAt, testid }) {
    const surface = this.canvas(parent, rows * (h + 1) - 1, cols * (w + 1) - 1, cell, testid, { h, w, tiles: { rows, cols } });
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const { offset, where } = planeAt(r, c);
        this.planes.push({ surface, x0: c * (w + 1), y0: r * (h + 1), offset, h, w, where, scale: null, at: null });
      }
    }
    return surface.canvas;
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

// canvasIndex maps each canvas of views to its view and the planes drawn in
// it: what describeCell looks a pointer up in.
export function canvasIndex(views) {
  const index = new Map(); // canvas → {view, planes}
  for (const view of views) {
    for (const p of view.planes) {
      const c = p.surface.canvas;
      if (!index.has(c)) index.set(c, { view, planes: [] });
      index.get(c).planes.push(p);
    }
  }
  return index;
}

// drawView paints every plane of a view from frame with the view options
// (range "layer" | "map", outliers, palettes); scratch (from newScratch)
// holds the buffers the colour scales' statistics reuse.
export function drawView(view, frame, opts, scratch) {
  const t = view.find(frame);
  view.tensor = t;
  view.approx = !!(frame && frame.header && frame.header.exact === false);
  if (!t) {
    for (const p of view.planes) { p.surface.blank(p.x0, p.y0, p.h, p.w); p.scale = null; }
    for (const s of view.surfaces) s.flush();
    if (view.legend) setLegendEmpty(view.legend);
    labelSurfaces(view, null);
    return;
  }
  const data = t.data;
  // stats of the values received; percentiles (the clamp) and medians
  // (symlog) can only come from them
  const all = stats([data], undefined, undefined, scratch);
  // a tensor cut to a range of channels (t.channels = [from, to)): data[0]
  // is channel from's first value. The extremes come from the frame's
  // header, which gives the whole tensor's (all channels, exact even in
  // compact frames), so the shared range and the legend do not depend on
  // which channels are on screen.
  const cut = t.channels && t.shape.length === 3 ? t.channels : null;
  const planeSize = t.shape.length === 3 ? t.shape[1] * t.shape[2] : 0;
  const whole = t.min != null && t.max != null && Number.isFinite(t.min) && Number.isFinite(t.max);
  if (whole && all.count) {
    all.min = Math.min(all.min, t.min);
    all.max = Math.max(all.max, t.max);
    all.absMax = Math.max(all.absMax, Math.abs(t.min), Math.abs(t.max));
  }
  // what the legend says about the data: the whole tensor's
  const shown = {
    min: whole ? t.min : all.min,
    max: whole ? t.max : all.max,
    exact: whole, // header extremes are exact float32 values
    nonfinite: Math.max(all.nonfinite, t.nonfinite || 0),
    cut,
  };
  const diverging = view.style === 'signed' || (view.style === 'act' && all.min < 0);
  const palette = view.style === 'image' ? 'gray' : diverging ? opts.div : opts.seq;
  const mode = view.style === 'image' ? 'full' : opts.outliers;
  const so = { diverging, mode, palette, approx: view.approx };
  const shared = makeScale(all, so);
  const masks = view.maskOf ? view.maskOf(frame) : null;
  view.planes.forEach((p, i) => {
    // where the plane's values start in data; null if the frame lacks its channel
    let at = p.offset;
    if (cut) {
      const ch = Math.floor(p.offset / planeSize);
      at = ch >= cut[0] && ch < cut[1] ? p.offset - cut[0] * planeSize : null;
    }
    p.at = at;
    if (at === null) {
      p.surface.blank(p.x0, p.y0, p.h, p.w);
      p.scale = null;
      return;
    }
    let scale = shared;
    if (opts.range === 'map' && view.style !== 'image') {
      scale = makeScale(stats([data], at, at + p.h * p.w, scratch), so);
    }
    p.scale = scale;
    p.surface.paint(p.x0, p.y0, data, at, p.h, p.w, scale, masks ? masks[i] : null);
  });
  for (const s of view.surfaces) s.flush();
  labelSurfaces(view, t);
  if (view.legend) setLegend(view.legend, shared, opts.range === 'map' && view.style !== 'image', shown);
}

// labelSurfaces gives each canvas of view the accessible name of what it
// shows now (t: the tensor drawn, or null).
function labelSurfaces(view, t) {
  for (const s of view.surfaces) {
    const first = view.planes.find((p) => p.surface === s);
    labelSurface(view, s, t, first);
  }
}

// labelSurface sets the accessible name of a canvas (surface s of view,
// whose first map is plane) when it changed.
function labelSurface(view, s, t, plane) {
  const { channel, h, w, tiles } = s.about || {};
  const text = mapLabel({
    name: view.name,
    word: view.word || KIND_WORDS[t ? t.kind : view.kinds[0]] || view.kinds[0],
    channel, h, w, tiles,
    drawn: !!(t && plane && plane.at !== null),
    scale: plane ? plane.scale : null,
  });
  if (text !== s.label) {
    s.label = text;
    s.canvas.setAttribute('aria-label', text);
  }
}

// describeCell returns the tooltip lines for the pixel {y, x} of a canvas
// of index (from canvasIndex), or null when no map is drawn there (a gap, or
// nothing computed).
export function describeCell(index, canvas, px) {
  const r = index.get(canvas);
  if (!r || !px) return null;
  const { view } = r;
  const plane = r.planes.find((p) => px.x >= p.x0 && px.x < p.x0 + p.w && px.y >= p.y0 && px.y < p.y0 + p.h);
  const t = view.tensor;
  if (!t || !plane || plane.at === null) return null;
  const cell = { y: px.y - plane.y0, x: px.x - plane.x0 };
  const i = plane.at + cell.y * plane.w + cell.x;
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
