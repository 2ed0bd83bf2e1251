// panels.js — the panels below the strip: per conv layer its filters, their
// gradient and their change; per max-pool layer its switches; per dense layer
// its weights reshaped to the layer's input, beside the class probabilities.

import { el } from '../dom.js';
import { View } from './views.js';
import { makeLegend } from './legend.js';
import { probBars } from './strip.js';

// card is a panel with a title and formula lines under it.
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
export function buildConv(root, L, i) {
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
// window) outlined and the rest faded, next to dL/dX, non-zero only there.
export function buildPool(root, L, i, inShape) {
  const [C, H, W] = inShape;
  const c = card(`${L.name} · switches`, [
    'max-pool: δ routed to the switch (argmax); every other cell of dL/dX is 0',
  ]);
  c.dataset.testid = `pool-panel-${i}`;
  c.append(el('div', 'card-note', 'left: the input X, the winner of each window outlined in black (whatever its value), the rest faded · right: dL/dX, same channels in the same places'));
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
    word: 'input X (outlined: the switch of its window)', style: 'act', legend: makeLegend(`${L.name}: input X`), maskOf,
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
export function buildDense(root, L, i, inShape, classes) {
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
