// The lab's state and the URL that carries it (static/js/state.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  TRAINING_PARAMS, VIEW_DEFAULTS, readURL, queryString, wsURL, parseSpeed, speedChoice, divergenceText, rateText, Lab,
  CHART_POINTS, TEST_POINTS, thinPoints,
} from '../static/js/state.js';

test('readURL splits training parameters from view options', () => {
  const { params, view } = readURL('?seed=7&lr=0.01&range=map&div=puor&unknown=1&spec=&batch=8');
  assert.deepEqual(params, { seed: '7', lr: '0.01', batch: '8' }); // empty and unknown ones left out
  assert.deepEqual(view, { ...VIEW_DEFAULTS, range: 'map', div: 'puor' });
  assert.deepEqual(readURL('').view, VIEW_DEFAULTS);
});

test('the view defaults', () => {
  assert.deepEqual(VIEW_DEFAULTS, { range: 'layer', outliers: 'clamp', div: 'blue-orange', seq: 'viridis' });
});

test('queryString writes parameters in a stable order and leaves default view options out', () => {
  const params = { rate: '20', spec: 'conv(8,5) relu dense(10)', seed: '7', nothing: 'x', batch: '' };
  assert.equal(queryString(params), 'spec=conv%288%2C5%29+relu+dense%2810%29&seed=7&rate=20');
  assert.equal(queryString({ seed: '7' }, { ...VIEW_DEFAULTS, outliers: 'symlog' }), 'seed=7&outliers=symlog');
  assert.equal(queryString({}, VIEW_DEFAULTS), '');
});

test('readURL reads back what queryString writes', () => {
  const params = Object.fromEntries(TRAINING_PARAMS.map((k, i) => [k, `${k} ${i}&=?`]));
  const view = { range: 'map', outliers: 'full', div: 'puor', seq: 'gray' };
  assert.deepEqual(readURL(`?${queryString(params, view)}`), { params, view });
});

test('wsURL: the websocket of the page\'s host, with the training parameters only', () => {
  const params = { seed: '7', data: 'shapes' };
  assert.equal(wsURL({ protocol: 'http:', host: 'localhost:8080' }, '/ws', params), 'ws://localhost:8080/ws?seed=7&data=shapes');
  assert.equal(wsURL({ protocol: 'https:', host: 'lab.example' }, '/ws/room/ABC', {}), 'wss://lab.example/ws/room/ABC');
});

test('speed choices', () => {
  assert.deepEqual(parseSpeed('phase:4'), { unit: 'phase', rate: 4 });
  assert.deepEqual(parseSpeed('step:0'), { unit: 'step', rate: 0 });
  assert.deepEqual(parseSpeed('bogus'), { unit: 'phase', rate: 0 });
  assert.deepEqual(parseSpeed('step:-3'), { unit: 'step', rate: 0 });
  assert.equal(speedChoice({ unit: 'step', rate: '50' }), 'step:50');
  assert.equal(speedChoice({ unit: 'other', rate: undefined }), 'phase:0');
  assert.equal(speedChoice(parseSpeed('step:2.5')), 'step:2.5');
});

test('divergenceText: the server\'s message, once, as a sentence', () => {
  assert.equal(
    divergenceText('training diverged at step 5: the loss is NaN; the weights were not updated. Lower the learning rate and continue, or reset'),
    'Training diverged at step 5: the loss is NaN; the weights were not updated. Lower the learning rate and continue, or reset.');
  assert.equal(divergenceText('already a sentence.'), 'Already a sentence.');
  assert.equal(divergenceText('  what now?  '), 'What now?');
});

test('a welcome sets the parameters in effect and asks for a new layout', () => {
  const lab = new Lab({ seed: '1', lr: '9' }, { ...VIEW_DEFAULTS });
  lab.setFrame({ header: {} });
  lab.setWelcome({ config: { spec: 'dense(10)', seed: 42, data: 'mnist', hyper: { opt: 'adam', lr: 0.001, momentum: 0, nesterov: false, wd: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, batch: 8 } } });
  assert.deepEqual(lab.params, { spec: 'dense(10)', seed: '42', data: 'mnist', opt: 'adam', lr: '0.001', momentum: '0', nesterov: '0', wd: '0', batch: '8' });
  assert.equal(lab.frame, null);
  assert.equal(lab.dirty.layout, true);
  assert.equal(lab.dirty.state, true);
});

test('adoptHyper keeps Adam\'s constants only when they are not the defaults', () => {
  const lab = new Lab({ beta1: '0.5' }, { ...VIEW_DEFAULTS });
  lab.adoptHyper({ optimizer: 'sgd', learning_rate: 0.1, weight_decay: 0.01, batch_size: 4, nesterov: true, beta1: 0.9, beta2: 0.99, eps: 1e-8 });
  assert.deepEqual(lab.params, { opt: 'sgd', lr: '0.1', wd: '0.01', batch: '4', nesterov: '1', beta2: '0.99' });
});

test('a step counter that goes back clears the charts', () => {
  const lab = new Lab({}, { ...VIEW_DEFAULTS });
  lab.setState({ step: 5 });
  lab.addMetrics({ points: [[4, 2.3, 0.1], [5, 2.2, null]], test: [[5, 0.12]] });
  assert.deepEqual(lab.metrics, { step: [4, 5], loss: [2.3, 2.2], train: [0.1, null], testStep: [5], test: [0.12] });
  lab.addMetrics({ points: [[5, 9, 9], [6, 2.1, 0.2]] }); // step 5 again is dropped
  assert.deepEqual(lab.metrics.step, [4, 5, 6]);
  lab.setState({ step: 0, seed: 3 });
  assert.deepEqual(lab.metrics, { step: [], loss: [], train: [], testStep: [], test: [] });
  assert.equal(lab.params.seed, '3');
  lab.addMetrics({ reset: true, points: [[1, 2, 0]] });
  assert.deepEqual(lab.metrics.step, [1]);
});

test('the chart history is bounded: every other point dropped, the newest kept', () => {
  const lab = new Lab({}, VIEW_DEFAULTS);
  const total = CHART_POINTS * 3 + 7;
  for (let s = 1; s <= total; s += 100) {
    const points = [];
    for (let k = s; k < s + 100 && k <= total; k++) points.push([k, 1 / k, 0.5]);
    lab.addMetrics({ points, test: [[s, 0.9]] });
    assert.ok(lab.metrics.step.length <= CHART_POINTS, `${lab.metrics.step.length} points kept`);
    assert.ok(lab.metrics.testStep.length <= TEST_POINTS);
  }
  const m = lab.metrics;
  assert.equal(m.step[m.step.length - 1], total, 'the newest point is kept');
  assert.ok(m.step.length > CHART_POINTS / 2, `only ${m.step.length} points kept`);
  assert.equal(m.loss.length, m.step.length);
  assert.equal(m.train.length, m.step.length);
  assert.equal(m.test.length, m.testStep.length);
  for (let i = 1; i < m.step.length; i++) assert.ok(m.step[i] > m.step[i - 1], 'steps stay increasing');
  m.step.forEach((s, i) => assert.equal(m.loss[i], 1 / s, 'a loss stays with its step'));
  assert.ok(m.step[0] < total / 10, `the start of the run is kept (first step ${m.step[0]})`);
});

test('thinPoints keeps odd entries and the last', () => {
  const s = { a: [0, 1, 2, 3, 4], b: ['0', '1', '2', '3', '4'] };
  thinPoints(s, 3);
  assert.deepEqual(s, { a: [1, 3, 4], b: ['1', '3', '4'] });
  thinPoints(s, 3);
  assert.deepEqual(s.a, [1, 3, 4]);
});

test('rateText shows the rate in effect and the schedule the server sent', () => {
  const hyper = { lr: 0.002, decay: 1 };
  assert.equal(rateText({ lr_now: 0.0017333333, lr_end: 0.0001, hyper }),
    'lr 0.00173 (schedule: 0.002 → 0.0001 over 1 epoch)');
  assert.equal(rateText({ lr_now: 0.01, lr_end: 0.0005, hyper: { lr: 0.01, decay: 2.5 } }),
    'lr 0.01 (schedule: 0.01 → 0.0005 over 2.5 epochs)');
  assert.equal(rateText({ lr_now: 0.001, lr_end: 0.001, hyper: { lr: 0.001, decay: 0 } }), 'lr 0.001 (constant)');
  assert.equal(rateText(null), '');
  assert.equal(rateText({ hyper }), ''); // a server that sends no rate
});

test('adoptHyper keeps the schedule in the URL parameters', () => {
  const lab = new Lab({}, {});
  lab.adoptHyper({ opt: 'adam', lr: 0.002, decay: 1, batch: 8 });
  assert.equal(lab.params.decay, '1');
  assert.match(queryString(lab.params), /lr=0\.002&decay=1/);
});
