// colormap.js — the colour language of the lab.
//
// A scale maps a tensor value to a colour. Heatmaps and legends are both drawn
// through the same scale object, so what the legend says is what the maps show.
//
//   diverging  (signed data: gradients, weights, ΔW) — symmetric around zero,
//              −M … 0 … +M, zero is the neutral middle colour;
//   sequential (non-negative data: the image, ReLU outputs) — lo … hi.
//
// Outlier handling (mode):
//   "full"    linear over the full range of the data;
//   "clamp"   linear up to the 99th percentile of the non-zero |v|; larger
//             values saturate at the end colour;
//   "symlog"  sign(v)·log(1 + |v|/c) / log(1 + M/c), with c the 10th
//             percentile of the non-zero |v| (at least M·10⁻⁶): values below
//             c are nearly linear, larger ones logarithmic, so small values
//             stay visible next to outliers and a sparse gradient keeps its
//             magnitudes.
// NaN and ±Inf never enter a range; they are drawn in their own colour.
//
// The palettes and modes offered are named in vocab.js; the numbers a scale
// is built from come from the server, computed over the whole tensor (or the
// whole map) in the frame's header.

import { VOCAB } from '../vocab.js';
import { fmtShort } from './format.js';

// NONFINITE is the colour of NaN and ±Inf cells (magenta: outside every palette).
export const NONFINITE = Object.freeze([255, 0, 255]);

// Control points, low to high, of each palette (sRGB hex). All are readable with
// the common colour-vision deficiencies (no red–green opposition).
const STOPS = Object.freeze({
  // diverging: negative blue/purple, white zero, positive orange
  'blue-orange': ['#0d3d7a', '#2b6cb0', '#6ea6d8', '#bcd7ee', '#f7f7f7', '#fbd3ad', '#f4a261', '#d4661c', '#8a3c06'],
  'puor': ['#2d004b', '#542788', '#8073ac', '#b2abd2', '#f7f7f7', '#fdb863', '#e08214', '#b35806', '#7f3b08'],
  // sequential
  'viridis': ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  'magma': ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
  'gray': ['#000000', '#ffffff'],
});

// MODES lists the outlier modes with the words the legend uses.
export const MODES = Object.freeze({
  full: 'linear, full range',
  clamp: 'linear, clamped at the 99th percentile of |x| > 0',
  symlog: 'symmetric log',
});

function hexToRGB(h) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// LUT_SIZE is odd so that the middle of a diverging palette (t = 0.5, value
// 0) is exactly its middle colour.
const LUT_SIZE = 255;

// buildLUT interpolates LUT_SIZE RGB triples (a flat Uint8ClampedArray)
// between the control points of a palette.
function buildLUT(hexStops) {
  const stops = hexStops.map(hexToRGB);
  const l = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(x));
    const f = x - k;
    for (let c = 0; c < 3; c++) {
      l[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
    }
  }
  return l;
}

// LUTS holds every palette's table, built once when the module loads.
const LUTS = Object.freeze(Object.fromEntries(Object.entries(STOPS).map(([name, stops]) => [name, buildLUT(stops)])));

// PALETTE_NAMES lists the palettes this module can draw.
export const PALETTE_NAMES = Object.freeze(Object.keys(STOPS));

// DEFAULT_DIVERGING and DEFAULT_SEQUENTIAL are the palettes of a scale that
// names none: the first of each kind offered.
const DEFAULT_DIVERGING = VOCAB.view.diverging[0];
const DEFAULT_SEQUENTIAL = VOCAB.view.sequential[0];

// lut returns the LUT_SIZE RGB triples (a flat Uint8ClampedArray) of a
// palette; an unknown name gets the default sequential palette's.
export function lut(name) {
  return Object.hasOwn(LUTS, name) ? LUTS[name] : LUTS[DEFAULT_SEQUENTIAL];
}

// makeScale builds a scale from stats {min, max, absMax, p99abs, lin,
// nonfinite}: the finite extremes, and the server's percentiles of the
// non-zero magnitudes (see docs/protocol.md, "Colour-scale statistics").
//   opts.diverging  true for signed data (symmetric around zero)
//   opts.mode       "full" | "clamp" | "symlog"
//   opts.palette    palette name (see vocab.js: VOCAB.view)
//   opts.approx     true if the values are approximate (compact frames)
// Zero has one colour in every scale: the middle of a diverging one, the
// low end of a sequential one (non-negative data starts at 0, not at its
// minimum). The scale has t(v) ∈ [0, 1] (NaN for non-finite v), rgb(v, out,
// o) writing three bytes, and lo/hi, ticks and a description for the legend.
export function makeScale(st, opts) {
  const diverging = !!opts.diverging;
  const mode = Object.hasOwn(MODES, opts.mode) ? opts.mode : 'full';
  const palette = opts.palette || (diverging ? DEFAULT_DIVERGING : DEFAULT_SEQUENTIAL);
  const table = lut(palette);
  const absMax = st.absMax ?? Math.max(Math.abs(st.min), Math.abs(st.max));
  const clampAt = st.p99abs > 0 ? st.p99abs : absMax;
  let lo;
  let hi;
  if (diverging) {
    const m = mode === 'clamp' ? clampAt : absMax;
    lo = -m;
    hi = m;
  } else if (st.min >= 0) {
    lo = 0;
    hi = mode === 'clamp' ? Math.min(st.max, clampAt) : st.max;
  } else {
    lo = st.min;
    hi = st.max;
  }
  const span = hi - lo;
  let t;
  let sl = null;
  if (!(span > 0)) {
    // every value is lo: zero in zero's colour, anything else at the end
    // its sign points to
    const zero = diverging ? 0.5 : 0;
    t = (v) => (!Number.isFinite(v) ? NaN : v > lo ? 1 : v < lo ? 0 : lo === 0 ? zero : 0.5);
  } else if (mode === 'symlog') {
    sl = symlogParams(st, diverging, lo, hi);
    const { c, m } = sl;
    if (diverging) {
      t = (v) => {
        if (!Number.isFinite(v)) return NaN;
        const x = Math.sign(v) * Math.log1p(Math.abs(v) / c) / m;
        return Math.min(1, Math.max(0, 0.5 + 0.5 * x));
      };
    } else {
      t = (v) => {
        if (!Number.isFinite(v)) return NaN;
        return Math.min(1, Math.max(0, Math.log1p(Math.max(0, v - lo) / c) / m));
      };
    }
  } else {
    t = (v) => (Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / span)) : NaN);
  }
  const rgb = (v, out, o) => {
    const x = t(v);
    if (x !== x) {
      out[o] = NONFINITE[0]; out[o + 1] = NONFINITE[1]; out[o + 2] = NONFINITE[2];
      return;
    }
    const i = Math.round(x * (LUT_SIZE - 1)) * 3;
    out[o] = table[i]; out[o + 1] = table[i + 1]; out[o + 2] = table[i + 2];
  };
  const ticks = diverging ? [lo, 0, hi] : [lo, (lo + hi) / 2, hi];
  // the legend's words: how colours read, and how values become colours
  const words = {
    palette: diverging ? 'diverging, 0 = white' : lo === 0 ? 'sequential, 0 = darkest' : 'sequential',
    mode: MODES[mode],
  };
  if (sl) {
    if (diverging) ticks.splice(1, 1, -sl.c, 0, sl.c);
    else ticks.splice(1, 1, lo + sl.c);
    words.mode += ` (linear within ${diverging ? '±' : ''}${fmtShort(sl.c)})`;
  }
  const describe = `${words.palette} · ${words.mode}`;
  return {
    diverging, mode, lo, hi, t, rgb, ticks, approx: !!opts.approx, nonfinite: st.nonfinite, symlog: sl, describe,
    words, palette, p99abs: clampAt,
  };
}

// symlogParams: the linear threshold c — the server's 10th percentile of
// the non-zero magnitudes (st.lin), so that a sparse gradient keeps its
// magnitudes; at least 10⁻⁶ of the range, at most the range — and the
// normaliser m.
function symlogParams(st, diverging, lo, hi) {
  const range = diverging ? hi : hi - lo;
  const c = Math.min(range, Math.max(st.lin > 0 ? st.lin : range * 1e-3, range * 1e-6));
  return { c, m: Math.log1p(range / c) };
}

// drawLegend paints the colour bar of a scale into a canvas (its width in
// device pixels is chosen here) and returns the tick labels with their
// positions in [0, 1] along the bar, for the caller to place as text.
export function drawLegend(canvas, scale) {
  const w = 256;
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== 1) canvas.height = 1;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, 1);
  for (let i = 0; i < w; i++) {
    // sample values along the bar and colour them with the scale itself
    const v = valueAt(scale, i / (w - 1));
    scale.rgb(v, img.data, i * 4);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return ticksOf(scale);
}

// ticksOf returns the tick labels of a scale with their positions in [0, 1]
// along its colour bar.
export function ticksOf(scale) {
  return scale.ticks.map((v) => ({ v, pos: Number.isFinite(scale.t(v)) ? scale.t(v) : 0.5, text: fmtShort(v) }));
}

// valueAt inverts t for the legend: the value drawn at position x ∈ [0, 1].
function valueAt(scale, x) {
  const { lo, hi } = scale;
  if (!(hi - lo > 0)) return lo;
  if (scale.mode === 'symlog' && scale.symlog) {
    const { c, m } = scale.symlog;
    if (scale.diverging) {
      const y = 2 * x - 1;
      return Math.sign(y) * c * Math.expm1(Math.abs(y) * m);
    }
    return lo + c * Math.expm1(x * m);
  }
  return lo + x * (hi - lo);
}
