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
//   "clamp"   linear up to the 99th percentile of |v| (or of v); larger values
//             saturate at the end colour;
//   "symlog"  sign(v)·log(1 + |v|/c) / log(1 + M/c), with c the median |v|
//             (at least M·10⁻⁶): values below c are nearly linear, larger ones
//             logarithmic, so small values stay visible next to outliers.
// NaN and ±Inf never enter a range; they are drawn in their own colour.

// NONFINITE is the colour of NaN and ±Inf cells (magenta: outside every palette).
export const NONFINITE = [255, 0, 255];

// Control points, low to high, of each palette (sRGB hex). All are readable with
// the common colour-vision deficiencies (no red–green opposition).
const STOPS = {
  // diverging: negative blue/purple, white zero, positive orange
  'blue-orange': ['#0d3d7a', '#2b6cb0', '#6ea6d8', '#bcd7ee', '#f7f7f7', '#fbd3ad', '#f4a261', '#d4661c', '#8a3c06'],
  'puor': ['#2d004b', '#542788', '#8073ac', '#b2abd2', '#f7f7f7', '#fdb863', '#e08214', '#b35806', '#7f3b08'],
  // sequential
  'viridis': ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  'magma': ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
  'gray': ['#000000', '#ffffff'],
};

// PALETTES lists the choices offered to the user, per scale kind.
export const PALETTES = {
  diverging: [['blue-orange', 'blue–white–orange'], ['puor', 'purple–white–orange']],
  sequential: [['viridis', 'viridis'], ['magma', 'magma'], ['gray', 'grey']],
};

// MODES lists the outlier modes with the words the legend uses.
export const MODES = {
  full: 'linear, full range',
  clamp: 'linear, clamped at 99th percentile',
  symlog: 'symmetric log',
};

const LUTS = new Map();

function hexToRGB(h) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// LUT_SIZE is odd so that the middle of a diverging palette (t = 0.5, value
// 0) is exactly its middle colour.
const LUT_SIZE = 255;

// lut returns LUT_SIZE RGB triples (a flat Uint8ClampedArray) for a palette.
export function lut(name) {
  let l = LUTS.get(name);
  if (l) return l;
  const stops = (STOPS[name] || STOPS.viridis).map(hexToRGB);
  l = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(x));
    const f = x - k;
    for (let c = 0; c < 3; c++) {
      l[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
    }
  }
  LUTS.set(name, l);
  return l;
}

// Stats are the finite extremes and the 99th percentiles of some data.
// stats(arrays, [lo, hi]) looks at arrays[i][lo:hi] for every array (all
// channels of a layer, or one channel). It never returns NaN: with no finite
// values, every field is 0.
export function stats(arrays, lo, hi) {
  let min = Infinity;
  let max = -Infinity;
  let n = 0;
  let nonfinite = 0;
  for (const a of arrays) {
    const end = hi ?? a.length;
    for (let i = lo ?? 0; i < end; i++) {
      const v = a[i];
      if (v !== v || v === Infinity || v === -Infinity) { nonfinite++; continue; }
      if (v < min) min = v;
      if (v > max) max = v;
      n++;
    }
  }
  if (n === 0) return { min: 0, max: 0, absMax: 0, p99abs: 0, p50abs: 0, p50: 0, p99: 0, p01: 0, count: 0, nonfinite };
  // Percentiles by selection (quickselect, linear time on average) in
  // scratch buffers reused from frame to frame: a full sort of every map's
  // values on every frame cost more than drawing it.
  const abs = scratch(0, n);
  const raw = scratch(1, n);
  let j = 0;
  for (const a of arrays) {
    const end = hi ?? a.length;
    for (let i = lo ?? 0; i < end; i++) {
      const v = a[i];
      if (v !== v || v === Infinity || v === -Infinity) continue;
      raw[j] = v;
      abs[j++] = Math.abs(v);
    }
  }
  // q(s, p) is the value a sorted s would hold at ⌈p·n⌉ − 1.
  const q = (s, p) => select(s, n, Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1)));
  return {
    min, max, absMax: Math.max(Math.abs(min), Math.abs(max)),
    p99abs: q(abs, 0.99), p50abs: q(abs, 0.5), p99: q(raw, 0.99), p50: q(raw, 0.5), p01: q(raw, 0.01),
    count: n, nonfinite,
  };
}

const scratchBufs = [new Float32Array(0), new Float32Array(0)];

// scratch returns reusable buffer i with room for n values.
function scratch(i, n) {
  if (scratchBufs[i].length < n) scratchBufs[i] = new Float32Array(Math.max(n, 2 * scratchBufs[i].length));
  return scratchBufs[i];
}

// select returns the k-th smallest of a[0:n] (0-based), reordering a[0:n]
// in place: Hoare's quickselect with a median-of-three pivot. The values
// are finite.
export function select(a, n, k) {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three into a[mid]
    if (a[mid] < a[lo]) { const t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
    if (a[hi] < a[lo]) { const t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
    if (a[hi] < a[mid]) { const t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

// makeScale builds a scale from stats.
//   opts.diverging  true for signed data (symmetric around zero)
//   opts.mode       "full" | "clamp" | "symlog"
//   opts.palette    palette name (see PALETTES)
//   opts.approx     true if the values are approximate (compact frames)
// The scale has t(v) ∈ [0, 1] (NaN for non-finite v), rgb(v, out, o) writing
// three bytes, and lo/hi, ticks and a description for the legend.
export function makeScale(st, opts) {
  const diverging = !!opts.diverging;
  const mode = MODES[opts.mode] ? opts.mode : 'full';
  const table = lut(opts.palette || (diverging ? 'blue-orange' : 'viridis'));
  let lo;
  let hi;
  if (diverging) {
    const m = mode === 'clamp' ? st.p99abs : st.absMax;
    lo = -m;
    hi = m;
  } else if (mode === 'clamp') {
    lo = st.min >= 0 ? st.min : st.p01;
    hi = st.p99;
  } else {
    lo = st.min;
    hi = st.max;
  }
  const span = hi - lo;
  let t;
  if (!(span > 0)) {
    // A constant map: one colour, the middle of the scale; never NaN.
    t = (v) => (Number.isFinite(v) ? 0.5 : NaN);
  } else if (mode === 'symlog') {
    const { c, m } = symlogParams(st, diverging, lo, hi);
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
  let describe = `${diverging ? 'diverging, 0 = white' : 'sequential'} · ${MODES[mode]}`;
  let sl = null;
  if (mode === 'symlog' && span > 0) {
    sl = symlogParams(st, diverging, lo, hi);
    const inside = sl.c < 0.5 * (diverging ? hi : hi - lo); // a tick of its own only if apart from the ends
    if (inside && diverging) ticks.splice(1, 1, -sl.c, 0, sl.c);
    else if (inside) ticks.splice(1, 1, lo + sl.c);
    describe += ` (linear within ${diverging ? '±' : ''}${fmtShort(sl.c)})`;
  }
  return {
    diverging, mode, lo, hi, t, rgb, ticks, approx: !!opts.approx, nonfinite: st.nonfinite, symlog: sl, describe,
    palette: opts.palette || (diverging ? 'blue-orange' : 'viridis'),
  };
}

// symlogParams: the linear threshold c (the median |v|, or the median
// distance from lo, at least 10⁻⁶ of the range) and the normaliser m.
function symlogParams(st, diverging, lo, hi) {
  const range = diverging ? hi : hi - lo;
  const med = diverging ? st.p50abs : st.p50 - lo;
  const c = Math.max(med, range * 1e-6);
  return { c, m: Math.log1p(range / c) };
}

// fmt32 writes a float32 value as the shortest decimal text that reads back as
// the same float32 (so "0.1" rather than "0.10000000149011612"), with ASCII
// minus signs so that it can be copied into code.
export function fmt32(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '0';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(parseFloat(s)) === f) return tidy(s);
  }
  return tidy(f.toPrecision(9));
}

// fmtShort writes a value with 3 significant digits for legends and captions,
// with typographic minus signs.
export function fmtShort(v) {
  if (!Number.isFinite(v)) return fmt32(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
  return tidy(s).replaceAll('-', '−');
}

// tidy drops trailing zeros and the exponent's plus: 1.50e+3 → 1.5e3, 2.00 → 2.
function tidy(s) {
  let [m, e] = s.split('e');
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
  return e !== undefined ? `${m}e${e.replace('+', '')}` : m;
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
