// geometry.js — the pictures of an explanation's window, from the terms
// and the window the engine sent: the K×K window of X over which a conv or
// pool output is computed (padding cells marked, the max-pool winner), and
// for conv dL/dX the plane the rotated filter slides over (dL/dY dilated
// by the stride and zero-padded by K−1−P). Pure: no DOM, no state.

import { num } from './rows.js';

// windowGrids lists, for an explanation of Y of a conv or pool layer, one
// K×K grid per input channel the window reads: cells {x, w, product, pad,
// winner} in row-major order (w is '' for a pool). null when the
// explanation has no such window.
export function windowGrids(msg) {
  const win = msg.window;
  if (!win || msg.tensor !== 'Y' || !win.origin) return null;
  const [r0, c0] = win.origin;
  const byChannel = new Map();
  for (const t of msg.terms || []) {
    if (t.a.name !== 'X' || !t.a.index || t.a.index.length !== 3) continue;
    const [c, iy, ix] = t.a.index;
    const ky = iy - r0;
    const kx = ix - c0;
    if (ky < 0 || kx < 0 || ky >= win.kh || kx >= win.kw) continue;
    if (!byChannel.has(c)) byChannel.set(c, new Array(win.kh * win.kw).fill(null));
    byChannel.get(c)[ky * win.kw + kx] = {
      x: t.padding ? '0' : num(t.a.value),
      w: t.b && t.b.name === 'W' ? num(t.b.value) : '',
      product: num(t.product),
      pad: !!t.padding,
      winner: !!t.winner,
      at: `X[${c},${iy},${ix}]`,
    };
  }
  if (!byChannel.size) return null;
  return [...byChannel.entries()].sort((a, b) => a[0] - b[0]).map(([c, cells]) => ({
    channel: c, kh: win.kh, kw: win.kw, rows: `${r0}…${r0 + win.kh - 1}`, cols: `${c0}…${c0 + win.kw - 1}`, cells,
  }));
}

// Cell classes of the dilated plane.
export const PLANE = Object.freeze({ PAD: 0, GAP: 1, DELTA: 2 });

// dilatedPlane describes, for conv dL/dX, the plane dL/dY is spread over:
// kind[r·w + c] is PLANE.PAD (the zero padding of K−1−P around it), GAP
// (a zero the stride's dilation inserts) or DELTA (a cell holding some
// δ[y,x]); window is where the rotated filter sits for the asked cell;
// taps are the dilated cells the engine's terms read. For a walkthrough
// the same geometry comes from its message (see walk.js). null when not
// a conv dL/dX.
export function dilatedPlane(win) {
  if (!win || !win.plane_h || !win.plane_w) return null;
  const h = win.plane_h;
  const w = win.plane_w;
  const ph = win.kh - 1 - win.pad;
  const pw = win.kw - 1 - win.pad;
  const kind = new Uint8Array(h * w);
  const along = (r, p, s, out) => {
    const d = r - p;
    if (d < 0 || d > (out - 1) * s) return PLANE.PAD;
    return d % s === 0 ? PLANE.DELTA : PLANE.GAP;
  };
  for (let r = 0; r < h; r++) {
    const kr = along(r, ph, win.stride, win.out_h);
    for (let c = 0; c < w; c++) {
      const kc = along(c, pw, win.stride, win.out_w);
      kind[r * w + c] = kr === PLANE.PAD || kc === PLANE.PAD ? PLANE.PAD : kr === PLANE.GAP || kc === PLANE.GAP ? PLANE.GAP : PLANE.DELTA;
    }
  }
  return { h, w, kind, padRows: ph, padCols: pw };
}

// planeOfExplanation is dilatedPlane for a conv dL/dX explanation, with
// the rotated filter's window and its taps: the cells under it that hold a
// δ value (every filter's δ sits in the same cells).
export function planeOfExplanation(msg) {
  if (msg.tensor !== 'dX' || !msg.window || !msg.window.plane_h) return null;
  const p = dilatedPlane(msg.window);
  const [r0, c0] = msg.window.origin;
  const taps = [];
  for (let u = 0; u < msg.window.kh; u++) {
    for (let v = 0; v < msg.window.kw; v++) {
      const r = r0 + u;
      const c = c0 + v;
      if (r >= 0 && c >= 0 && r < p.h && c < p.w && p.kind[r * p.w + c] === PLANE.DELTA) taps.push([r, c]);
    }
  }
  return { ...p, origin: msg.window.origin, kh: msg.window.kh, kw: msg.window.kw, taps };
}

// windowCovers reports whether the K×K window at origin (r, c) of a plane
// covers a DELTA cell: whether any output depends on the input cell it
// stands for.
export function windowCovers(plane, origin, kh, kw) {
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      const r = origin[0] + u;
      const c = origin[1] + v;
      if (r >= 0 && c >= 0 && r < plane.h && c < plane.w && plane.kind[r * plane.w + c] === PLANE.DELTA) return true;
    }
  }
  return false;
}
