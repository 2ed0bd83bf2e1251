import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexOf, statusText, filterGrid, compareTarget, compareStale, staleNote, followState, parseFilter } from '../static/js/timeline-state.js';

test('indexOf finds the latest kept step at or before a step', () => {
  const steps = [0, 8, 16, 20, 22, 23];
  assert.equal(indexOf(steps, 0), 0);
  assert.equal(indexOf(steps, 7), 0);
  assert.equal(indexOf(steps, 8), 1);
  assert.equal(indexOf(steps, 21), 3);
  assert.equal(indexOf(steps, 23), 5);
  assert.equal(indexOf(steps, 99), 5);
  assert.equal(indexOf(steps, -3), 0);
  assert.equal(indexOf([], 3), -1);
});

test('statusText says live or which step of history, and whose view', () => {
  const base = { steps: [0, 4, 5], live: 5, bytes: 3 << 20, budget: 32 << 20, note: '' };
  assert.match(statusText({ ...base, viewing: null, shared: false }), /^Live\. History: 3 steps kept from 0 to 5/);
  assert.match(statusText({ ...base, viewing: 4, shared: false }), /^Viewing step 4 of history \(live: step 5\)\. /);
  assert.match(statusText({ ...base, viewing: 0, shared: true }), /the teacher is showing the room this step/);
  assert.equal(statusText({ ...base, steps: [], viewing: null, shared: false, note: 'No history yet.' }), 'Live. No history yet.');
});

test('filterGrid lays the channels of a filter side by side', () => {
  const g = filterGrid([3, 5, 5]);
  assert.equal(g.w, 17);
  assert.equal(g.h, 5);
  assert.deepEqual(g.maps.map((m) => [m.x0, m.off]), [[0, 0], [6, 25], [12, 50]]);
  const d = filterGrid([1, 1, 256]);
  assert.equal(d.w, 256);
  assert.equal(d.h, 1);
});

test('a comparison follows the step looked at: another step makes it stale', () => {
  assert.equal(compareTarget({ viewing: 160, steps: [0, 100, 160] }), 160);
  assert.equal(compareTarget({ viewing: null, steps: [4, 100, 160] }), 4);
  assert.equal(compareTarget({ viewing: null, steps: [] }), 0);
  assert.equal(compareStale(null, 160), false);
  assert.equal(compareStale({ asked: 0 }, 0), false);
  assert.equal(compareStale({ asked: 0 }, 160), true);
  assert.match(staleNote(0, 160), /step 0, not step 160.*Compare/);
});

test('statusText counts one kept step in the singular', () => {
  assert.match(statusText({ steps: [0], live: 0, viewing: null, shared: false, bytes: 0, budget: 1 }), /^Live\. History: 1 step kept from 0 to 0,/);
});

test('followState: looking back, the live step and the list follow training', () => {
  const tl = { steps: [0, 25, 51], live: 51, viewing: 0, listedAt: 51 };
  assert.deepEqual(followState(tl, 101), { live: 101, relist: true });
  assert.match(statusText({ ...tl, live: followState(tl, 101).live, shared: false }), /\(live: step 101\)/);
  assert.deepEqual(followState({ ...tl, listedAt: 101, live: 101 }, 101), { live: 101, relist: false });
  // live, the list's own answers name the live step
  assert.deepEqual(followState({ ...tl, viewing: null }, 101), { live: 51, relist: true });
});

test('parseFilter: a filter of the layer, else what is wrong with it', () => {
  assert.deepEqual(parseFilter('3', 8), { filter: 3 });
  assert.deepEqual(parseFilter(' 0 ', 8), { filter: 0 });
  for (const bad of ['-1', 'abc', '', '1.5', '8', '12']) {
    const got = parseFilter(bad, 8);
    assert.equal(got.filter, undefined, bad);
    assert.match(got.error, /0 to 7/, bad);
  }
  assert.match(parseFilter('8', 8).error, /no filter 8/);
});
