// stats.js — the numbers a colour scale is built from: finite extremes,
// medians and percentiles of some data, NaN and ±Inf counted apart.

// newScratch returns buffers for stats to reuse from frame to frame: a full
// sort, or fresh buffers, for every map on every frame cost more than
// drawing it. The drawing loop keeps one; without one, stats allocates.
export function newScratch() {
  return { abs: new Float32Array(0), raw: new Float32Array(0) };
}

// grow returns scratch[key] with room for n values, enlarging it if needed.
function grow(scratch, key, n) {
  if (scratch[key].length < n) scratch[key] = new Float32Array(Math.max(n, 2 * scratch[key].length));
  return scratch[key];
}

// Stats are the finite extremes and the 99th percentiles of some data.
// stats(arrays, [lo, hi], [scratch]) looks at arrays[i][lo:hi] for every
// array (all channels of a layer, or one channel). It never returns NaN:
// with no finite values, every field is 0.
export function stats(arrays, lo, hi, scratch = newScratch()) {
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
  // Percentiles by selection (quickselect, linear time on average).
  const abs = grow(scratch, 'abs', n);
  const raw = grow(scratch, 'raw', n);
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
