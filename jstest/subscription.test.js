// The subscription the page sends for the maps on screen
// (static/js/subscription.js; docs/protocol.md, "Subscriptions").

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { wantedLayers, subscribeMessage } from '../static/js/subscription.js';

// A network as a welcome message describes it: input (1, 8, 8); layer 0
// has 16 maps (shown in rows of 4), layer 1 is a dense layer of 5.
const welcome = {
  input_shape: [1, 8, 8],
  layers: [
    { kind: 'conv', out_shape: [16, 8, 8] },
    { kind: 'dense', out_shape: [5] },
  ],
};

// stackView is a view of a stack of maps, one canvas per channel, as the
// strip lays them out; canvases are stand-ins named "layer:kind:channel".
function stackView(layer, kinds, channels, rowLen) {
  const planes = [];
  for (let c = 0; c < channels; c++) {
    planes.push({ surface: { canvas: `${layer}:${kinds[0]}:${c}` }, channel: channels > 1 ? c : undefined });
  }
  return { layer, kinds, also: [], rowLen, planes, surfaces: planes.map((p) => p.surface) };
}

// tiledView is a view drawn in one canvas of tiled maps (a panel).
function tiledView(layer, kinds, also = []) {
  const surface = { canvas: `${layer}:${kinds[0]}:tiled` };
  return { layer, kinds, also, rowLen: 1, planes: [{ surface }, { surface }], surfaces: [surface] };
}

const input = stackView(-1, ['input'], 1, 1);
const act0 = stackView(0, ['act'], 16, 4);
const grad0 = stackView(0, ['grad'], 16, 4);
const act1 = stackView(1, ['act'], 1, 1);
const filters = tiledView(0, ['weights']);
const pool = tiledView(-1, ['input'], [[0, 'switch']]);
const views = [input, act0, grad0, act1, filters, pool];

// on returns the set of canvases of some planes of views.
function on(...parts) {
  const s = new Set();
  for (const [view, channels] of parts) {
    for (const [i, p] of view.planes.entries()) if (!channels || channels.includes(i)) s.add(p.surface.canvas);
  }
  return s;
}

test('nothing on screen asks for nothing', () => {
  assert.deepEqual(wantedLayers(views, new Set(), welcome), []);
});

test('a whole stack on screen asks for all its channels', () => {
  assert.deepEqual(wantedLayers(views, on([input], [act0]), welcome), [
    { layer: -1, kinds: ['input'] },
    { layer: 0, kinds: ['act'] },
  ]);
});

test('part of a stack asks for whole grid rows', () => {
  // channels 5 and 6 are in the second row of 4: [4, 8)
  assert.deepEqual(wantedLayers(views, on([act0, [5, 6]]), welcome), [
    { layer: 0, kinds: ['act'], channels: [4, 8] },
  ]);
  // the last row: cut to the layer's channels
  assert.deepEqual(wantedLayers(views, on([act0, [13]]), welcome), [
    { layer: 0, kinds: ['act'], channels: [12, 16] },
  ]);
});

test('the kinds of a layer share one range, in the order of the protocol', () => {
  const got = wantedLayers(views, on([grad0, [1]], [act0, [9]]), welcome);
  assert.deepEqual(got, [{ layer: 0, kinds: ['act', 'grad'], channels: [0, 12] }]);
});

test('the same kind seen whole and cut is asked for whole', () => {
  const half = stackView(0, ['act'], 16, 4);
  const got = wantedLayers([act0, half], on([act0, [0]], [half]), welcome);
  assert.deepEqual(got, [{ layer: 0, kinds: ['act'] }]);
});

test('a panel asks for its tensors whole, and for what it reads besides', () => {
  const got = wantedLayers(views, on([filters], [pool], [act0, [0]]), welcome);
  assert.deepEqual(got, [
    { layer: -1, kinds: ['input'] },
    { layer: 0, kinds: ['act'], channels: [0, 4] },
    { layer: 0, kinds: ['weights', 'switch'] },
  ]);
});

test('layers in order, and channel ranges of a layer by their start', () => {
  const got = wantedLayers(views, on([act1], [act0, [15]], [input], [filters]), welcome);
  assert.deepEqual(got.map((e) => [e.layer, e.channels ? e.channels[0] : 0]), [[-1, 0], [0, 0], [0, 12], [1, 0]]);
});

test('equal screens ask for the same, whatever order the views come in', () => {
  // entries of one layer that start at the same channel keep the order of
  // the views (the layout's, which is fixed); the server sorts them
  const visible = on([act0, [2, 5]], [grad0, [6]], [filters], [input]);
  const entries = (vs) => wantedLayers(vs, visible, welcome).map((e) => JSON.stringify(e)).sort();
  assert.deepEqual(entries([...views].reverse()), entries(views));
});

test('the subscribe message of a sample and of the probe', () => {
  const layers = [{ layer: -1, kinds: ['input'] }];
  assert.deepEqual(subscribeMessage('3', layers), { type: 'subscribe', sample: 3, probe: false, layers });
  assert.deepEqual(subscribeMessage('probe', layers), { type: 'subscribe', sample: 0, probe: true, layers });
  assert.deepEqual(subscribeMessage('0', layers, true), { type: 'subscribe', sample: 0, probe: false, layers, map_stats: true });
});
