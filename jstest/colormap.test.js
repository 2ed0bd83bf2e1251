// Colour scales (static/js/render/colormap.js), the statistics they are
// built from (stats.js) and the numbers written beside them (format.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { makeScale, lut, ticksOf, NONFINITE, PALETTE_NAMES } from '../static/js/render/colormap.js';
import { stats, select, newScratch } from '../static/js/render/stats.js';
import { fmt32, fmtShort } from '../static/js/render/format.js';

// rgb returns the colour a scale gives v.
function rgb(scale, v) {
  const o = new Uint8Array(3);
  scale.rgb(v, o, 0);
  return [...o];
}

// random returns a seeded generator of numbers in [−0.5, 0.5).
function random(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
}

test('fmt32 writes the shortest text that reads back as the float32', () => {
  const cases = [[0.1, '0.1'], [1 / 3, '0.33333334'], [-1.5e-7, '-1.5e-7'], [0, '0'], [2.5, '2.5'], [1e10, '1e10'],
    [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf']];
  for (const [v, want] of cases) assert.equal(fmt32(Math.fround(v)), want, `fmt32(${v})`);
});

test('fmtShort writes 3 significant digits with typographic minus signs', () => {
  const cases = [[0, '0'], [1.2345, '1.23'], [-0.5, '−0.5'], [12345, '1.23e4'], [-1.5e-7, '−1.5e−7'], [0.001, '0.001'], [NaN, 'NaN']];
  for (const [v, want] of cases) assert.equal(fmtShort(v), want, `fmtShort(${v})`);
});

test('fmtShort keeps the 3 digits of a rounded value, and drops the zeros of an exact one', () => {
  // the header's batch loss: 1.0035 is not 1
  const cases = [[1.0035, '1.00'], [2.30001, '2.30'], [0.49996, '0.500'], [-0.10004, '−0.100'], [10004, '1.00e4'], [1.2e-7 + 1e-12, '1.20e−7'],
    // ticks, colour-scale ends, constants: exact values read as before
    [2, '2'], [0.5, '0.5'], [-1, '−1'], [0.1 + 0.2, '0.3'], [Math.fround(0.1), '0.1'], [12000, '1.2e4'], [Math.fround(2.5), '2.5']];
  for (const [v, want] of cases) assert.equal(fmtShort(v), want, `fmtShort(${v})`);
});

test('a diverging scale is white at 0 and symmetric around it', () => {
  const div = makeScale(stats([new Float32Array([-1, 0, 2])]), { diverging: true, mode: 'full', palette: 'blue-orange' });
  assert.deepEqual(rgb(div, 0), [247, 247, 247]);
  assert.deepEqual([div.t(-2), div.t(0), div.t(2)], [0, 0.5, 1]);
  assert.equal(div.lo, -2);
  assert.equal(div.hi, 2);
  assert.deepEqual(div.ticks, [-2, 0, 2]);
});

test('NaN and ±Inf are drawn in their own colour', () => {
  const s = makeScale(stats([new Float32Array([-1, 0, 2, NaN, Infinity])]), { diverging: true, mode: 'full' });
  assert.deepEqual(NONFINITE, [255, 0, 255]);
  for (const v of [NaN, Infinity, -Infinity]) assert.deepEqual(rgb(s, v), [255, 0, 255], String(v));
  assert.equal(s.nonfinite, 2);
  // the non-finite values stay out of the range
  assert.equal(s.hi, 2);
});

// server is the statistics a frame's header gives (docs/protocol.md):
// extremes, and percentiles of the non-zero magnitudes.
const server = (min, max, p99abs, lin) => ({ min, max, absMax: Math.max(-min, max), p99abs, lin, nonfinite: 0 });

test('an all-zero map is drawn in the zero colour of every scale; a constant one at its end', () => {
  const zero = server(0, 0, 0, 0);
  for (const mode of ['full', 'clamp', 'symlog']) {
    const seq = makeScale(zero, { diverging: false, mode, palette: 'viridis' });
    assert.equal(seq.t(0), 0, `sequential ${mode}: zero is the low end`);
    assert.deepEqual(rgb(seq, 0), [0x44, 0x01, 0x54]);
    const div = makeScale(zero, { diverging: true, mode, palette: 'blue-orange' });
    assert.equal(div.t(0), 0.5, `diverging ${mode}: zero is the middle`);
    assert.deepEqual(rgb(div, 0), [247, 247, 247]);
  }
  // non-negative data starts at 0, so 0 keeps its colour beside other data
  const relu = makeScale(server(0.25, 2, 2, 0.5), { diverging: false, mode: 'full' });
  assert.equal(relu.lo, 0);
  assert.equal(relu.t(0), 0);
  const flat = makeScale(server(3, 3, 3, 3), { diverging: false, mode: 'full' });
  assert.equal(flat.t(3), 1);
  assert.ok(Number.isNaN(flat.t(NaN)));
  const none = makeScale(stats([new Float32Array([NaN])]), { diverging: true, mode: 'symlog' });
  assert.equal(none.t(0), 0.5);
});

test('clamp at the 99th percentile of |x| > 0 (from the server) ignores an outlier', () => {
  const clamp = makeScale(server(0, 1000, 0.9, 0.1), { diverging: true, mode: 'clamp' });
  assert.equal(clamp.hi, 0.9);
  assert.equal(clamp.t(1000), 1); // saturates
  const seq = makeScale(server(0, 1000, 0.9, 0.1), { diverging: false, mode: 'clamp' });
  assert.deepEqual([seq.lo, seq.hi], [0, 0.9]);
  // without a percentile the clamp is the full range
  const full = makeScale(server(-1, 2, 0, 0), { diverging: true, mode: 'clamp' });
  assert.equal(full.hi, 2);
});

test('symlog keeps small values visible next to an outlier', () => {
  const sl = makeScale(server(0, 1000, 0.9, 0.1), { diverging: true, mode: 'symlog' });
  // linear would give 0.9 / 2000 = 0.00045 from the middle
  assert.ok(sl.t(0.9) - 0.5 > 0.05, `t(0.9) − 0.5 = ${sl.t(0.9) - 0.5}`);
  assert.equal(sl.t(0), 0.5);
  assert.equal(sl.t(-1000), 0);
  assert.equal(sl.t(1000), 1);
  assert.equal(sl.symlog.c, 0.1);
  // the linear threshold c gets ticks of its own
  assert.equal(sl.ticks.length, 5);
  assert.match(sl.describe, /symmetric log \(linear within ±0\.1\)/);
  const ticks = ticksOf(sl);
  assert.deepEqual(ticks.map((t) => t.pos), [...ticks.map((t) => t.pos)].sort((a, b) => a - b));
});

test('symlog keeps the magnitudes of a sparse gradient', () => {
  // 1% of the cells non-zero, 1e−6 … 1e−3: the server's threshold is the
  // 10th percentile of the non-zero magnitudes, 1e−6 here
  const sl = makeScale(server(-1e-3, 1e-3, 1e-3, 1e-6), { diverging: true, mode: 'symlog' });
  const mags = [1e-6, 1e-5, 1e-4, 1e-3].map((v) => sl.t(v));
  for (let i = 1; i < mags.length; i++) {
    // each decade a visible step of colour (a sign map would put all at 1)
    assert.ok(mags[i] - mags[i - 1] > 0.1, `t = ${mags}`);
  }
  assert.ok(mags[0] > 0.5 && mags[0] < 0.6, `t(1e−6) = ${mags[0]}`);
});

test('an unknown mode is linear over the full range', () => {
  const s = makeScale(stats([new Float32Array([0, 4])]), { diverging: false, mode: 'toString' });
  assert.equal(s.mode, 'full');
  assert.equal(s.t(1), 0.25);
});

test('palettes: 255 colours each; an unknown one is the default sequential one', () => {
  for (const name of PALETTE_NAMES) assert.equal(lut(name).length, 255 * 3, name);
  assert.deepEqual([...lut('viridis').slice(0, 3)], [0x44, 0x01, 0x54]);
  assert.deepEqual([...lut('viridis').slice(-3)], [0xfd, 0xe7, 0x25]);
  assert.equal(lut('no such palette'), lut('viridis'));
  assert.equal(lut('constructor'), lut('viridis'));
  const s = makeScale(stats([new Float32Array([0, 1])]), { diverging: false, mode: 'full' });
  assert.equal(s.palette, 'viridis');
  assert.deepEqual(rgb(s, 0), [0x44, 0x01, 0x54]);
});

test('stats: extremes, percentiles and non-finite values', () => {
  const st = stats([new Float32Array([3, -4, NaN, 1]), new Float32Array([Infinity, 2])]);
  assert.equal(st.min, -4);
  assert.equal(st.max, 3);
  assert.equal(st.absMax, 4);
  assert.equal(st.count, 4);
  assert.equal(st.nonfinite, 2);
  assert.equal(st.p50, 1); // sorted −4 1 2 3: index ⌈0.5·4⌉ − 1 = 1
  assert.equal(st.p99abs, 4);
  // a range [lo, hi) of each array
  const part = stats([new Float32Array([9, 1, 2, 9])], 1, 3);
  assert.deepEqual([part.min, part.max, part.count], [1, 2, 2]);
  // nothing finite: every number 0
  const none = stats([new Float32Array([NaN, -Infinity])]);
  assert.deepEqual(none, { min: 0, max: 0, absMax: 0, p99abs: 0, p50abs: 0, p50: 0, p99: 0, p01: 0, count: 0, nonfinite: 2 });
});

test('percentiles by selection equal those of a sorted copy', () => {
  const rnd = random(7);
  const scratch = newScratch();
  for (const n of [1, 2, 3, 10, 101, 1000, 6272]) {
    const a = new Float32Array(n).map((_, i) => (i % 7 === 0 ? 0 : rnd() * (i % 3 === 0 ? 1e-6 : 1)));
    const sorted = [...a].sort((x, y) => x - y);
    const q = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
    for (const st of [stats([a]), stats([a], undefined, undefined, scratch)]) {
      assert.equal(st.p99, q(0.99), `n = ${n}: p99`);
      assert.equal(st.p50, q(0.5), `n = ${n}: p50`);
      assert.equal(st.p01, q(0.01), `n = ${n}: p01`);
    }
    for (const k of [0, n >> 1, n - 1]) assert.equal(select(Float32Array.from(a), n, k), sorted[k], `n = ${n}, k = ${k}`);
  }
});

test('reused scratch buffers do not carry values from one call to the next', () => {
  const scratch = newScratch();
  const first = stats([new Float32Array(100).map((_, i) => i)], undefined, undefined, scratch);
  const second = stats([new Float32Array([5, -5])], undefined, undefined, scratch);
  assert.equal(first.p99, 98);
  assert.deepEqual(second, stats([new Float32Array([5, -5])]));
});

test("a legend's description says first what the scale was computed from, and its number", async () => {
  const { describe } = await import('../static/js/render/legend.js');
  const st = { sample: 'sample 0', dead: 0 };
  const clamp = describe(makeScale(server(-0.05, 0.04, 0.0394, 0), { diverging: true, mode: 'clamp' }), false, st);
  assert.match(clamp, /^scale from the whole tensor, sample 0 · linear, clamped at ±0\.0394, the 99th percentile of \|x\| > 0 · diverging, 0 = white$/);
  const full = describe(makeScale(server(0, 0.902, 0.9, 0), { diverging: false, mode: 'full' }), false, st);
  assert.match(full, /^scale from the whole tensor, sample 0 · linear, full range, max \|x\| = 0\.902 · sequential, 0 = darkest$/);
  const perMap = describe(makeScale(server(-1, 1, 0.9, 0.1), { diverging: true, mode: 'symlog' }), true, { sample: '', dead: 2 });
  assert.match(perMap, /^scale from each whole map's own values · symmetric log \(linear within ±0\.1\) · 2 maps all zero · diverging, 0 = white$/);
  const playing = describe(makeScale(server(-1, 1, 0.9, 0), { diverging: true, mode: 'clamp', approx: true }), false, st);
  assert.match(playing, /^≈ 8-bit while playing · scale from the whole tensor, sample 0 · /);
});
