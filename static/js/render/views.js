// views.js — a View is one tensor of the trace (e.g. "conv 1, dL/dY") shown
// as a set of maps (planes), each in its own canvas, with one legend.
// drawView paints a view from a decoded frame; canvasIndex and describeCell
// say what one cell is, for the tooltip.

import { makeScale, MODES } from './colormap.js';
import { fmt32, fmtShort } from './format.js';
import { Surface, Marks } from './heatmap.js';
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
//   maskOf(frame) optional: per plane, a Uint8Array of cells to outline
//                 (the others are faded)
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
    this.marks = null; // the outlines of the cells maskOf flags (addTiled)
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
  // The map sits in a box of its own with a badge over it that says when
  // the map is dead (all zero) or constant.
  addPlane(parent, { offset, h, w, cell, where, testid, channel }) {
    const box = document.createElement('div');
    box.className = 'map-box';
    parent.append(box);
    const surface = this.canvas(box, h, w, cell, testid, { channel, h, w });
    const badge = document.createElement('span');
    badge.className = 'map-badge';
    badge.dataset.testid = 'map-badge';
    badge.hidden = true;
    box.append(badge);
    this.planes.push({ surface, x0: 0, y0: 0, offset, h, w, where, scale: null, channel, at: null, badge, flat: null });
    return surface.canvas;
  }

  // addTiled adds rows×cols maps of h×w in one canvas, one cell apart;
  // planeAt(r, c) gives each map's {offset, where}.
  // With a maskOf, the cells it flags are outlined on a layer of marks over
  // the canvas: a ring that reads the same whatever the value under it.
  addTiled(parent, { rows, cols, h, w, cell, planeAt, testid }) {
    let box = parent;
    if (this.maskOf) {
      box = document.createElement('div');
      box.className = 'map-box';
      parent.append(box);
    }
    const surface = this.canvas(box, rows * (h + 1) - 1, cols * (w + 1) - 1, cell, testid, { h, w, tiles: { rows, cols } });
    if (this.maskOf) {
      const mc = document.createElement('canvas');
      mc.className = 'map-marks';
      mc.dataset.testid = `${testid}-marks`;
      mc.setAttribute('aria-hidden', 'true');
      box.append(mc);
      this.marks = new Marks(mc, rows * (h + 1) - 1, cols * (w + 1) - 1);
    }
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

// PER_SAMPLE lists the kinds computed for the sample shown (the others are
// the batch's or the network's), for the legend's words.
const PER_SAMPLE = new Set(['input', 'act', 'grad', 'gradin', 'swgrad', 'sbgrad']);

// planeLen is the number of values of one map of a tensor of shape, as the
// server counts maps for its statistics (protocol/scalestats.go): the last
// two dimensions, a matrix's row, a whole vector.
export function planeLen(shape) {
  const n = shape.length;
  if (n >= 3) return shape[n - 2] * shape[n - 1];
  if (n === 2) return shape[1];
  return shape.reduce((a, b) => a * b, 1);
}

// scaleStats are the statistics a colour scale is built from, all from the
// server: the whole tensor's extremes and percentiles (header entry), or
// one map's (entry.maps[k]).
export function scaleStats(t, m) {
  const src = m || t;
  const ok = src.min != null && src.max != null && Number.isFinite(src.min) && Number.isFinite(src.max);
  const min = ok ? src.min : 0;
  const max = ok ? src.max : 0;
  const ps = m || t.stats || {};
  return {
    min, max, absMax: Math.max(Math.abs(min), Math.abs(max)), p99abs: ps.p99abs || 0, lin: ps.lin || 0,
    nonfinite: m ? 0 : t.nonfinite || 0, exact: ok,
  };
}

// badgeText says what a flat map is: dead (all zero) or its constant.
export function badgeText(kind, value) {
  if (value === null || value === undefined) return '';
  if (value === 0) return kind === 'act' || kind === 'input' ? 'dead: no active cell' : 'all zero: no gradient';
  return `constant ${fmtShort(value)}`;
}

// drawView paints every plane of a view from frame with the view options
// (range "layer" | "map", outliers, palettes). Every number a scale is built
// from comes from the frame's header (the whole tensor's statistics, or each
// map's): the same tensor is drawn in the same colours on every screen,
// whichever of its channels the page receives.
export function drawView(view, frame, opts) {
  const t = view.find(frame);
  view.tensor = t;
  view.approx = !!(frame && frame.header && frame.header.exact === false);
  view.history = !!(frame && frame.header && frame.header.history);
  if (!t) {
    for (const p of view.planes) { p.surface.blank(p.x0, p.y0, p.h, p.w); p.scale = null; setBadge(p, ''); }
    for (const s of view.surfaces) s.flush();
    if (view.marks) view.marks.draw(view.planes, null, null);
    if (view.legend) setLegendEmpty(view.legend, view.history);
    labelSurfaces(view, null);
    return;
  }
  const data = t.data;
  // a tensor cut to a range of channels (t.channels = [from, to)): data[0]
  // is channel from's first value, and the maps the header describes
  // (flat, maps) are counted from it
  const cut = t.channels && t.shape.length === 3 ? t.channels : null;
  const planeSize = t.shape.length === 3 ? t.shape[1] * t.shape[2] : 0;
  const mapLen = planeLen(t.shape);
  const st = scaleStats(t, null);
  const diverging = view.style === 'signed' || (view.style === 'act' && st.min < 0);
  const palette = view.style === 'image' ? 'gray' : diverging ? opts.div : opts.seq;
  const mode = view.style === 'image' ? 'full' : opts.outliers;
  const so = { diverging, mode, palette, approx: view.approx };
  const shared = makeScale(st, so);
  const perMap = opts.range === 'map' && view.style !== 'image';
  const flat = new Map((t.flat || []).map((f) => [f.map, f.value]));
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
      setBadge(p, '');
      return;
    }
    const k = mapLen > 0 ? Math.floor(at / mapLen) : 0;
    let scale = shared;
    if (perMap && t.maps && t.maps[k]) scale = makeScale(scaleStats(t, t.maps[k]), so);
    p.scale = scale;
    p.flat = flat.has(k) ? flat.get(k) : null;
    p.surface.paint(p.x0, p.y0, data, at, p.h, p.w, scale, masks ? masks[i] : null);
    setBadge(p, badgeText(t.kind, p.flat));
  });
  for (const s of view.surfaces) s.flush();
  labelSurfaces(view, t);
  if (view.marks) view.marks.draw(view.planes, masks, masks);
  if (view.legend) {
    const h = frame.header || {};
    const sample = !PER_SAMPLE.has(t.kind) ? '' : h.probe ? 'the probe image' : h.sample >= 0 ? `sample ${h.sample}` : '';
    setLegend(view.legend, shared, perMap && !!t.maps, { ...st, cut, sample, dead: [...flat.values()].filter((v) => v === 0).length });
  }
}

// setBadge shows text over a plane's map (or hides the badge when empty);
// it touches the DOM only when the text changes.
function setBadge(p, text) {
  if (!p.badge || p.badgeText === text) return;
  p.badgeText = text;
  p.badge.textContent = text;
  p.badge.hidden = text === '';
  p.badge.classList.toggle('dead', text.startsWith('dead') || text.startsWith('all zero'));
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
    history: !!view.history,
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
