// Tick labels of a legend (static/js/render/ticks.js): never overlapping,
// never outside the bar.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { layoutTicks, disjoint, GAP } from '../static/js/render/ticks.js';
import { makeScale, ticksOf } from '../static/js/render/colormap.js';

// measure: 6.5 CSS pixels a character, about an 11 px font
const measure = (s) => s.length * 6.5;

test('symlog ticks of a sparse gradient never overlap, at any bar width', () => {
  for (const [lin, max] of [[1e-6, 1e-3], [0.09, 0.1], [0.5, 1], [1e-9, 2.5e-9], [3e-3, 1.2e-2]]) {
    const sl = makeScale({ min: -max, max, absMax: max, p99abs: max, lin }, { diverging: true, mode: 'symlog' });
    const ticks = ticksOf(sl);
    assert.equal(ticks.length, 5);
    for (const width of [60, 120, 180, 256, 400]) {
      const kept = layoutTicks(ticks, width, measure);
      assert.ok(disjoint(kept), `lin ${lin}, max ${max}, width ${width}: ${JSON.stringify(kept)}`);
      for (const k of kept) assert.ok(k.left >= 0 && k.left + k.width <= width + 1e-9, `inside the bar: ${JSON.stringify(k)}`);
      // the ends are always labelled when they fit
      if (width >= 120) assert.deepEqual([kept[0].text, kept[kept.length - 1].text], [ticks[0].text, ticks[4].text]);
    }
  }
});

test('labels that fit are all kept, left to right, 0 before the thresholds', () => {
  const ticks = [{ text: '−1', pos: 0 }, { text: '−0.1', pos: 0.3 }, { text: '0', pos: 0.5 }, { text: '0.1', pos: 0.7 }, { text: '1', pos: 1 }];
  const wide = layoutTicks(ticks, 400, measure);
  assert.deepEqual(wide.map((k) => k.text), ['−1', '−0.1', '0', '0.1', '1']);
  // 0 close to a threshold: 0 wins, the threshold goes
  const close = [{ text: '−1', pos: 0 }, { text: '−1e−6', pos: 0.49 }, { text: '0', pos: 0.5 }, { text: '1e−6', pos: 0.51 }, { text: '1', pos: 1 }];
  assert.deepEqual(layoutTicks(close, 200, measure).map((k) => k.text), ['−1', '0', '1']);
  assert.ok(disjoint([{ left: 0, width: 10 }, { left: 10 + GAP, width: 5 }]));
  assert.ok(!disjoint([{ left: 0, width: 10 }, { left: 12, width: 5 }]));
});
