// convexplainer.js — the backward convolution, animated: for a conv layer,
// one filter f and input channel c, step, play or scrub through the
// engine's walkthrough (walk.js has the state of a step, walkdraw.js
// draws it). dL/dW = X ⋆ δ: δ[f] slides over X[c], each position adds its
// products into the K×K cells of dL/dW[f,c]; dL/dX = rot180(W) slid over δ
// dilated by the stride and zero-padded by K−1−P: each cell of dL/dX[c]
// fills in as its sum completes. At the end the grid is the sample's
// dL/dW[f,c] (the focus view's "this sample") or dL/dX[c]; the section's
// data-result holds its numbers. Its state is app.walk (see main.js).

import { $, el, setCovered } from '../dom.js';
import { walkState, walkPlane, stepCount, clampStep, rot180, resultCells, walkChoice, stepAt } from './walk.js';
import { drawPlane, drawNumbers, scaleOf } from './walkdraw.js';
import { askWalk } from './requests.js';
import { fmt32 } from '../render/format.js';
import { activeTarget } from '../focus/parts.js';

// convLayers lists the conv layers of the network.
function convLayers(app) {
  return ((app.lab.welcome && app.lab.welcome.layers) || []).map((L, i) => ({ L, i })).filter((x) => x.L.kind === 'conv');
}

// openWalk opens the explainer on conv layer `layer` (or the layer of the
// cell the drill-down shows, the focus view's layer, the last phase's, or
// the first conv layer). On the drill-down's cell it follows that cell: its
// gradient, filter and channel, at the step that reaches it.
export function openWalk(app, layer) {
  const convs = convLayers(app);
  if (!convs.length) return;
  const isConv = (i) => convs.some((x) => x.i === i);
  const chosen = layer === undefined && !$('explain').hidden ? walkChoice(app.lab.welcome, app.explain.query) : null;
  let i = layer;
  if (!isConv(i) && chosen) i = chosen.layer;
  if (!isConv(i) && app.focus.open) i = app.focus.target;
  if (!isConv(i)) i = activeTarget(app.lab.welcome, app.lab.state && app.lab.state.done);
  if (!isConv(i)) i = app.walk.layer;
  if (!isConv(i)) i = convs[0].i;
  const w = app.walk;
  if (w.layer !== i) { w.filter = 0; w.channel = 0; }
  w.layer = i;
  w.chosen = chosen && chosen.layer === i ? chosen : null;
  if (w.chosen) {
    w.grad = chosen.grad;
    if (chosen.filter !== null) w.filter = chosen.filter;
    if (chosen.channel !== null) w.channel = chosen.channel;
  }
  if (!w.open) w.returnFocus = document.activeElement;
  w.open = true;
  $('conv-explainer').hidden = false;
  document.body.classList.add('walk-open');
  setCovered(true);
  $('focus').inert = true;
  syncPickers(app);
  request(app);
  $('walk-grad').focus();
}

// closeWalk hides the explainer.
export function closeWalk(app) {
  const w = app.walk;
  if (!w.open) return;
  pause(app);
  w.open = false;
  $('conv-explainer').hidden = true;
  document.body.classList.remove('walk-open');
  setCovered(app.focus.open);
  $('focus').inert = false;
  const back = w.returnFocus;
  w.returnFocus = null;
  if (back && back.isConnected && typeof back.focus === 'function') back.focus();
}

// syncPickers offers the layer's filters and input channels.
function syncPickers(app) {
  const w = app.walk;
  const L = app.lab.welcome.layers[w.layer];
  const [F, C] = L.params[0];
  const fill = (id, n, word, v) => {
    const s = $(id);
    if (s.options.length !== n || s.dataset.layer !== String(w.layer)) {
      s.replaceChildren(...Array.from({ length: n }, (_, k) => {
        const o = el('option', '', `${word} ${k}`);
        o.value = String(k);
        return o;
      }));
      s.dataset.layer = String(w.layer);
    }
    s.value = String(v);
  };
  fill('walk-filter', F, 'filter', w.filter);
  fill('walk-channel', C, 'channel', w.channel);
  $('walk-grad').value = w.grad;
  $('walk-title').textContent = `Backward convolution · ${L.name}`;
}

// request asks for the walkthrough of the current choice.
function request(app) {
  const w = app.walk;
  pause(app);
  w.msg = null;
  const sec = $('conv-explainer');
  delete sec.dataset.result;
  sec.dataset.state = 'asking';
  askWalk(app, w.layer, w.grad, w.filter, w.channel);
}

// showWalkStatus says where the walkthrough stands, or why it was refused.
export function showWalkStatus(app, text, code) {
  $('walk-text').textContent = text;
  if (code) $('conv-explainer').dataset.state = 'refused';
}

// setWalk takes a walkthrough reply and shows its first step.
export function setWalk(app, msg) {
  const w = app.walk;
  w.msg = msg;
  const n = stepCount(msg);
  const r = $('walk-scrub');
  r.max = String(Math.max(0, n - 1));
  w.scale = scaleOf(resultCells(msg));
  const sec = $('conv-explainer');
  sec.dataset.state = 'ready';
  sec.dataset.steps = String(n);
  sec.dataset.layer = String(msg.layer);
  sec.dataset.grad = msg.grad;
  showStep(app, w.chosen ? stepAt(msg, w.chosen.at) : 0);
}

// showStep draws step k.
export function showStep(app, k) {
  const w = app.walk;
  const m = w.msg;
  if (!m) return;
  const s = walkState(m, k);
  if (!s) { $('walk-text').textContent = 'This walkthrough has no steps.'; return; }
  w.k = s.k;
  $('walk-scrub').value = String(s.k);
  $('walk-count').textContent = `${s.k + 1} / ${s.n}`;
  const P = m.pad;
  const cap = (i, t) => { $(`walk-cap-${i}`).textContent = t; };
  // the drill-down's cell, when the explainer follows it
  const c = w.chosen;
  const atChosen = !!(c && c.at && c.at[0] === s.at[0] && c.at[1] === s.at[1]);
  const mine = atChosen ? ' — the chosen cell' : '';
  if (m.grad === 'dW') {
    drawPlane($('walk-c1'), { h: m.in_h, w: m.in_w, values: m.x, pad: P, box: { r: s.window[0], c: s.window[1], h: m.kh, w: m.kw } });
    cap(1, `X[${m.channel}] (${m.in_h}×${m.in_w}, zero-padded by ${P}): the window under δ[${m.filter},${s.at[0]},${s.at[1]}]`);
    drawPlane($('walk-c2'), { h: m.out_h, w: m.out_w, values: m.delta, mark: s.at });
    cap(2, `δ[${m.filter}] = dL/dY (${m.out_h}×${m.out_w}): this step's cell (${s.at.join(',')}) = ${fmt32(s.delta)}${mine}`);
    drawNumbers($('walk-c3'), { h: m.kh, w: m.kw, values: s.products });
    cap(3, `products X · δ[${m.filter},${s.at[0]},${s.at[1]}] of this step`);
    drawNumbers($('walk-c4'), { h: m.kh, w: m.kw, values: s.sums, scale: w.scale });
    const cell = c && c.cell ? `; the chosen cell [${c.cell.join(',')}] = ${fmt32(s.sums[c.cell[0] * m.kw + c.cell[1]])}` : '';
    cap(4, `dL/dW[${m.filter},${m.channel}] (this sample): running sums${cell}${s.done ? ' — finished' : ''}`);
  } else {
    const p = walkPlane(m);
    drawPlane($('walk-c1'), { h: p.h, w: p.w, values: p.values, kinds: p.kind, box: { r: s.origin[0], c: s.origin[1], h: m.kh, w: m.kw } });
    cap(1, `δ[${m.filter}] dilated by ${m.stride}, zero-padded by ${m.kh - 1 - P} (${p.h}×${p.w}): rot180(W) at (${s.origin.join(',')})`);
    drawNumbers($('walk-c2'), { h: m.kh, w: m.kw, values: rot180(m.w, m.kh, m.kw) });
    cap(2, `rot180(W[${m.filter},${m.channel}])`);
    drawNumbers($('walk-c3'), { h: m.kh, w: m.kw, values: s.taps });
    cap(3, `taps rot180(W) · dilated δ: filter ${m.filter}'s share ${fmt32(s.partial)}`);
    drawPlane($('walk-c4'), { h: m.in_h, w: m.in_w, values: s.filled, mark: s.at, hatched: s.uncovered, scale: w.scale });
    cap(4, `dL/dX[${m.channel}] over all filters: cell (${s.at.join(',')}) = ${fmt32(s.value)}${mine}${s.done ? ' — finished' : ''}`);
  }
  $('walk-text').textContent = s.text;
  const sec = $('conv-explainer');
  sec.dataset.step = String(s.k);
  if (s.done) {
    sec.dataset.result = JSON.stringify(resultCells(m));
    sec.dataset.state = 'done';
    $('walk-done').textContent = m.grad === 'dW'
      ? `Finished: these ${m.kh}×${m.kw} numbers are dL/dW[${m.filter},${m.channel}] of this sample — the focus view's “dL/dW · this sample”.`
      : `Finished: this grid is dL/dX[${m.channel}] of this sample, the focus view's dL/dX; hatched cells no window reaches stay 0.`;
  } else {
    sec.dataset.state = 'ready';
    $('walk-done').textContent = '';
  }
}

// pause stops playing.
function pause(app) {
  const w = app.walk;
  clearTimeout(w.timer);
  w.playing = false;
  const b = $('walk-play');
  b.textContent = '▶ Play';
  b.setAttribute('aria-pressed', 'false');
}

// play steps on at the chosen speed until the end.
function play(app) {
  const w = app.walk;
  if (!w.msg) return;
  if (w.k >= stepCount(w.msg) - 1) showStep(app, 0);
  w.playing = true;
  const b = $('walk-play');
  b.textContent = '❚❚ Pause';
  b.setAttribute('aria-pressed', 'true');
  const tick = () => {
    if (!w.playing) return;
    if (w.k >= stepCount(w.msg) - 1) { pause(app); return; }
    showStep(app, w.k + 1);
    w.timer = setTimeout(tick, 1000 / Number($('walk-speed').value || 5));
  };
  w.timer = setTimeout(tick, 1000 / Number($('walk-speed').value || 5));
}

// installWalk connects the explainer's controls.
export function installWalk(app) {
  const w = app.walk;
  const on = (id, type, fn) => $(id).addEventListener(type, fn);
  const step = (d) => () => { pause(app); if (w.msg) showStep(app, clampStep(w.msg, w.k + d)); };
  on('walk-close', 'click', () => closeWalk(app));
  // a choice of the reader's own: the explainer no longer follows a cell
  on('walk-grad', 'change', () => { w.chosen = null; w.grad = $('walk-grad').value; request(app); });
  on('walk-filter', 'change', () => { w.chosen = null; w.filter = Number($('walk-filter').value); request(app); });
  on('walk-channel', 'change', () => { w.chosen = null; w.channel = Number($('walk-channel').value); request(app); });
  on('walk-first', 'click', () => { pause(app); showStep(app, 0); });
  on('walk-back', 'click', step(-1));
  on('walk-next', 'click', step(1));
  on('walk-end', 'click', () => { pause(app); if (w.msg) showStep(app, stepCount(w.msg) - 1); });
  on('walk-play', 'click', () => (w.playing ? pause(app) : play(app)));
  on('walk-scrub', 'input', () => { pause(app); showStep(app, Number($('walk-scrub').value)); });
}
