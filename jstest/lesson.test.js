// lesson.test.js — what each phase computed and which columns follow it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { phaseResults, followedColumns, scrollDelta } from '../static/js/lesson.js';

const L = 7; // conv relu maxpool conv relu maxpool dense

test('a forward phase computed its Y, the loss phase the loss', () => {
  assert.deepEqual(phaseResults({ kind: 'forward', layer: 3 }, L), [{ layer: 3, kind: 'act' }]);
  assert.deepEqual(phaseResults({ kind: 'loss', layer: -1 }, L), [{ layer: L, kind: 'loss' }]);
  assert.deepEqual(followedColumns({ kind: 'loss', layer: -1 }, L), [L]);
  assert.deepEqual(phaseResults(null, L), []);
  assert.deepEqual(phaseResults({ kind: 'update', layer: -1 }, L), []);
});

test('a backward phase computed dL/dX: the δ of the layer before it', () => {
  // "← backward · conv 2" (layer 3) computed the δ of maxpool 1 (layer 2)
  assert.deepEqual(phaseResults({ kind: 'backward', layer: 3 }, L), [{ layer: 2, kind: 'grad' }]);
  assert.deepEqual(followedColumns({ kind: 'backward', layer: 3 }, L), [2, 3]);
  // the last layer's backward also computed its own δ (dL/dz)
  assert.deepEqual(phaseResults({ kind: 'backward', layer: L - 1 }, L), [{ layer: L - 1, kind: 'grad' }, { layer: L - 2, kind: 'grad' }]);
  // the first layer's dL/dX is the input's: no map in the strip
  assert.deepEqual(phaseResults({ kind: 'backward', layer: 0 }, L), []);
  assert.deepEqual(followedColumns({ kind: 'backward', layer: 0 }, L), [0]);
});

test('scrollDelta scrolls only as far as needed, the start first', () => {
  assert.equal(scrollDelta(100, 200, 0, 500, 8), 0);
  assert.equal(scrollDelta(450, 600, 0, 500, 8), 108);
  assert.equal(scrollDelta(-50, 100, 0, 500, 8), -58);
  // too tall: its start goes to the top
  assert.equal(scrollDelta(300, 1000, 0, 500, 8), 292);
});
