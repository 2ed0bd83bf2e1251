// focusbuild.js — builds the layer focus view's maps from its parts
// (parts.js): one block per tensor, each a View (render/views.js) drawn by
// the drawing loop like the strip's, with its legend; channels of the pages
// shown. It returns the views and their canvas index, for the tooltip and
// the drill-down.

import { el } from '../dom.js';
import { View, canvasIndex } from '../render/views.js';
import { makeLegend } from '../render/legend.js';
import { cellFor } from '../render/strip.js';
import { pageRange, PAGE } from './parts.js';

// the CSS pixels a map of a page may take, and a filter (tile)
const MAP_PX = 84;
const SINGLE_PX = 150;
const TILE_PX = 64;

// probsOf turns the class probabilities of a frame's header into a tensor a
// View draws (they travel in the header, not as a tensor); memoized per
// frame.
function probsView(v, L) {
  let memo = { frame: null, t: null };
  v.find = (frame) => {
    if (!frame) return null;
    if (memo.frame === frame) return memo.t;
    const p = frame.header && frame.header.probs;
    let t = null;
    if (p && p.length) {
      const data = Float32Array.from(p, (x) => (x === null ? NaN : x));
      t = { layer: L, kind: 'probs', shape: [p.length], channels: null, enc: 'f32', data, min: Math.min(...data), max: Math.max(...data), nonfinite: 0 };
    }
    memo = { frame, t };
    return t;
  };
}

// vectorPlane adds a vector of K values: a column when short (beside the
// class names when it has one value per class), else wrapped into a square.
function vectorPlane(v, parent, K, word, classes) {
  if (K <= 32) {
    const named = classes && classes.length === K;
    v.addPlane(parent, { offset: 0, h: K, w: 1, cell: 14, where: (y) => (named ? `class ${classes[y]}` : `${word} ${y}`), testid: 'focus-map' });
    if (named) {
      const names = el('div', 'class-names');
      for (const n of classes) names.append(el('span', '', String(n)));
      parent.append(names);
    }
    return;
  }
  const w = Math.ceil(Math.sqrt(K));
  const h = Math.ceil(K / w);
  v.addPlane(parent, { offset: 0, h, w, cell: cellFor(h, w, SINGLE_PX), where: (y, x) => `element ${y * w + x}`, testid: 'focus-map' });
}

// mapBlock builds the block of one map tensor for the channels [from, to);
// classes are the data set's class names.
function mapBlock(m, name, range, classes) {
  const b = el('section', 'fblock');
  b.dataset.key = m.key;
  b.append(el('h3', 'fblock-title', m.title));
  const legend = makeLegend(`${name}: ${m.title}`);
  const v = new View({ layer: m.layer, kinds: [m.kind], name, word: m.title, style: m.style, legend });
  if (m.kind === 'probs') probsView(v, m.layer);
  const grid = el('div', 'fmaps');
  if (m.shape.length === 3) {
    const [, H, W] = m.shape;
    const [from, to] = range;
    const n = to - from;
    const cell = cellFor(H, W, n <= 1 ? SINGLE_PX : MAP_PX);
    grid.classList.add(n <= 1 ? 'cols-1' : 'cols-2');
    for (let c = from; c < to; c++) {
      const box = el('div', 'chan');
      v.addPlane(box, { offset: c * H * W, h: H, w: W, cell, where: (y, x) => `channel ${c} · row ${y}, column ${x}`, testid: 'focus-map', channel: c });
      box.append(el('div', 'chan-label', String(c)));
      grid.append(box);
    }
    v.rowLen = PAGE;
  } else {
    grid.classList.add('cols-1', 'vec');
    const box = el('div', 'chan');
    vectorPlane(v, box, m.shape[0] || 1, m.kind === 'probs' ? 'class' : 'unit', classes);
    grid.append(box);
  }
  for (const c of v.surfaces) c.canvas.dataset.focus = m.key;
  b.append(grid, legend.root);
  return { block: b, views: [v] };
}

// paramBlock builds the block of one parameter tensor: W[r, c] for the
// rows of the out page and the columns of the in page, and its bias.
function paramBlock(p, name, rows, cols) {
  const b = el('section', 'fblock fparam');
  b.dataset.key = p.key;
  b.append(el('h3', 'fblock-title', p.title));
  const t = p.tile;
  const legend = makeLegend(`${name}: ${p.title}`);
  const v = new View({ layer: p.layer, kinds: [p.kind], name, word: p.title, style: 'signed', legend });
  const cell = Math.max(1, Math.min(12, Math.floor(TILE_PX / Math.max(t.h, t.w))));
  const [r0, r1] = rows;
  const [c0, c1] = cols;
  const what = t.C > 1 || t.h * t.w < 2 ? 'input channel' : 'input';
  v.addTiled(b, {
    rows: r1 - r0, cols: c1 - c0, h: t.h, w: t.w, cell, testid: 'focus-param',
    planeAt: (r, c) => ({
      offset: t.offset(r0 + r, c0 + c),
      where: (y, x) => `${p.key === 'W' ? 'W' : 'cell'} [${r0 + r}, ${c0 + c}] · ${what} ${c0 + c} · row ${y}, column ${x}`,
    }),
  });
  const bv = new View({ layer: p.layer, kinds: [p.bias], name, word: `${p.title.replace('W', 'b')}`, style: 'signed', legend: null });
  const bias = el('div', 'fbias');
  bias.append(el('span', 'fbias-label', 'b'));
  bv.addPlane(bias, { offset: 0, h: 1, w: t.F, cell: 12, where: (y, x) => `bias ${x}`, testid: 'focus-bias' });
  for (const s of [...v.surfaces, ...bv.surfaces]) s.canvas.dataset.focus = p.key;
  b.append(bias, legend.root);
  return { block: b, views: [v, bv] };
}

// buildFocus fills body with the focus view of part for the pages shown
// (inPage, outPage); classes name the data set's classes, the outputs of
// layer last (the logits) and the probabilities. It returns {views, index,
// canvases}.
export function buildFocus(body, part, inPage, outPage, classes, last) {
  body.replaceChildren();
  const views = [];
  const inRange = pageRange(inPage, part.inCount);
  const outRange = pageRange(outPage, part.outCount);
  const maps = el('div', 'focus-row');
  for (const m of part.maps) {
    const range = m.axis === 'in' ? inRange : m.axis === 'out' ? outRange : [0, 0];
    const r = mapBlock(m, part.name, range, m.layer >= last ? classes : null);
    maps.append(r.block);
    views.push(...r.views);
  }
  body.append(maps);
  if (part.params.length) {
    const params = el('div', 'focus-row');
    const rows = pageRange(outPage, part.params[0].tile.F);
    const cols = pageRange(inPage, part.params[0].tile.C);
    for (const p of part.params) {
      const r = paramBlock(p, part.name, rows, cols);
      params.append(r.block);
      views.push(...r.views);
    }
    body.append(params);
  }
  for (const v of views) v.stale = true;
  const canvases = new Set(views.flatMap((v) => v.surfaces.map((s) => s.canvas)));
  return { views, index: canvasIndex(views), canvases };
}
