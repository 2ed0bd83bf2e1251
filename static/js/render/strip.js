// strip.js — the network as a row of layer columns, input on the left and
// the loss on the right: every map of every layer with its gradient δ under
// it, the formulas of each layer, and the class probabilities.

import { el } from '../dom.js';
import { View } from './views.js';
import { makeLegend } from './legend.js';

// FORMULAS: per layer kind, the forward and the backward computation in one
// line each. δ is dL/dY, the gradient arriving at the layer's output.
export const FORMULAS = Object.freeze({
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
});

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

// header is a column's head: its name (with, for a layer or the loss, the
// button that opens it in the focus view: focus is its target), spec,
// shape and formulas.
function header(name, spec, shape, kind, focus) {
  const h = el('header', 'col-head');
  const row = el('div', 'col-name-row');
  row.append(el('div', 'col-name', name));
  if (focus !== undefined) {
    const b = el('button', 'col-focus', '⤢');
    b.type = 'button';
    b.dataset.focus = String(focus);
    b.dataset.testid = `focus-${focus}`;
    b.title = `Open ${name} in the layer focus view (F)`;
    b.setAttribute('aria-label', `Open ${name} in the layer focus view`);
    row.append(b);
  }
  h.append(row);
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
export function buildStrip(root, w) {
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
    col.append(header(L.name || `${L.kind} ${i}`, L.spec, shapeText(L.out_shape), L.kind, i));
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
  lossCol.append(header('loss', 'softmax + cross-entropy', '', 'loss', layers.length));
  lossCol.append(probBars(w.classes || []));
  root.append(lossCol);
  columns.set(layers.length, lossCol);
  return { views, columns, links };
}

// probBars builds one bar per class and the loss caption under them; the
// drawing loop (draw.js) fills them in from each frame.
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
