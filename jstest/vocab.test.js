// The shared words (static/js/vocab.js): written in strict JSON, as the Go
// test that compares them with the server's reads them, and used by the
// modules that need them. (server/vocab_test.go checks them against Go.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { VOCAB, FRAME_MAGIC } from '../static/js/vocab.js';
import { TRAINING_PARAMS, VIEW_DEFAULTS } from '../static/js/state.js';
import { MODES, PALETTE_NAMES } from '../static/js/render/colormap.js';
import { FORMULAS } from '../static/js/render/strip.js';
import { KIND_WORDS } from '../static/js/render/views.js';

test('VOCAB is written in strict JSON', async () => {
  const src = await readFile(new URL('../static/js/vocab.js', import.meta.url), 'utf8');
  const marker = 'export const VOCAB = ';
  const start = src.indexOf('{', src.indexOf(marker));
  const end = src.indexOf('\n});', start);
  assert.ok(src.indexOf(marker) >= 0 && start >= 0 && end > start, 'vocab.js: export const VOCAB = …({ … }); not found');
  assert.deepEqual(JSON.parse(src.slice(start, end + 2)), VOCAB);
});

test('VOCAB is read-only', () => {
  assert.ok(Object.isFrozen(VOCAB));
  assert.ok(Object.isFrozen(VOCAB.view.ranges));
  assert.throws(() => VOCAB.tensorKinds.push('x'), TypeError);
});

test('the frame magic', () => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, FRAME_MAGIC, true);
  assert.equal(new TextDecoder().decode(b), VOCAB.frameMagic);
});

test('the URL parameters and view options come from VOCAB', () => {
  assert.deepEqual(TRAINING_PARAMS, VOCAB.labParams);
  assert.deepEqual(VIEW_DEFAULTS, {
    range: VOCAB.view.ranges[0], outliers: VOCAB.view.outliers[0], div: VOCAB.view.diverging[0], seq: VOCAB.view.sequential[0],
  });
});

test('every palette and outlier mode offered can be drawn and described', () => {
  assert.deepEqual([...PALETTE_NAMES].sort(), [...VOCAB.view.diverging, ...VOCAB.view.sequential].sort());
  assert.deepEqual(Object.keys(MODES).sort(), [...VOCAB.view.outliers].sort());
});

test('every layer kind has its formulas', () => {
  for (const k of VOCAB.layerKinds) assert.ok(FORMULAS[k], `FORMULAS lacks ${k}`);
  for (const k of Object.keys(FORMULAS)) assert.ok(VOCAB.layerKinds.includes(k) || k === 'input' || k === 'loss', `FORMULAS of ${k}, not a layer kind`);
});

test('the words of the tensor kinds name tensor kinds', () => {
  for (const k of Object.keys(KIND_WORDS)) assert.ok(VOCAB.tensorKinds.includes(k) || k === 'probs', `KIND_WORDS of ${k}`);
});
