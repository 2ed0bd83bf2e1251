import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle, classOptions } from '../static/js/drawpad.js';

test('classOptions name each class once', () => {
  assert.deepEqual(classOptions(['0', '1']), [['0', '0'], ['1', '1']]);
  assert.deepEqual(classOptions(['T-shirt/top', 'Trouser']), [['0', '0 · T-shirt/top'], ['1', '1 · Trouser']]);
  assert.deepEqual(classOptions(undefined), []);
});

test('Throttle runs one request at a time and only the newest of those asked meanwhile', async () => {
  let now = 0;
  const runs = [];
  let release;
  const t = new Throttle(0, () => { runs.push(now); return new Promise((r) => { release = r; }); }, () => now);
  t.ask(); // runs at once
  t.ask(); t.ask(); // wait for the first, then one run
  assert.equal(runs.length, 1);
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runs.length, 2);
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runs.length, 2, 'nothing more was asked');
});

test('Throttle waits its interval between runs', async () => {
  let now = 1000;
  let runs = 0;
  const t = new Throttle(50, () => { runs++; }, () => now);
  t.ask();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runs, 1);
  t.ask(); // 0 ms after: waits for the interval
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runs, 1);
  now += 60;
  await new Promise((r) => setTimeout(r, 70));
  assert.equal(runs, 2);
});

test('hasInk: a white pad is blank, a dark pixel is ink as the server counts it', async () => {
  const { hasInk } = await import('../static/js/drawpad.js');
  const px = (...rgb) => new Uint8ClampedArray([255, 255, 255, 255, ...rgb, 255]);
  assert.equal(hasInk(px(255, 255, 255)), false);
  assert.equal(hasInk(px(240, 240, 240)), false, 'lighter than the server\'s ink threshold');
  assert.equal(hasInk(px(200, 200, 200)), true);
  assert.equal(hasInk(px(0, 0, 0)), true);
});
