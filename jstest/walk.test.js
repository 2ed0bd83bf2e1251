// The backward convolution's walkthrough, step by step
// (static/js/explain/walk.js), and the layer focus view's parts
// (static/js/focus/parts.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { walkState, rot180, clampStep, stepCount, resultCells, walkPlane } from '../static/js/explain/walk.js';
import { PLANE } from '../static/js/explain/geometry.js';
import { focusParts, focusTargets, activeTarget, pageRange, pageCount, PAGE } from '../static/js/focus/parts.js';

// a 3×3 input, a 2×2 filter, stride 1, no padding: a 2×2 output
const dW = {
  type: 'walkthrough', grad: 'dW', filter: 1, channel: 0, stride: 1, pad: 0, kh: 2, kw: 2, in_h: 3, in_w: 3, out_h: 2, out_w: 2,
  x: [1, 2, 3, 4, 5, 6, 7, 8, 9], delta: [1, 0, 0, 2], w: [1, 2, 3, 4],
  steps: [
    { at: [0, 0], products: [1, 2, 4, 5], sums: [1, 2, 4, 5] },
    { at: [0, 1], products: [0, 0, 0, 0], sums: [1, 2, 4, 5] },
    { at: [1, 0], products: [0, 0, 0, 0], sums: [1, 2, 4, 5] },
    { at: [1, 1], products: [10, 12, 16, 18], sums: [11, 14, 20, 23] },
  ],
  result: [11, 14, 20, 23],
};

test('dL/dW: the window under δ[f,y,x], its products and the running sums', () => {
  const s = walkState(dW, 3);
  assert.deepEqual(s.at, [1, 1]);
  assert.deepEqual(s.window, [1, 1]);
  assert.equal(s.delta, 2);
  assert.deepEqual(s.sums, [11, 14, 20, 23]);
  assert.equal(s.done, true);
  assert.match(s.text, /^step 4 of 4: δ\[1,1,1\] = 2 times the window of X\[0\] at rows 1…2, columns 1…2/);
  assert.equal(walkState(dW, 0).done, false);
  assert.equal(walkState(dW, 99).k, 3);
  assert.equal(walkState(dW, -5).k, 0);
  assert.equal(clampStep(dW, '2'), 2);
  assert.equal(stepCount(dW), 4);
  assert.deepEqual(resultCells(dW), [11, 14, 20, 23]);
  assert.equal(walkState({ steps: [] }, 0), null);
});

test('rot180 turns a filter half a turn', () => {
  assert.deepEqual(rot180([1, 2, 3, 4, 5, 6], 2, 3), [6, 5, 4, 3, 2, 1]);
});

// stride 2, K 3, P 0: a 2×2 δ dilated to 3×3 and padded by K−1−P = 2, a
// 7×7 plane. The third step's window (at 5, 5) lies on the padding only:
// its cell stays 0.
test('dL/dX: cells fill in as their sums complete; a cell no window reaches stays 0', () => {
  const w = {
    grad: 'dX', filter: 0, channel: 0, stride: 2, pad: 0, kh: 3, kw: 3, in_h: 2, in_w: 2, out_h: 2, out_w: 2,
    dilated_h: 7, dilated_w: 7, dilated: new Array(49).fill(0),
    steps: [
      { at: [0, 0], origin: [0, 0], taps: new Array(9).fill(0), partial: 0.5, value: 1.5 },
      { at: [0, 1], origin: [0, 1], taps: new Array(9).fill(0), partial: 0.25, value: 0.75 },
      { at: [1, 0], origin: [5, 5], taps: new Array(9).fill(0), partial: 0, value: 0 },
      { at: [1, 1], origin: [1, 1], taps: new Array(9).fill(0), partial: 1, value: 2 },
    ],
    result: [1.5, 0.75, 0, 2],
  };
  const p = walkPlane(w);
  assert.equal(p.kind[2 * 7 + 2], PLANE.DELTA);
  assert.equal(p.kind[2 * 7 + 3], PLANE.GAP);
  assert.equal(p.kind[0], PLANE.PAD);
  const s1 = walkState(w, 1);
  assert.deepEqual(s1.filled, [1.5, 0.75, null, null]);
  assert.equal(s1.partial, 0.25);
  const s2 = walkState(w, 2);
  assert.deepEqual(Array.from(s2.uncovered), [0, 0, 1, 0]);
  assert.match(s2.text, /no window .* stays 0/);
  assert.deepEqual(walkState(w, 3).filled, [1.5, 0.75, 0, 2]);
});

const welcome = {
  input_shape: [1, 28, 28],
  layers: [
    { kind: 'conv', name: 'conv 1', in_shape: [1, 28, 28], out_shape: [8, 28, 28], params: [[8, 1, 5, 5], [8]] },
    { kind: 'relu', name: 'relu 1', in_shape: [8, 28, 28], out_shape: [8, 28, 28], params: [] },
    { kind: 'maxpool', name: 'maxpool 1', in_shape: [8, 28, 28], out_shape: [8, 14, 14], params: [] },
    { kind: 'flatten', name: 'flatten 1', in_shape: [8, 14, 14], out_shape: [1568], params: [] },
    { kind: 'dense', name: 'dense 1', in_shape: [1568], out_shape: [10], params: [[10, 1568], [10]] },
  ],
};

test('the focus view shows X, Y, δ, dL/dX for every layer, and W, dL/dW twice and ΔW for conv and dense', () => {
  assert.deepEqual(focusTargets(welcome).map((t) => t.name), ['conv 1', 'relu 1', 'maxpool 1', 'flatten 1', 'dense 1', 'loss']);
  for (let i = 0; i < welcome.layers.length; i++) {
    const p = focusParts(welcome, i);
    assert.deepEqual(p.maps.map((m) => m.key), ['X', 'Y', 'dY', 'dX'], welcome.layers[i].name);
    const hasParams = ['conv', 'dense'].includes(welcome.layers[i].kind);
    assert.deepEqual(p.params.map((m) => m.kind), hasParams ? ['weights', 'swgrad', 'wgrad', 'update'] : []);
  }
  const c = focusParts(welcome, 0);
  assert.deepEqual(c.maps[0], { key: 'X', title: 'X (input: the input image)', layer: -1, kind: 'input', style: 'image', shape: [1, 28, 28], axis: 'in' });
  assert.equal(c.inCount, 1);
  assert.equal(c.outCount, 8);
  assert.equal(c.params[0].tile.offset(3, 0), 3 * 25);
  const d = focusParts(welcome, 4);
  assert.equal(d.maps[1].axis, 'none');
  assert.equal(d.outCount, 10);
  assert.deepEqual([d.params[0].tile.h, d.params[0].tile.w], [40, 40]);
  assert.equal(d.params[1].bias, 'sbgrad');
  const loss = focusParts(welcome, 5);
  assert.ok(loss.loss);
  assert.deepEqual(loss.maps.map((m) => [m.layer, m.kind]), [[4, 'act'], [5, 'probs'], [4, 'grad']]);
});

test('the focus view follows forward and backward phases and the loss', () => {
  assert.equal(activeTarget(welcome, { kind: 'backward', layer: 3 }), 3);
  assert.equal(activeTarget(welcome, { kind: 'forward', layer: 0 }), 0);
  assert.equal(activeTarget(welcome, { kind: 'loss', layer: -1 }), 5);
  assert.equal(activeTarget(welcome, { kind: 'update', layer: -1 }), null);
  assert.equal(activeTarget(welcome, null), null);
});

test('pages of channels', () => {
  assert.equal(PAGE, 4);
  assert.deepEqual(pageRange(0, 16), [0, 4]);
  assert.deepEqual(pageRange(3, 16), [12, 16]);
  assert.deepEqual(pageRange(9, 10), [8, 10]);
  assert.deepEqual(pageRange(0, 1), [0, 1]);
  assert.equal(pageCount(10), 3);
  assert.equal(pageCount(0), 1);
});

test('the walkthrough follows the chosen cell', async () => {
  const { walkChoice, stepAt } = await import('../static/js/explain/walk.js');
  const welcome = { layers: [{ kind: 'conv' }, { kind: 'relu' }, { kind: 'conv' }] };
  assert.deepEqual(walkChoice(welcome, { layer: 2, tensor: 'dW', index: [3, 1, 0, 2] }),
    { layer: 2, grad: 'dW', filter: 3, channel: 1, at: null, cell: [0, 2] });
  assert.deepEqual(walkChoice(welcome, { layer: 0, tensor: 'dY', index: [2, 4, 5] }),
    { layer: 0, grad: 'dW', filter: 2, channel: null, at: [4, 5], cell: null });
  assert.deepEqual(walkChoice(welcome, { layer: 0, tensor: 'dX', index: [0, 1, 1] }),
    { layer: 0, grad: 'dX', filter: null, channel: 0, at: [1, 1], cell: null });
  assert.equal(walkChoice(welcome, { layer: 1, tensor: 'Y', index: [0, 0, 0] }), null, 'not a conv layer');
  assert.equal(walkChoice(welcome, { layer: 0, tensor: 'db', index: [0] }), null, 'a bias');
  assert.equal(walkChoice(welcome, null), null);
  assert.equal(stepAt(dW, [1, 0]), 2);
  assert.equal(stepAt(dW, [5, 5]), 0, 'no such step: the first');
  assert.equal(stepAt(dW, null), 0);
});
