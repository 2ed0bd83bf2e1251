// requests.js — the questions the page asks the session
// (docs/protocol.md: explain, walk, gradcheck, look) and their answers:
// each question remembers its id, a reply or an error with that id goes to
// the panel that asked, and a room's look opens the drill-down it names.
// Its state is app.explain and app.walk (see main.js).

import { renderExplanation, showPanelStatus } from './panel.js';
import { renderCheck, showCheckStatus } from './checkpanel.js';
import { setWalk, showWalkStatus } from './convexplainer.js';
import { sameCell } from './cellquery.js';

// LIMIT is how many terms an explanation carries at most (the largest;
// the rest come folded into one sum): enough to read, small enough to come
// and show fast. An output Y carries up to MORE_LIMIT, so that its window's
// picture has every tap, and so does a question asked again for more terms
// (q.more).
export const LIMIT = 24;
export const MORE_LIMIT = 256;

// SLOW_MS is how long an answer may take before the panel says it is asking.
const SLOW_MS = 150;

// sampleArgs are the sample fields of a question: the sample the page shows.
function sampleArgs(app) {
  const s = app.sub.sample;
  return s === 'probe' ? { sample: 0, probe: true } : { sample: Number(s) || 0, probe: false };
}

// askExplain asks how the number q ({layer, tensor, index, kind}) was
// computed; t0 is when the user asked (performance.now() time), for the
// latency the panel records.
export function askExplain(app, q, t0) {
  const e = app.explain;
  const limit = q.tensor === 'Y' || q.more ? MORE_LIMIT : LIMIT;
  const id = app.transport.send({ type: 'explain', layer: q.layer, tensor: q.tensor, index: q.index, ...sampleArgs(app), limit });
  e.pending.set(id, 'explain');
  e.query = q;
  e.id = id;
  e.t0 = t0 ?? performance.now();
  e.sentAt = performance.now();
  // an open panel keeps the last answer until the next one comes (most come
  // within a frame or two: drawing "asking…" in between would only delay
  // them); it says it is asking only if the answer is slow
  clearTimeout(e.slow);
  if (document.getElementById('explain').hidden) showPanelStatus(app, q, 'asking the engine…');
  else e.slow = setTimeout(() => { if (e.id === id) showPanelStatus(app, q, 'asking the engine…'); }, SLOW_MS);
  return id;
}

// askWalk asks for the walkthrough of conv layer `layer`: grad "dW" or
// "dX", one filter and input channel.
export function askWalk(app, layer, grad, filter, channel) {
  const id = app.transport.send({ type: 'walk', layer, grad, filter, channel, ...sampleArgs(app) });
  app.explain.pending.set(id, 'walk');
  app.walk.id = id;
  showWalkStatus(app, 'asking the engine…');
  return id;
}

// askCheck asks for a gradient check of parameter param ("W" or "b") of
// layer at index, with step h.
export function askCheck(app, layer, param, index, h) {
  const id = app.transport.send({ type: 'gradcheck', layer, param, index, h });
  app.explain.pending.set(id, 'gradcheck');
  app.explain.checkId = id;
  showCheckStatus(app, 'checking: two forward passes…');
  return id;
}

// sendLook points every page of the room at the number q (the owner's).
export function sendLook(app, q) {
  return app.transport.send({ type: 'look', layer: q.layer, tensor: q.tensor, index: q.index });
}

// KIND_OF is the frame kind a look's tensor is shown as (it picks the
// total the panel gives).
const KIND_OF = Object.freeze({ Y: 'act', dY: 'grad', dX: 'gradin', dW: 'wgrad', db: 'bgrad', updateW: 'update', updateb: 'bupdate' });

// ERROR_WORDS are what the panels say for the server's refusals.
const ERROR_WORDS = Object.freeze({
  playing: 'Pause to check: the gradient check runs while the trainer is paused.',
  rate_limited: 'Too many questions at once: wait a moment and ask again.',
});

// handleQuestion takes a reply to a question (or a look); it returns true
// if the message was one.
export function handleQuestion(app, msg) {
  const e = app.explain;
  switch (msg.type) {
    case 'explanation':
      e.pending.delete(msg.id);
      if (msg.id === e.id) {
        clearTimeout(e.slow);
        e.gotAt = performance.now();
        renderExplanation(app, msg, e.query, e.t0);
      }
      return true;
    case 'walkthrough':
      e.pending.delete(msg.id);
      if (msg.id === app.walk.id) setWalk(app, msg);
      return true;
    case 'gradcheck':
      e.pending.delete(msg.id);
      if (msg.id === e.checkId) renderCheck(app, msg);
      return true;
    case 'look': {
      const q = { layer: msg.layer, tensor: msg.tensor, index: msg.index || [], kind: KIND_OF[msg.tensor] || msg.tensor };
      if (msg.layer === -1) q.kind = msg.tensor === 'p' ? 'probs' : msg.tensor;
      // the owner's own look comes back to it: its panel shows the cell already
      if (app.room.role === 'owner' && sameCell(q, e.query) && e.id) return true;
      askExplain(app, q);
      return true;
    }
    case 'error': {
      const what = msg.id !== undefined ? e.pending.get(msg.id) : undefined;
      if (!what) return false;
      e.pending.delete(msg.id);
      const text = `${ERROR_WORDS[msg.code] || msg.message || 'The server refused the question.'}`;
      if (what === 'explain' && msg.id === e.id) {
        clearTimeout(e.slow);
        showPanelStatus(app, e.query, text, msg.code);
      }
      if (what === 'walk' && msg.id === app.walk.id) showWalkStatus(app, text, msg.code);
      if (what === 'gradcheck' && msg.id === e.checkId) showCheckStatus(app, text, msg.code);
      return true;
    }
    default:
      return false;
  }
}
