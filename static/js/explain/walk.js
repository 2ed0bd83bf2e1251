// walk.js — the state of the backward convolution's walkthrough at one
// step (docs/protocol.md, "walk"): where the sliding window is, its
// products, the running sums and the cells filled so far. The numbers are
// the walkthrough message's (the engine's); this module only picks the
// ones of step k. Pure: no DOM, no state.

import { num } from './rows.js';
import { dilatedPlane, windowCovers } from './geometry.js';

// rot180 returns the kh×kw filter w (row-major) rotated by 180°.
export function rot180(w, kh, kw) {
  const out = new Array(kh * kw);
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) out[u * kw + v] = w[(kh - 1 - u) * kw + (kw - 1 - v)];
  }
  return out;
}

// walkPlane is the dilated, zero-padded plane of a dL/dX walkthrough (see
// geometry.js dilatedPlane), with δ's values placed in it.
export function walkPlane(w) {
  const p = dilatedPlane({
    plane_h: w.dilated_h, plane_w: w.dilated_w, kh: w.kh, kw: w.kw, pad: w.pad, stride: w.stride, out_h: w.out_h, out_w: w.out_w,
  });
  return { ...p, values: w.dilated || [] };
}

// stepCount is the number of steps of a walkthrough.
export function stepCount(w) {
  return (w && w.steps && w.steps.length) || 0;
}

// clampStep keeps k within the walkthrough's steps.
export function clampStep(w, k) {
  const n = stepCount(w);
  return Math.max(0, Math.min(n - 1, Math.floor(Number(k) || 0)));
}

// walkState is what the explainer shows at step k of walkthrough w:
//   dW: at (y, x) the output position, window (r0, c0) of X under δ[f,y,x],
//       delta the value of δ there, products (kh·kw) and sums (kh·kw, the
//       running dL/dW[f,c]) of this step;
//   dX: at (i, j) the input cell, origin (r, c) of the rotated filter in
//       the dilated plane, taps (kh·kw products), partial (filter f's
//       share), value (dL/dX[c,i,j] over all filters), filled (in_h·in_w:
//       the values of the cells done so far, null for the others) and
//       uncovered (1 for a done cell no window reaches).
// text is the step in words, with its numbers.
export function walkState(w, k) {
  const n = stepCount(w);
  if (!n) return null;
  k = clampStep(w, k);
  const s = w.steps[k];
  const done = k === n - 1;
  const base = { grad: w.grad, k, n, done, at: s.at };
  if (w.grad === 'dW') {
    const [y, x] = s.at;
    const r0 = y * w.stride - w.pad;
    const c0 = x * w.stride - w.pad;
    const delta = w.delta[y * w.out_w + x];
    return {
      ...base,
      window: [r0, c0],
      delta,
      products: s.products,
      sums: s.sums,
      text: `step ${k + 1} of ${n}: δ[${w.filter},${y},${x}] = ${num(delta)} times the window of X[${w.channel}] ` +
        `at rows ${r0}…${r0 + w.kh - 1}, columns ${c0}…${c0 + w.kw - 1}: each tap adds X·δ to its cell of dL/dW[${w.filter},${w.channel}]`,
    };
  }
  const plane = walkPlane(w);
  const filled = new Array(w.in_h * w.in_w).fill(null);
  const uncovered = new Uint8Array(w.in_h * w.in_w);
  for (let j = 0; j <= k; j++) {
    const t = w.steps[j];
    const o = t.at[0] * w.in_w + t.at[1];
    filled[o] = t.value;
    if (!windowCovers(plane, t.origin, w.kh, w.kw)) uncovered[o] = 1;
  }
  const [i, jx] = s.at;
  const o = i * w.in_w + jx;
  return {
    ...base,
    origin: s.origin,
    taps: s.taps,
    partial: s.partial,
    value: s.value,
    filled,
    uncovered,
    text: uncovered[o]
      ? `step ${k + 1} of ${n}: no window of the rotated filter reaches a δ cell for dL/dX[${w.channel},${i},${jx}]: it stays 0`
      : `step ${k + 1} of ${n}: rot180(W[${w.filter},${w.channel}]) at (${s.origin.join(',')}) of the dilated δ[${w.filter}]: ` +
        `filter ${w.filter}'s share ${num(s.partial)}; over all filters dL/dX[${w.channel},${i},${jx}] = ${num(s.value)}`,
  };
}

// resultCells is the finished grid of a walkthrough as the explainer
// exposes it: dW kh·kw values, dX in_h·in_w values (the engine's numbers).
export function resultCells(w) {
  return Array.from(w.result || [], (v) => (v === null ? null : Number(v)));
}

// walkChoice is the walkthrough that follows the chosen cell q (the
// drill-down's question) when it is a cell of conv layer q.layer:
// {layer, grad, filter, channel, at, cell} — dL/dW for a cell of dL/dW
// (its filter and channel; cell its [u, v]) and for a cell of Y or δ (its
// filter; at its position, where δ[f] meets it); dL/dX for a cell of dL/dX
// (its channel; at its position). filter or channel null: keep the one
// chosen. null when q is no such cell.
export function walkChoice(welcome, q) {
  const L = q && welcome && (welcome.layers || [])[q.layer];
  if (!L || L.kind !== 'conv' || !Array.isArray(q.index)) return null;
  const i = q.index;
  const base = { layer: q.layer, filter: null, channel: null, at: null, cell: null };
  if (q.tensor === 'dW' && i.length === 4) return { ...base, grad: 'dW', filter: i[0], channel: i[1], cell: [i[2], i[3]] };
  if ((q.tensor === 'Y' || q.tensor === 'dY') && i.length === 3) return { ...base, grad: 'dW', filter: i[0], at: [i[1], i[2]] };
  if (q.tensor === 'dX' && i.length === 3) return { ...base, grad: 'dX', channel: i[0], at: [i[1], i[2]] };
  return null;
}

// stepAt is the step of walkthrough w at position at ([y, x]: δ's cell of a
// dL/dW walk, the input cell of a dL/dX walk), or 0 if none is.
export function stepAt(w, at) {
  const k = at ? ((w && w.steps) || []).findIndex((s) => s.at && s.at[0] === at[0] && s.at[1] === at[1]) : -1;
  return Math.max(0, k);
}
