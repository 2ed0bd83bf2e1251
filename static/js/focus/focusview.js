// focusview.js — the layer focus view: one layer's X, Y, δ, dL/dX and, for
// conv and dense layers, W, dL/dW (this sample's share and the batch mean)
// and ΔW, at a legible size, over the page. It follows the phase (when
// "follow the phase" is on) or shows the layer picked; channels come a page
// at a time. While it is open the page subscribes to what it shows, exact.
// Its state is app.focus (see main.js).

import { $, el, setCovered } from '../dom.js';
import { focusParts, focusTargets, activeTarget, pageCount, pageRange } from './parts.js';
import { buildFocus } from './focusbuild.js';
import { sendSubscription } from '../onscreen.js';

// openFocus shows the focus view of target (a layer index, or the number of
// layers for the loss); without one, the layer of the last phase (or the
// one shown last, or the first).
export function openFocus(app, target) {
  const f = app.focus;
  const w = app.lab.welcome;
  if (!w) return;
  const L = (w.layers || []).length;
  let t = target;
  if (t === undefined || t === null) t = activeTarget(w, app.lab.state && app.lab.state.done);
  if (t === undefined || t === null) t = f.target ?? 0;
  t = Math.max(0, Math.min(L, t));
  const was = f.open;
  f.open = true;
  if (!was) f.returnFocus = document.activeElement;
  $('focus').hidden = false;
  document.body.classList.add('focus-open');
  setCovered(true);
  setTarget(app, t);
  if (!was) $('focus-layer').focus();
}

// closeFocus hides the focus view; the strip's subscription comes back.
export function closeFocus(app) {
  const f = app.focus;
  if (!f.open) return;
  f.open = false;
  $('focus').hidden = true;
  document.body.classList.remove('focus-open');
  setCovered(app.walk.open);
  $('focus-body').replaceChildren();
  f.views = [];
  f.index = new Map();
  f.canvases = new Set();
  for (const v of app.layout.views) v.stale = true;
  sendSubscription(app);
  const back = f.returnFocus;
  f.returnFocus = null;
  if (back && back.isConnected && typeof back.focus === 'function') back.focus();
}

// setTarget shows target t from its first pages.
function setTarget(app, t) {
  const f = app.focus;
  if (f.target !== t) {
    f.inPage = 0;
    f.outPage = 0;
  }
  f.target = t;
  rebuildFocus(app);
}

// rebuildFocus builds the view anew (a new network, another layer or page).
export function rebuildFocus(app) {
  const f = app.focus;
  const w = app.lab.welcome;
  if (!f.open || !w) return;
  const L = (w.layers || []).length;
  if (f.target > L) f.target = 0;
  syncPicker(app);
  const part = focusParts(w, f.target);
  f.part = part;
  f.inPage = Math.min(f.inPage, pageCount(part.inCount) - 1);
  f.outPage = Math.min(f.outPage, pageCount(part.outCount) - 1);
  const built = buildFocus($('focus-body'), part, f.inPage, f.outPage, w.classes || [], L - 1);
  f.views = built.views;
  f.index = built.index;
  f.canvases = built.canvases;
  $('focus-title').textContent = `Layer focus · ${part.name}`;
  $('focus').dataset.layer = String(f.target);
  syncPagers(app);
  $('focus-walk').hidden = part.kind !== 'conv';
  $('focus-loss').hidden = !part.loss;
  showPhase(app);
  sendSubscription(app);
}

// syncPicker lists the network's layers (and the loss) in the picker.
function syncPicker(app) {
  const sel = $('focus-layer');
  const ts = focusTargets(app.lab.welcome);
  const key = ts.map((t) => t.name).join('|');
  if (sel.dataset.key !== key) {
    sel.replaceChildren(...ts.map((t) => {
      const o = el('option', '', t.name);
      o.value = String(t.index);
      return o;
    }));
    sel.dataset.key = key;
  }
  sel.value = String(app.focus.target);
}

// syncPagers shows which channels are on the page, and hides a pager
// with one page.
function syncPagers(app) {
  const f = app.focus;
  const part = f.part;
  const one = (id, page, n, word) => {
    const box = $(`focus-${id}-pager`);
    box.hidden = pageCount(n) <= 1;
    const [a, b] = pageRange(page, n);
    $(`focus-${id}-range`).textContent = `${word} ${a}–${b - 1} of ${n}`;
    $(`focus-${id}-prev`).disabled = page <= 0;
    $(`focus-${id}-next`).disabled = page >= pageCount(n) - 1;
  };
  one('in', f.inPage, part.inCount, 'input channels');
  one('out', f.outPage, part.outCount, part.kind === 'dense' ? 'outputs' : part.kind === 'conv' ? 'filters' : 'channels');
}

// followPhase moves the view to the layer of the last phase, if it follows
// the phase, and shows the phase in its header.
export function followPhase(app) {
  const f = app.focus;
  const s = app.lab.state;
  if (!f.open || !s) return;
  showPhase(app);
  if (!f.follow) return;
  const t = activeTarget(app.lab.welcome, s.done);
  if (t !== null && t !== f.target) setTarget(app, t);
}

// showPhase writes the last phase in the view's header.
function showPhase(app) {
  const s = app.lab.state;
  if (!s) return;
  $('focus-phase').textContent = `${s.done ? s.done.label : 'ready'} · step ${s.step}`;
  $('focus-phase').dataset.kind = s.done ? s.done.kind : 'ready';
}

// installFocus connects the focus view's controls.
export function installFocus(app, actions) {
  const f = app.focus;
  const on = (id, type, fn) => $(id).addEventListener(type, fn);
  on('focus-close', 'click', () => closeFocus(app));
  on('focus-layer', 'change', () => {
    f.follow = false;
    $('focus-follow').checked = false;
    setTarget(app, Number($('focus-layer').value));
  });
  on('focus-follow', 'change', () => {
    f.follow = $('focus-follow').checked;
    followPhase(app);
  });
  on('focus-step', 'click', () => actions.stepPhase());
  const page = (key, d) => () => {
    const n = key === 'inPage' ? f.part.inCount : f.part.outCount;
    f[key] = Math.max(0, Math.min(pageCount(n) - 1, f[key] + d));
    rebuildFocus(app);
  };
  on('focus-in-prev', 'click', page('inPage', -1));
  on('focus-in-next', 'click', page('inPage', 1));
  on('focus-out-prev', 'click', page('outPage', -1));
  on('focus-out-next', 'click', page('outPage', 1));
  on('focus-walk', 'click', () => actions.openWalk());
  on('focus-loss-explain', 'click', () => actions.explainLoss('loss'));
  on('focus-batchloss-explain', 'click', () => actions.explainLoss('batchloss'));
  // a button per layer column of the strip (added by the layout)
  $('strip').addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button[data-focus]') : null;
    if (b) openFocus(app, Number(b.dataset.focus));
  });
}
