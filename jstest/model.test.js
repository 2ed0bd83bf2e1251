import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelQuery, loadMessage } from '../static/js/model.js';

test('modelQuery names a lab or fork by its token, a room by its code for its owner only', () => {
  assert.equal(modelQuery('/ws', 'abc+/=', ''), 'resume=abc%2B%2F%3D');
  assert.equal(modelQuery('/ws/fork/K7P2QX', 'tok', ''), 'resume=tok');
  assert.equal(modelQuery('/ws/room/K7P2QX', '', 'owner'), 'room=K7P2QX');
  assert.equal(modelQuery('/ws/room/K7P2QX', '', 'viewer'), '');
  assert.equal(modelQuery('/ws', '', ''), '');
});

test('loadMessage shows the server\'s answer', () => {
  assert.equal(loadMessage(true, { data: 'mnist', step: 412 }), 'Model loaded: mnist, step 412.');
  assert.equal(loadMessage(false, { error: 'load model: file is truncated' }), 'load model: file is truncated');
  assert.equal(loadMessage(false, null), 'The model could not be loaded.');
});

test('sessionRequest keeps a resume token out of the address', async () => {
  const { sessionRequest } = await import('../static/js/model.js');
  assert.deepEqual(sessionRequest('/probe', '/ws', 'tok', '', 'label=3'), { url: '/probe?label=3', headers: { 'X-Bpv-Resume': 'tok' } });
  assert.deepEqual(sessionRequest('/model', '/ws/fork/K7P2QX', 'tok', ''), { url: '/model', headers: { 'X-Bpv-Resume': 'tok' } });
  assert.deepEqual(sessionRequest('/model', '/ws/room/K7P2QX', '', 'owner'), { url: '/model?room=K7P2QX', headers: {} });
  assert.equal(sessionRequest('/model', '/ws/room/K7P2QX', '', 'viewer'), null);
  assert.equal(sessionRequest('/model', '/ws', '', ''), null);
});
