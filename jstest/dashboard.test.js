import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_WORDS, dashboardRows, STATUS_WORDS } from '../static/js/dashboard.js';

test('dashboard rows: nickname, status, fork numbers formatted', () => {
  const rows = dashboardRows({
    students: [
      { id: 'a', nick: 'Ada', status: 'fork', fork: { step: 3, loss: 1.23456, train_acc: 0.5 } },
      { id: 'b', nick: 'student 2', status: 'watching', fork: null },
      { id: 'c', nick: 'Cy', status: 'idle', fork: { step: 0, loss: null, train_acc: null } },
    ],
  });
  assert.deepEqual(rows.map((r) => [r.nick, r.status, r.hasFork, r.step, r.loss, r.acc]), [
    ['Ada', 'fork', true, '3', '1.235', '50.0%'],
    ['student 2', 'watching', false, '', '', ''],
    ['Cy', 'idle', true, '0', '—', '—'],
  ]);
  assert.equal(STATUS_WORDS.fork, 'in their fork');
});

test('dashboard rows: no students', () => {
  assert.deepEqual(dashboardRows({ students: [] }), []);
  assert.deepEqual(dashboardRows({}), []);
});

test('dashboard rows: what each student did with the question, never what they answered', () => {
  const rows = dashboardRows({
    students: [
      { id: 'a', nick: 'Ada', status: 'watching', fork: null, answer: 'answered' },
      { id: 'b', nick: 'Bo', status: 'watching', fork: null, answer: 'none' },
      { id: 'c', nick: 'Cy', status: 'gone', fork: null, answer: 'right' },
      { id: 'd', nick: 'Di', status: 'watching', fork: null, answer: 'wrong' },
      { id: 'e', nick: 'Ed', status: 'watching', fork: null },
    ],
  });
  assert.deepEqual(rows.map((r) => [r.answerState, r.answer]), [
    ['answered', 'answered'],
    ['none', '—'],
    ['right', 'right'],
    ['wrong', 'wrong'],
    ['', ''],
  ]);
  assert.deepEqual(Object.keys(ANSWER_WORDS), ['none', 'answered', 'right', 'wrong']);
});
