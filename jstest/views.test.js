// Drawing a view (static/js/render/views.js) from a frame: the colour scale
// comes from the header's statistics of the whole tensor, never from the
// values received; dead and constant maps are drawn in their colour and
// marked.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { drawView, planeLen, badgeText } from '../static/js/render/views.js';

// fakeView is a view of one layer's act with a map per channel, painted
// into arrays instead of canvases.
function fakeView(channels, h, w, style = 'act') {
  const planes = [];
  const surfaces = [];
  for (let c = 0; c < channels; c++) {
    const px = new Uint8ClampedArray(h * w * 4);
    const surface = {
      px,
      paint(x0, y0, data, at, hh, ww, scale) { for (let i = 0; i < hh * ww; i++) scale.rgb(data[at + i], px, i * 4); },
      blank() { px.fill(0); },
      flush() {},
      // the accessible name drawView gives the canvas
      canvas: { attrs: {}, setAttribute(k, v) { this.attrs[k] = v; } },
    };
    surfaces.push(surface);
    const badge = { textContent: '', hidden: true, classList: { toggle() {} } };
    planes.push({ surface, x0: 0, y0: 0, offset: c * h * w, h, w, badge, channel: c });
  }
  return {
    layer: 1, kinds: ['act'], style, legend: null, maskOf: null, marks: null, planes, surfaces,
    find(f) { return f.tensors.get('1:act') || null; },
  };
}

const opts = { range: 'layer', outliers: 'clamp', div: 'blue-orange', seq: 'viridis' };
const colour = (v) => [...v.planes[0].surface.px.slice(0, 3)];

test('the scale comes from the header (whole tensor), not from the channels received', () => {
  // channels 2–3 of a tensor whose whole 99th percentile of |x| > 0 is 4:
  // a value of 2 is half way up, whatever these two channels hold
  const data = new Float32Array([2, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]);
  const frame = {
    header: { sample: 3, exact: true },
    tensors: new Map([['1:act', { kind: 'act', shape: [2, 2, 2], channels: [2, 4], data, min: 0, max: 9, nonfinite: 0, stats: { p99abs: 4, lin: 0.5 }, flat: [{ map: 1, value: 0.5 }], maps: null }]]),
  };
  const v = fakeView(4, 2, 2);
  drawView(v, frame, opts);
  const p = v.planes[2];
  assert.equal(p.at, 0);
  assert.deepEqual([p.scale.lo, p.scale.hi], [0, 4]);
  assert.equal(p.scale.t(2), 0.5);
  // channel 3 is constant: marked with its constant; channels 0–1 were not received
  assert.equal(v.planes[3].badge.textContent, 'constant 0.5');
  assert.equal(v.planes[3].badge.hidden, false);
  assert.equal(v.planes[0].at, null);
  assert.equal(v.planes[0].badge.hidden, true);
});

test('an all-zero map is drawn in the zero colour and marked dead', () => {
  for (const [style, zero] of [['act', [0x44, 0x01, 0x54]], ['signed', [247, 247, 247]]]) {
    const frame = {
      header: { sample: 0, exact: true },
      tensors: new Map([['1:act', { kind: 'act', shape: [1, 2, 2], channels: null, data: new Float32Array(4), min: 0, max: 0, nonfinite: 0, stats: { p99abs: 0, lin: 0 }, flat: [{ map: 0, value: 0 }], maps: null }]]),
    };
    const v = fakeView(1, 2, 2, style);
    drawView(v, frame, { ...opts, outliers: 'symlog' });
    assert.deepEqual(colour(v), zero, `${style}: zero's colour`);
    assert.equal(v.planes[0].badge.textContent, 'dead: no active cell');
  }
  assert.equal(badgeText('grad', 0), 'all zero: no gradient');
  assert.equal(badgeText('act', null), '');
});

test('each map its own range: from the header\'s statistics of that map', () => {
  const frame = {
    header: { sample: 0, exact: false },
    tensors: new Map([['1:act', {
      kind: 'act', shape: [2, 1, 2], channels: null, data: new Float32Array([1, 2, 10, 20]), min: 0, max: 20, nonfinite: 0,
      stats: { p99abs: 20, lin: 1 }, flat: [], maps: [{ min: 1, max: 2, p99abs: 2, lin: 1 }, { min: 10, max: 40, p99abs: 40, lin: 10 }],
    }]]),
  };
  const v = fakeView(2, 1, 2);
  drawView(v, frame, { ...opts, range: 'map', outliers: 'full' });
  assert.equal(v.planes[0].scale.hi, 2);
  assert.equal(v.planes[1].scale.hi, 40); // the map's whole range, not the 20 received
});

test('maps as the server counts them', () => {
  assert.equal(planeLen([8, 12, 12]), 144);
  assert.equal(planeLen([16, 8, 5, 5]), 25);
  assert.equal(planeLen([10, 256]), 256);
  assert.equal(planeLen([10]), 10);
});
