// Predict, then reveal without a DOM: the choices a question offers, the
// tally as rows with the truth marked, verdicts, and a map click turned
// into the cell of a question.
import test from 'node:test';
import assert from 'node:assert/strict';
import { cellPress, promptNumber, choices, tallyRows, verdict, countLine, cellForPrompt, parseOptions, fmt, subtitle } from '../static/js/promptview.js';

const pool = {
  kind: 'pool_switch', prompt_id: 2, status: 'open', layer: 2, layer_name: 'maxpool 1', channel: 1, row: 1, col: 0,
  window: { rows: 2, cols: 2, y0: 2, x0: 0, values: [0.5, null, -0.25, 1.5] }, phase: 'backward · maxpool 1',
};

test('a pooling window offers its cells, padding disabled', () => {
  const cs = choices(pool);
  assert.deepEqual(cs.map((c) => [c.label, c.value, !!c.disabled, c.row, c.col]),
    [['0.5', 0, false, 0, 0], ['pad', 1, true, 0, 1], ['-0.25', 2, false, 1, 0], ['1.5', 3, false, 1, 1]]);
  assert.match(subtitle(pool), /input rows 2–3, columns 0–1\. Reveal runs backward · maxpool 1\./);
});

test('the tally marks the truth and shares the answers', () => {
  const revealed = { ...pool, status: 'revealed', truth: { choice: 3, why: '' } };
  const rows = tallyRows(revealed, { answered: 4, students: 5, right: 3, counts: [1, 0, 0, 3] });
  assert.deepEqual(rows.map((r) => [r.count, r.share, r.truth]), [[1, 0.25, false], [0, 0, false], [0, 0, false], [3, 0.75, true]]);
  assert.equal(rows[3].label, 'cell (1, 1) = 1.5');
  assert.equal(countLine({ answered: 4, students: 5, right: 3 }), '4 of 5 students answered · 3 right');
  assert.equal(countLine({ answered: 4, students: 5, right: null }), '4 of 5 students answered');
  // answers of students who left count; the students are those here now
  assert.equal(countLine({ answered: 6, students: 2, right: 4 }), '6 answered (2 students here now) · 4 right');
  assert.equal(countLine({ answered: 2, students: 1, right: null }), '2 answered (1 student here now)');
});

test('a weight question tallies signs and sizes', () => {
  const m = { kind: 'weight_sign', buckets: ['a', 'b'], truth: { sign: 'down', size: 1 } };
  const rows = tallyRows(m, { answered: 2, counts: [1, 1, 0], sizes: [0, 2] });
  assert.deepEqual(rows.map((r) => [r.label, r.count, r.truth]),
    [['goes up', 1, false], ['goes down', 1, true], ['stays the same', 0, false], ['|ΔW| a', 0, false], ['|ΔW| b', 2, true]]);
});

test('a weight_sign answer half picked says what is missing', () => {
  const open = { status: 'open', kind: 'weight_sign' };
  assert.match(verdict(open, null, { sign: 'down', size: null }).text, /^Pick a size too/);
  assert.match(verdict(open, null, { sign: null, size: 2 }).text, /^Pick a direction too/);
  assert.match(verdict(open, null, { sign: null, size: null }).text, /Answer on this card/);
  // both picked and counted: counted
  assert.match(verdict(open, { pick: { sign: 'down', size: 2 } }, { sign: 'down', size: 2 }).text, /counted/);
  // another kind never asks for a size
  assert.match(verdict({ status: 'open', kind: 'choice' }, null, { sign: 'down', size: null }).text, /Answer on this card/);
});

test('verdicts', () => {
  const open = { status: 'open' };
  const done = { status: 'revealed' };
  assert.match(verdict(open, null).text, /Answer on this card/);
  assert.match(verdict(open, { pick: { choice: 1 } }).text, /counted/);
  assert.equal(verdict(done, { pick: { choice: 1 }, correct: true }).result, 'right');
  assert.equal(verdict(done, { pick: { choice: 1 }, correct: false }).result, 'wrong');
  assert.match(verdict(done, { pick: null }).text, /did not answer/);
  assert.equal(verdict(done, { pick: { choice: 0 }, correct: null }).result, '');
});

test('a click on a map points a question at a cell', () => {
  const layers = [{ kind: 'conv' }, { kind: 'relu' }, { kind: 'maxpool' }, { kind: 'conv' }, { kind: 'dense' }];
  assert.deepEqual(cellForPrompt('pool_switch', { layer: 2, tensor: 'Y', index: [3, 4, 5] }, layers), { layer: 2, channel: 3, in: 0, row: 4, col: 5 });
  assert.ok(cellForPrompt('pool_switch', { layer: 1, tensor: 'Y', index: [3, 4, 5] }, layers).error);
  assert.deepEqual(cellForPrompt('conv_reach', { layer: 2, tensor: 'Y', index: [6, 0, 0] }, layers), { layer: 3, channel: 6, in: 0, row: 0, col: 0 });
  assert.deepEqual(cellForPrompt('conv_reach', { layer: 3, tensor: 'dX', index: [2, 1, 1] }, layers), { layer: 3, channel: 2, in: 0, row: 0, col: 0 });
  assert.deepEqual(cellForPrompt('weight_sign', { layer: 0, tensor: 'dW', index: [1, 0, 2, 3] }, layers), { layer: 0, channel: 1, in: 0, row: 2, col: 3 });
  assert.deepEqual(cellForPrompt('weight_sign', { layer: 4, tensor: 'updateW', index: [7, 9] }, layers), { layer: 4, channel: 0, in: 0, row: 7, col: 9 });
  assert.ok(cellForPrompt('weight_sign', { layer: 2, tensor: 'Y', index: [0, 0, 0] }, layers).error);
});

test('options and numbers', () => {
  assert.deepEqual(parseOptions(' up \n\n down\n'), ['up', 'down']);
  assert.equal(fmt(null), 'pad');
  assert.equal(fmt(0.000012345), '1.23e-5');
  assert.equal(fmt(0.123456), '0.1235');
});

test("a lesson's question is numbered as the lesson numbers it, any other by the order asked", () => {
  assert.equal(promptNumber({ prompt_id: 1, lesson: 2, lesson_of: 5 }), 'Question 2 of 5:');
  assert.equal(promptNumber({ prompt_id: 2, lesson: 5, lesson_of: 5 }), 'Question 5 of 5:');
  assert.equal(promptNumber({ prompt_id: 3 }), 'Question 3:');
});

test('cellPress: a click without a pointerdown toggles a cell, the click ending a press does not', () => {
  const p = cellPress();
  assert.equal(p.click(3), true, 'element.click(), assistive technology');
  assert.equal(p.click(3), true, 'and again');
  p.down(3);
  assert.equal(p.click(3), false, 'the click of a mouse press that already toggled');
  assert.equal(p.click(3), true, 'the next click without a press');
  p.down(4); // a drag from 4 ends elsewhere: its click reaches no cell
  p.released();
  assert.equal(p.click(4), true, 'a later click on 4 is not taken for the end of that press');
  p.down(5);
  assert.equal(p.click(6), true, 'a press on another cell');
});
