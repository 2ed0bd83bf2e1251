// The drill-down's formatting (static/js/explain/rows.js, geometry.js,
// cellquery.js, checkview.js): explanation messages as rows, window grids
// and the dilated plane, cells as questions, gradient checks as text.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { explanationView, orderTerms, termRow, totalOf, updateRows, cellName, questionTitle } from '../static/js/explain/rows.js';
import { windowGrids, dilatedPlane, planeOfExplanation, windowCovers, PLANE } from '../static/js/explain/geometry.js';
import { cellQuery, shapeOf, unflat, sameCell } from '../static/js/explain/cellquery.js';
import { checkView, parseH, relText } from '../static/js/explain/checkview.js';
import { fmt32 } from '../static/js/render/format.js';

const X = (c, y, x, value) => ({ name: 'X', index: [c, y, x], value });

test('terms are listed largest |product| first, ties in the engine order', () => {
  const terms = [{ product: 0.1 }, { product: -0.5 }, { product: 0 }, { product: 0.5 }, { product: -0.1 }];
  assert.deepEqual(orderTerms(terms).map((t) => t.product), [-0.5, 0.5, 0.1, -0.1, 0]);
  assert.deepEqual(orderTerms(undefined), []);
});

test('a term row writes its operands, product and flags', () => {
  const r = termRow({
    a: { name: 'dY', index: [2, 4, 4], value: 0.1 }, b: { name: 'W', index: [2, 3, 1, 0], value: -0.2 },
    product: 0.1 * -0.2, rotated: [3, 4], dilated: [5, 6],
  });
  assert.equal(r.a, 'δ[2,4,4]');
  assert.equal(r.av, '0.1');
  assert.equal(r.b, 'W[2,3,1,0]');
  assert.equal(r.bv, '-0.2');
  assert.equal(r.product, fmt32(0.1 * -0.2));
  assert.deepEqual(r.tags, ['rot180 tap (3,4)', 'dilated δ cell (5,6)']);
  const pad = termRow({ a: X(0, -1, 2, 0), b: { name: 'W', index: [0, 0, 0, 0], value: 0.3 }, product: 0, padding: true });
  assert.equal(pad.a, 'X[0,-1,2]');
  assert.equal(pad.av, '0 (pad)');
  assert.deepEqual(pad.tags, ['zero padding']);
  assert.equal(termRow({ a: { name: 'b', index: [1], value: 0.5 }, b: null, product: 0.5 }).bv, '');
  assert.deepEqual(termRow({ a: { name: 'dY', index: [0, 1, 1], value: 1 }, switch: [0, 2, 3], product: 0 }).tags,
    ['the window\'s switch is X[0,2,3]']);
});

test('the total is the value the tooltip shows for the cell clicked', () => {
  const msg = { value: 0.25, sum: 0.125, sample: 1, batch: { n: 2, shares: [0.125, 0.125], total: 0.25 } };
  assert.equal(totalOf(msg, 'wgrad'), 0.25);
  assert.equal(totalOf(msg, 'swgrad'), 0.125);
  assert.equal(totalOf({ ...msg, sample: -1, probe: true, sum: 0.5 }, 'swgrad'), 0.5);
  assert.equal(totalOf({ value: 0.3 }, 'gradin'), 0.3);
  const upd = { tensor: 'updateW', index: [0, 1], value: 0.75, sum: 0.75, update: { before: 1, after: 0.75, delta: -0.25 } };
  assert.equal(totalOf(upd, 'update'), -0.25);
  assert.equal(explanationView(upd, 'update').totalLabel, 'ΔW[0,1] = after − before');
  assert.equal(explanationView(upd, 'update').total, '-0.25');
});

test('an explanation view: title, folded rest, sum and total formatted only', () => {
  const msg = {
    type: 'explanation', id: 3, layer: 3, name: 'conv 2', tensor: 'dX', index: [0, 5, 5], sample: 0, probe: false,
    value: 0.1 + 0.2, sum: 0.30000000000000004, formula: 'dL/dX[0,5,5] = …', note: '', step: 4, done: { label: 'backward · conv 2' },
    terms: [{ a: { name: 'dY', index: [0, 5, 5], value: 1 }, b: { name: 'W', index: [0, 0, 2, 2], value: 0.1 }, product: 0.1 },
      { a: { name: 'dY', index: [1, 5, 5], value: 1 }, b: { name: 'W', index: [1, 0, 2, 2], value: 0.2 }, product: 0.2 }],
    terms_total: 5, folded: 3, folded_sum: 1e-9, lines: [], window: null, batch: null, update: null,
  };
  const v = explanationView(msg, 'gradin');
  assert.equal(v.title, 'conv 2 · dL/dX[0,5,5]');
  assert.equal(v.who, 'sample 0 of the batch · step 4 · after backward · conv 2');
  assert.deepEqual(v.terms.map((r) => r.product), ['0.2', '0.1']);
  assert.equal(v.folded, '+ 3 more terms (sum 1e-9)');
  assert.equal(v.sumText, 'Σ of the 5 terms = 0.3');
  assert.equal(v.total, fmt32(0.1 + 0.2));
  assert.equal(v.totalLabel, 'dL/dX[0,5,5]');
  const none = explanationView({ ...msg, terms: [], terms_total: 0, folded: 0, value: 0, sum: 0 }, 'gradin');
  assert.equal(none.sumText, 'no terms: nothing reaches this cell');
  assert.equal(none.folded, '');
});

test('dL/dW: the shares of the batch, this sample marked', () => {
  const msg = {
    name: 'conv 2', tensor: 'dW', index: [1, 0, 2, 2], sample: 1, value: 0.75, sum: 0.5, terms: [], terms_total: 196, folded: 0,
    batch: { n: 2, shares: [0.25, 0.5], total: 0.75 },
  };
  const v = explanationView(msg, 'swgrad');
  assert.equal(v.total, '0.5');
  assert.equal(v.totalLabel, 'this sample\'s share of dL/dW[1,0,2,2]');
  assert.deepEqual(v.batch.rows, [{ label: 'sample 0', value: '0.25', current: false }, { label: 'sample 1', value: '0.5', current: true }]);
  assert.equal(v.batch.total, '0.75');
  assert.equal(explanationView(msg, 'wgrad').total, '0.75');
});

test('the update lists the optimizer numbers that apply', () => {
  const sgd = updateRows({ optimizer: 'sgd', before: 1, after: 0.5, delta: -0.5, grad: 5, weight_decay: 0, g: 5, learning_rate: 0.1, momentum: 0, beta1: 0 });
  assert.deepEqual(sgd.map((r) => r.label), ['optimizer', 'before', 'dL/dθ (batch)', 'λ (weight decay)', 'g = dL/dθ + λ·θ', 'lr', 'after', 'Δ = after − before']);
  const adam = updateRows({ optimizer: 'adam', before: 1, after: 0.999, delta: -0.001, grad: 1, g: 1, learning_rate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 3, m_before: 0, m_after: 0.1, v_before: 0, v_after: 0.001, bias_correction1: 0.271, bias_correction2: 0.003, denom: 0.5 });
  assert.ok(adam.some((r) => r.label === 't' && r.value === '3'));
  assert.ok(adam.some((r) => r.label === '√v̂ + ε'));
  assert.equal(updateRows(null), null);
});

test('window grids place X, W and the winner by the window origin', () => {
  const msg = {
    tensor: 'Y', window: { kh: 2, kw: 2, stride: 2, pad: 1, origin: [-1, 1] },
    terms: [{ a: { name: 'b', index: [0], value: 0.1 }, b: null, product: 0.1 },
      { a: X(0, -1, 1, 0), b: { name: 'W', index: [0, 0, 0, 0], value: 2 }, product: 0, padding: true },
      { a: X(0, -1, 2, 0), b: { name: 'W', index: [0, 0, 0, 1], value: 2 }, product: 0, padding: true },
      { a: X(0, 0, 1, 0.5), b: { name: 'W', index: [0, 0, 1, 0], value: 2 }, product: 1 },
      { a: X(1, 0, 2, 0.25), b: { name: 'W', index: [0, 1, 1, 1], value: 2 }, product: 0.5, winner: true }],
  };
  const g = windowGrids(msg);
  assert.equal(g.length, 2);
  assert.equal(g[0].channel, 0);
  assert.deepEqual(g[0].cells.map((c) => c && c.pad), [true, true, false, null]);
  assert.equal(g[0].cells[2].x, '0.5');
  assert.equal(g[0].cells[2].w, '2');
  assert.equal(g[1].cells[3].winner, true);
  assert.equal(g[0].rows, '-1…0');
  assert.equal(windowGrids({ ...msg, tensor: 'dX' }), null);
});

test('the dilated plane of a stride-2 conv: padding, dilation gaps and δ cells', () => {
  // out 3×3, K 3, P 1, S 2: (3−1)·2+1 = 5 rows of δ and gaps, padded by K−1−P = 1
  const p = dilatedPlane({ plane_h: 7, plane_w: 7, kh: 3, kw: 3, pad: 1, stride: 2, out_h: 3, out_w: 3 });
  const row = (r) => Array.from(p.kind.slice(r * 7, r * 7 + 7));
  const { PAD: P, GAP: G, DELTA: D } = PLANE;
  assert.deepEqual(row(0), [P, P, P, P, P, P, P]);
  assert.deepEqual(row(1), [P, D, G, D, G, D, P]);
  assert.deepEqual(row(2), [P, G, G, G, G, G, P]);
  assert.equal(windowCovers(p, [0, 0], 3, 3), true);
  assert.equal(windowCovers(p, [2, 2], 1, 1), false); // a gap alone
  const e = planeOfExplanation({ tensor: 'dX', window: { plane_h: 7, plane_w: 7, kh: 3, kw: 3, pad: 1, stride: 2, out_h: 3, out_w: 3, origin: [0, 0] }, terms: [] });
  assert.deepEqual(e.taps, [[1, 1]]); // the window's one δ cell; the rest is padding and gaps
  assert.deepEqual(planeOfExplanation({ tensor: 'dX', window: { plane_h: 7, plane_w: 7, kh: 3, kw: 3, pad: 1, stride: 2, out_h: 3, out_w: 3, origin: [1, 1] } }).taps,
    [[1, 1], [1, 3], [3, 1], [3, 3]]);
  assert.deepEqual(e.origin, [0, 0]);
});

const welcome = {
  input_shape: [1, 28, 28], classes: ['0', '1', '2'],
  layers: [
    { kind: 'conv', name: 'conv 1', in_shape: [1, 28, 28], out_shape: [2, 28, 28], params: [[2, 1, 5, 5], [2]] },
    { kind: 'relu', name: 'relu 1', in_shape: [2, 28, 28], out_shape: [2, 28, 28], params: [] },
    { kind: 'dense', name: 'dense 1', in_shape: [2, 28, 28], out_shape: [3], params: [[3, 1568], [3]] },
  ],
};

test('a cell of a map as a question', () => {
  assert.deepEqual(unflat(37, [2, 4, 5]), [1, 3, 2]);
  assert.deepEqual(shapeOf(welcome, 0, 'gradin'), [1, 28, 28]);
  assert.deepEqual(shapeOf(welcome, 3, 'probs'), [3]);
  assert.deepEqual(cellQuery(welcome, 0, 'act', 28 * 28 + 2), { layer: 0, tensor: 'Y', index: [1, 0, 2], kind: 'act', param: '' });
  assert.deepEqual(cellQuery(welcome, 0, 'gradin', 5), { layer: 0, tensor: 'dX', index: [0, 0, 5], kind: 'gradin', param: '' });
  assert.deepEqual(cellQuery(welcome, 0, 'swgrad', 26), { layer: 0, tensor: 'dW', index: [1, 0, 0, 1], kind: 'swgrad', param: 'W' });
  assert.deepEqual(cellQuery(welcome, 0, 'weights', 0).param, 'W');
  assert.deepEqual(cellQuery(welcome, 0, 'bias', 1), { layer: 0, tensor: 'db', index: [1], kind: 'bias', param: 'b' });
  assert.deepEqual(cellQuery(welcome, 2, 'update', 1569).index, [1, 1]);
  assert.deepEqual(cellQuery(welcome, 3, 'probs', 2), { layer: -1, tensor: 'p', index: [2], kind: 'probs' });
  assert.ok(cellQuery(welcome, -1, 'input', 0).reason);
  assert.ok(cellQuery(welcome, 0, 'act', 1e6).reason);
  assert.ok(sameCell({ layer: 1, tensor: 'Y', index: [0, 1] }, { layer: 1, tensor: 'Y', index: [0, 1] }));
  assert.ok(!sameCell({ layer: 1, tensor: 'Y', index: [0, 1] }, { layer: 1, tensor: 'dY', index: [0, 1] }));
  assert.equal(cellName('updateW', [0, 1]), 'W after the update[0,1]');
});

test('a gradient check as text: both numbers, the relative error, the kinks', () => {
  const msg = {
    name: 'conv 2', param: 'W', index: [3, 1, 2, 2], h: 1e-5, weight: 0.1, loss: 2.3, loss_plus: 2.3000001, loss_minus: 2.2999999,
    numeric: 0.012345678901, backprop: 0.012345678912, rel_error: 8.9e-10, kinks: [],
  };
  const v = checkView(msg);
  assert.equal(v.title, 'conv 2 · W[3,1,2,2]');
  assert.equal(v.numeric, '0.012345678901');
  assert.equal(v.analytic, '0.012345678912');
  assert.equal(v.relError, '8.90e-10');
  assert.equal(v.verdict, 'agree');
  const k = checkView({ ...msg, rel_error: 0.03, kinks: [{ layer: 4, name: 'relu 2', what: 'ReLU mask', minus: 1, plus: 0 }] });
  assert.equal(k.verdict, 'kink');
  assert.match(k.kinks[0], /^relu 2: a ReLU mask changed within ±h .*the two may disagree here$/);
  assert.equal(checkView({ ...msg, rel_error: 0.03 }).verdict, 'disagree');
  assert.equal(relText(0), '0');
  assert.equal(parseH(' 1e-5 '), 1e-5);
  assert.equal(parseH('-1'), null);
  assert.equal(parseH('x'), null);
  assert.equal(parseH(''), null);
});

test('a question asked or refused is headed as its answer is: the layer as the page names it, then the cell', () => {
  const layers = [{ name: 'conv 1' }, { name: 'relu 1' }];
  assert.equal(questionTitle({ layer: 0, tensor: 'dY', index: [0, 12, 12] }, layers), 'conv 1 · δ[0,12,12]');
  assert.equal(questionTitle({ layer: 1, tensor: 'dX', index: [2, 3, 4] }, layers), 'relu 1 · dL/dX[2,3,4]');
  assert.equal(questionTitle({ layer: -1, tensor: 'p', index: [3] }, layers), 'loss · p[3]');
  assert.equal(questionTitle({ layer: 5, tensor: 'Y', index: [0] }, []), 'layer 5 · Y[0]');
});
