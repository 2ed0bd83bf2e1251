// What assistive technology hears: the phase announcer
// (static/js/announce.js) and a map's accessible name
// (static/js/render/maplabel.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Announcer } from '../static/js/announce.js';
import { mapLabel } from '../static/js/render/maplabel.js';

// a fake clock and timer queue
function clock() {
  const c = { t: 0, timers: [] };
  c.now = () => c.t;
  c.later = (fn, ms) => c.timers.push({ at: c.t + ms, fn });
  c.advance = (ms) => {
    c.t += ms;
    for (;;) {
      const due = c.timers.filter((x) => x.at <= c.t).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      c.timers.splice(c.timers.indexOf(due), 1);
      due.fn();
    }
  };
  return c;
}

test('Announcer: a phase a frame while playing is read at most once a second, the newest one, and the last is not lost', () => {
  const c = clock();
  const said = [];
  const a = new Announcer((text) => said.push([c.t, text]), { gapMs: 1000, now: c.now, later: c.later });
  for (let i = 0; i < 300; i++) { // 10 s at 30 phases a second
    a.say(`phase ${i}`);
    c.advance(33);
  }
  c.advance(2000);
  assert.ok(said.length >= 9 && said.length <= 11, `${said.length} announcements in 10 s`);
  for (let i = 1; i < said.length; i++) assert.ok(said[i][0] - said[i - 1][0] >= 1000, `gap ${said[i][0] - said[i - 1][0]} ms`);
  assert.equal(said[0][1], 'phase 0');
  assert.equal(said.at(-1)[1], 'phase 299');
});

test('Announcer: a paused step is read at once; the same text is not read twice', () => {
  const c = clock();
  const said = [];
  const a = new Announcer((text) => said.push(text), { now: c.now, later: c.later });
  a.say('forward · conv 1 · step 0');
  assert.deepEqual(said, ['forward · conv 1 · step 0']);
  c.advance(5000);
  a.say('forward · conv 1 · step 0');
  a.say('forward · relu 1 · step 0');
  assert.deepEqual(said, ['forward · conv 1 · step 0', 'forward · relu 1 · step 0']);
});

test('mapLabel names the layer, the tensor, the channel, the shape and the colour scale', () => {
  const scale = { lo: -0.0123, hi: 0.0123, mode: 'clamp' };
  assert.equal(mapLabel({ name: 'conv 1', word: 'δ = dL/dY', channel: 3, h: 28, w: 28, drawn: true, scale }),
    'conv 1 · δ = dL/dY · channel 3 · 28 × 28 · colour scale −0.0123 … 0.0123 (linear, clamped at the 99th percentile of |x| > 0)');
  assert.equal(mapLabel({ name: 'conv 1', word: 'W', h: 5, w: 5, tiles: { rows: 2, cols: 4 }, drawn: false, scale: null }),
    'conv 1 · W · 2 × 4 maps of 5 × 5 · not computed yet in this step');
  // a step of the history lacks what the history does not keep (ΔW …)
  assert.equal(mapLabel({ name: 'conv 1', word: 'ΔW', h: 5, w: 5, drawn: false, scale: null, history: true }),
    'conv 1 · ΔW · 5 × 5 · not kept in the history');
  assert.equal(mapLabel({ name: 'input', word: 'input image x', h: 28, w: 28, drawn: true, scale: { lo: 0, hi: 1, mode: 'full' } }),
    'input · input image x · 28 × 28 · colour scale 0 … 1 (linear, full range)');
});
