// layout.js — builds the page's maps from the welcome message: the network as
// a row of layer columns (input left, loss right) and, below it, the panels
// of conv filters, max-pool switches and dense weights. It returns the views
// to draw and the elements that show the flow of a phase.

import { View, el, makeLegend, registry } from './views.js';

// FORMULAS: per layer kind, the forward and the backward computation in one
// line each. δ is dL/dY, the gradient arriving at the layer's output.
export const FORMULAS = {
  input: ['x: the normalised input image'],
  conv: ['Y = W ⋆ X + b (cross-correlation, stride S, padding P)', 'dL/dX = δ dilated by S, zero-padded, fully convolved with rot180(W)'],
  relu: ['ReLU: Y = max(0, X)', 'ReLU: dL/dX = δ · [X > 0]'],
  leakyrelu: ['leaky ReLU: Y = X if X > 0 else αX', 'dL/dX = δ · (1 if X > 0 else α)'],
  tanh: ['Y = tanh(X)', 'dL/dX = δ · (1 − Y²)'],
  sigmoid: ['Y = σ(X) = 1 / (1 + e^−X)', 'dL/dX = δ · Y · (1 − Y)'],
  maxpool: ['max-pool: Y = max of each K×K window', 'max-pool: δ routed to the switch (argmax)'],
  avgpool: ['avg-pool: Y = mean of each K×K window', 'avg-pool: δ / K² spread over the window'],
  flatten: ['Y = X reshaped to a vector (c·H·W + h·W + w)', 'dL/dX = δ reshaped back to (C, H, W)'],
  dense: ['z = W · x + b', 'dL/dx = Wᵀ · δ'],
  loss: ['L = −log p_y, p = softmax(z)', 'dL/dz = p − onehot(y)'],
};

const shapeText = (s) => (s && s.length ? s.join(' × ') : '');

// cellFor picks the CSS pixels per cell for an h×w map so that maps of
// different sizes come out at comparable, readable sizes.
export function cellFor(h, w, target) {
  const m = Math.max(h, w);
  return Math.max(1, Math.min(16, Math.floor(target / m)));
}

// planeGrid describes how to cut a per-sample tensor shape into maps:
// (C, H, W) → C maps H×W; (K) → one map, a column when short, else wrapped.
function planeGrid(shape) {
  if (shape.length === 3) return { n: shape[0], h: shape[1], w: shape[2] };
  if (shape.length === 2) return { n: 1, h: shape[0], w: shape[1] };
  const k = shape[0] || 1;
  if (k <= 32) return { n: 1, h: k, w: 1, column: true };
  const w = Math.ceil(Math.sqrt(k));
  return { n: 1, h: Math.ceil(k / w), w, wrapped: k };
}

function whereFn(grid, ch) {
  if (grid.column) return (y) => `unit ${y}`;
  if (grid.wrapped) return (y, x) => `element ${y * grid.w + x}`;
  return (y, x) => `channel ${ch} · row ${y}, column ${x}`;
}

function header(name, spec, shape, kind) {
  const h = el('header', 'col-head');
  h.append(el('div', 'col-name', name));
  if (spec && spec !== name) h.append(el('div', 'col-spec', spec));
  if (shape) h.append(el('div', 'col-shape', shape));
  const f = FORMULAS[kind];
  if (f) {
    const box = el('div', 'formulas');
    box.append(el('div', 'formula fwd', `→ ${f[0]}`));
    if (f[1]) box.append(el('div', 'formula bwd', `← ${f[1]}`));
    h.append(box);
  }
  return h;
}

// buildStrip builds the row of layer columns into root. It returns
// {views, columns (Map index → column element; −1 input, L loss), links}.
function buildStrip(root, w) {
  const views = [];
  const columns = new Map();
  const links = [];
  const layers = w.layers || [];
  const inShape = w.input_shape || (layers[0] && layers[0].in_shape) || [1, 28, 28];

  const addLink = () => {
    const l = el('div', 'link');
    l.append(el('span', 'arrow', '→'));
    root.append(l);
    links.push(l);
  };

  // the input image and dL/dx
  const inCol = el('section', 'col col-input');
  inCol.dataset.layer = '-1';
  inCol.append(header('input', '', shapeText(inShape), 'input'));
  const g = planeGrid(inShape);
  const grid = el('div', 'maps cols-1');
  const lgX = makeLegend('input x');
  const vx = new View({ layer: -1, kinds: ['input'], name: 'input', style: 'image', legend: lgX });
  for (let c = 0; c < g.n; c++) {
    const cell = el('div', 'chan');
    vx.addPlane(cell, { offset: c * g.h * g.w, h: g.h, w: g.w, cell: cellFor(g.h, g.w, 140), where: whereFn(g, c), testid: 'input-map', channel: g.n > 1 ? c : undefined });
    grid.append(cell);
  }
  inCol.append(grid, el('div', 'sample-info'), lgX.root);
  views.push(vx);
  root.append(inCol);
  columns.set(-1, inCol);

  // one column per layer: every output map, and δ under each
  layers.forEach((L, i) => {
    addLink();
    const col = el('section', `col col-${L.kind}`);
    col.dataset.layer = String(i);
    col.dataset.testid = `layer-${i}`;
    col.append(header(L.name || `${L.kind} ${i}`, L.spec, shapeText(L.out_shape), L.kind));
    const gr = planeGrid(L.out_shape || [1]);
    const key = el('div', 'map-key');
    key.append(el('span', 'key-act', 'Y'), el('span', 'key-sep', ' / '), el('span', 'key-grad', 'δ = dL/dY'));
    col.append(key);
    const colsN = gr.n <= 1 ? 1 : gr.n <= 8 ? 2 : 4;
    const maps = el('div', `maps cols-${colsN}${gr.column ? ' vec' : ''}`);
    const target = gr.column ? 14 * gr.h : gr.h >= 28 ? 56 : gr.h >= 14 ? 42 : 36;
    const cell = gr.column ? 14 : cellFor(gr.h, gr.w, target);
    const lgA = makeLegend(`${L.name}: Y`);
    const lgD = makeLegend(`${L.name}: δ = dL/dY`);
    const va = new View({ layer: i, kinds: ['act'], name: L.name, style: 'act', legend: lgA });
    const vd = new View({ layer: i, kinds: ['grad'], name: L.name, style: 'signed', legend: lgD });
    // maps are on screen a grid row at a time: subscriptions ask for whole rows
    va.rowLen = vd.rowLen = colsN;
    const last = i === layers.length - 1;
    for (let c = 0; c < gr.n; c++) {
      const ch = el('div', 'chan');
      const off = c * gr.h * gr.w;
      const channel = gr.n > 1 ? c : undefined;
      va.addPlane(ch, { offset: off, h: gr.h, w: gr.w, cell, where: whereFn(gr, c), testid: 'act-map', channel });
      vd.addPlane(ch, { offset: off, h: gr.h, w: gr.w, cell, where: whereFn(gr, c), testid: 'grad-map', channel });
      if (gr.column && last && w.classes && w.classes.length === gr.h) {
        const names = el('div', 'class-names');
        for (const n of w.classes) names.append(el('span', '', String(n)));
        ch.append(names);
      }
      if (gr.n > 1) ch.append(el('div', 'chan-label', `${c}`));
      maps.append(ch);
    }
    col.append(maps, lgA.root, lgD.root);
    views.push(va, vd);
    root.append(col);
    columns.set(i, col);
  });

  // the loss: probabilities, label, loss
  addLink();
  const lossCol = el('section', 'col col-loss');
  lossCol.dataset.layer = String(layers.length);
  lossCol.append(header('loss', 'softmax + cross-entropy', '', 'loss'));
  lossCol.append(probBars(w.classes || []));
  root.append(lossCol);
  columns.set(layers.length, lossCol);
  return { views, columns, links };
}

// probBars builds one bar per class; updated by setProbs.
export function probBars(classes) {
  const box = el('div', 'probs');
  box.dataset.testid = 'probs';
  classes.forEach((name, k) => {
    const row = el('div', 'prob');
    row.dataset.cls = String(k);
    const bar = el('span', 'prob-bar');
    row.append(el('span', 'prob-name', String(name)), el('span', 'prob-track'), el('span', 'prob-val', ''));
    row.children[1].append(bar);
    box.append(row);
  });
  const sum = el('div', 'loss-sum');
  sum.dataset.testid = 'sample-loss';
  box.append(sum);
  return box;
}

function card(title, formulas) {
  const c = el('section', 'card');
  const h = el('header', 'card-head');
  h.append(el('h3', '', title));
  for (const f of formulas) h.append(el('div', 'formula', f));
  c.append(h);
  return c;
}

// tiledBlock is a titled canvas of tiled maps with its legend under it.
function tiledBlock(parent, title, view, opts) {
  const b = el('div', 'block');
  b.append(el('div', 'block-title', title));
  view.addTiled(b, opts);
  b.append(view.legend.root);
  parent.append(b);
}

// buildConv: filters, their gradient and their change, side by side; one
// canvas per tensor, a row per filter, a column per input channel.
function buildConv(root, L, i) {
  const [F, C, KH, KW] = L.params[0];
  const c = card(`${L.name} · filters (${F}, ${C}, ${KH}, ${KW})`, [
    'dL/dW = X ⋆ δ (mean over the batch) · ΔW = the change the last update applied',
  ]);
  c.dataset.testid = `conv-panel-${i}`;
  // one input channel: the filters side by side in rows of up to 8;
  // otherwise a row per filter and a column per input channel
  const single = C === 1;
  const cols = single ? Math.min(F, 8) : C;
  const rows = single ? Math.ceil(F / cols) : F;
  c.append(el('div', 'card-note', single
    ? `filters 0…${F - 1}, ${cols} to a row`
    : `rows: filters 0…${F - 1} · columns: input channels 0…${C - 1}`));
  const row = el('div', 'blocks');
  const cell = Math.max(3, Math.min(8, Math.floor(220 / (cols * (KW + 1))), Math.floor(300 / (rows * (KH + 1)))));
  const planeAt = (r, col) => {
    const f = single ? Math.min(F - 1, r * cols + col) : r;
    const ch = single ? 0 : col;
    return { offset: (f * C + ch) * KH * KW, where: (y, x) => `filter ${f}, input channel ${ch} · row ${y}, column ${x}` };
  };
  const parts = [['weights', 'filters W'], ['wgrad', 'dL/dW'], ['update', 'ΔW']];
  const vs = parts.map(([kind, title]) => {
    const v = new View({ layer: i, kinds: [kind], name: L.name, style: 'signed', legend: makeLegend(`${L.name}: ${title}`) });
    tiledBlock(row, title, v, { rows, cols, h: KH, w: KW, cell, planeAt, testid: `filter-${kind}` });
    return v;
  });
  c.append(row);
  root.append(c);
  return vs;
}

// buildPool: the pool's input with the switches (the cells that won their
// window) bright and the rest faded, next to dL/dX, non-zero only there.
function buildPool(root, L, i, inShape) {
  const [C, H, W] = inShape;
  const c = card(`${L.name} · switches`, [
    'max-pool: δ routed to the switch (argmax); every other cell of dL/dX is 0',
  ]);
  c.dataset.testid = `pool-panel-${i}`;
  c.append(el('div', 'card-note', 'left: the input X, the winner of each window bright · right: dL/dX, same channels in the same places'));
  let memo = { frame: null, masks: null };
  const maskOf = (frame) => {
    if (memo.frame === frame) return memo.masks;
    const sw = frame.tensors.get(`${i}:switch`);
    let masks = null;
    if (sw && sw.shape.length === 3) {
      const per = sw.shape[1] * sw.shape[2];
      // switches cut to channels [from, to) hold channel from first
      const [from, to] = sw.channels || [0, sw.shape[0]];
      masks = [];
      for (let ch = 0; ch < C; ch++) {
        if (ch < from || ch >= to) { masks.push(null); continue; }
        const m = new Uint8Array(H * W);
        for (let o = 0; o < per; o++) {
          const idx = sw.data[(ch - from) * per + o];
          if (idx >= 0 && idx < H * W) m[idx] = 1;
        }
        masks.push(m);
      }
    }
    memo = { frame, masks };
    return masks;
  };
  const vx = new View({
    layer: i === 0 ? -1 : i - 1, kinds: i === 0 ? ['input'] : ['act'], name: L.name,
    word: 'input X (bright: the switch of its window)', style: 'act', legend: makeLegend(`${L.name}: input X`), maskOf,
    also: [[i, 'switch']],
  });
  // dL/dX of the pool is δ of the layer before it (or, first, the pool's own dL/dX)
  const vd = i === 0
    ? new View({ layer: 0, kinds: ['gradin'], name: L.name, word: 'dL/dX', style: 'signed', legend: makeLegend(`${L.name}: dL/dX`) })
    : new View({ layer: i - 1, kinds: ['grad'], name: L.name, word: 'dL/dX', style: 'signed', legend: makeLegend(`${L.name}: dL/dX`) });
  const cols = C <= 4 ? C : C <= 8 ? 4 : C <= 16 ? 4 : 8;
  const rows = Math.ceil(C / cols);
  const cell = Math.max(2, Math.min(5, Math.floor(420 / (cols * (W + 1)))));
  const planeAt = (r, col) => {
    const ch = Math.min(C - 1, r * cols + col);
    return { offset: ch * H * W, where: (y, x) => `channel ${ch} · row ${y}, column ${x}` };
  };
  const row = el('div', 'blocks');
  tiledBlock(row, 'input X with switches', vx, { rows, cols, h: H, w: W, cell, planeAt, testid: 'switch-map' });
  tiledBlock(row, 'dL/dX', vd, { rows, cols, h: H, w: W, cell, planeAt, testid: 'pool-gradin' });
  c.append(row);
  root.append(c);
  return [vx, vd];
}

// buildDense: each class's weights reshaped to the layer's input shape, a
// row per class, beside the class probabilities.
function buildDense(root, L, i, inShape, classes) {
  const [Out, In] = L.params[0];
  let g;
  if (inShape.length === 3 && inShape[0] * inShape[1] * inShape[2] === In) g = { n: inShape[0], h: inShape[1], w: inShape[2] };
  else { const w = Math.ceil(Math.sqrt(In)); g = { n: 1, h: Math.ceil(In / w), w }; }
  const c = card(`${L.name} · weights per class, reshaped to its input (${inShape.join(', ')})`, [
    'z_k = Σ W_k ⊙ x + b_k · dL/dW_k = (p_k − [k = y]) · x (mean over the batch)',
  ]);
  c.dataset.testid = `dense-panel-${i}`;
  const cell = Math.max(2, Math.min(7, Math.floor(360 / (g.n * (g.w + 1)))));
  const rowPx = (g.h + 1) * cell;
  const names = classes.length === Out ? classes : Array.from({ length: Out }, (_, k) => String(k));
  const bars = probBars(names);
  const sum = bars.querySelector('.loss-sum');
  c.append(sum);
  const row = el('div', 'blocks');
  const pb = el('div', 'block');
  pb.append(el('div', 'block-title', 'p = softmax(z)'));
  for (const r of bars.querySelectorAll('.prob')) r.style.height = `${rowPx}px`;
  pb.append(bars);
  row.append(pb);
  const planeAt = (k, ch) => ({
    offset: k * In + ch * g.h * g.w,
    where: (y, x) => `class ${names[k]}, input channel ${ch} · row ${y}, column ${x}`,
  });
  const vs = [['weights', 'W (one row per class)'], ['wgrad', 'dL/dW']].map(([kind, title]) => {
    const v = new View({ layer: i, kinds: [kind], name: L.name, style: 'signed', legend: makeLegend(`${L.name}: ${title}`) });
    tiledBlock(row, title, v, { rows: Out, cols: g.n, h: g.h, w: g.w, cell, planeAt, testid: `dense-${kind}` });
    return v;
  });
  c.append(row);
  root.append(c);
  return vs;
}

// build lays out the whole lab for a welcome message.
export function build(strip, panels, w) {
  registry.clear();
  strip.replaceChildren();
  panels.replaceChildren();
  const out = buildStrip(strip, w);
  const views = [...out.views];
  const layers = w.layers || [];
  const inShape = (i) => {
    const L = layers[i];
    let s = L.in_shape || [];
    // a dense layer after flatten: show its weights in the shape before flatten
    if (s.length === 1 && i > 0 && layers[i - 1].kind === 'flatten') s = layers[i - 1].in_shape || s;
    return s;
  };
  layers.forEach((L, i) => {
    if (L.kind === 'conv' && L.params && L.params[0] && L.params[0].length === 4) views.push(...buildConv(panels, L, i));
  });
  layers.forEach((L, i) => {
    if (L.kind === 'maxpool' && (L.in_shape || []).length === 3) views.push(...buildPool(panels, L, i, L.in_shape));
  });
  layers.forEach((L, i) => {
    if (L.kind === 'dense' && L.params && L.params[0]) views.push(...buildDense(panels, L, i, inShape(i), w.classes || []));
  });
  return { views, columns: out.columns, links: out.links };
}
