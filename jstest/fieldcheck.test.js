// Number fields: text that is no number is said, not sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numberProblem, keptText } from '../static/js/fieldcheck.js';

test('text that is no number says what is wrong, naming the field', () => {
  const cases = [
    ['lr', 'abc', false, 'learning rate: type a number'],
    ['lr', '', true, 'learning rate: type a number'], // letters the browser kept out of the value
    ['lr', '1e400', false, 'learning rate: 1e400 is too large a number'],
    ['seed', 'garbage', false, 'seed: type a whole number'],
    ['seed', '2.5', false, 'seed: type a whole number'],
    ['seed', '9007199254740993', false, 'seed: at most 9,007,199,254,740,991 in magnitude (the page cannot send larger whole numbers exactly)'],
    ['wd', 'NaN', false, 'weight decay λ: type a number'],
    ['batch', '', false, 'batch size: type a whole number'],
    ['eps', 'Infinity', false, 'ε: Infinity is too large a number'],
  ];
  for (const [id, raw, bad, want] of cases) assert.equal(numberProblem(id, raw, bad), want, `${id} ${JSON.stringify(raw)}`);
});

test('a number reads as one', () => {
  for (const [id, raw] of [['lr', '0.01'], ['lr', '-1'], ['lr', ' 1e-3 '], ['seed', '42'], ['batch', '8'], ['wd', '0']]) {
    assert.equal(numberProblem(id, raw, false), '', `${id} ${JSON.stringify(raw)}`);
  }
});

test('a refusal says the value still in effect', () => {
  assert.equal(keptText('learning rate -1: want 0 < lr ≤ 10', 0.002), 'learning rate -1: want 0 < lr ≤ 10 (still 0.002)');
  assert.equal(keptText('refused', undefined), 'refused');
});
