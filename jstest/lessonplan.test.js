import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lessonPromptDetail, LESSON_PROMPT } from '../static/js/lessonplan.js';
import { studentsWord } from '../static/js/dashboard.js';

const specs = [
  { kind: 'class' },
  { kind: 'pool_switch', layer: 2, channel: 0, row: 3, col: 3 },
];

test('lesson prompt: the spec of a button\'s index, as the lesson gives it', () => {
  assert.equal(LESSON_PROMPT, 'lesson-prompt');
  assert.deepEqual(lessonPromptDetail(specs, '1'), { index: 1, spec: specs[1] });
  assert.deepEqual(lessonPromptDetail(specs, 0), { index: 0, spec: specs[0] });
});

test('lesson prompt: no detail for an index out of range or not a number', () => {
  for (const i of ['2', '-1', 'x', '1.5', undefined]) assert.equal(lessonPromptDetail(specs, i), null, String(i));
  assert.equal(lessonPromptDetail(null, 0), null);
});

test('students word: one student, else students', () => {
  assert.equal(studentsWord(1), 'student');
  for (const n of [0, 2, 30]) assert.equal(studentsWord(n), 'students');
});
