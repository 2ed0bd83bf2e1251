// controls.js — the controls above the network: run buttons, speed, seed and
// reset, data, sample, optimizer, learning rate, batch, the spec field and
// the drawing choices. They show the values in effect (the server's) and
// send commands; drawing choices stay in the page. Its state is app.pending
// (see main.js).

import { $, el, showAlert, hideAlert } from './dom.js';
import { writeURL, parseSpeed, speedChoice, rateText } from './state.js';
import { sendSubscription } from './onscreen.js';

// the most samples of a batch the sample control offers
const MAX_SAMPLE_CHOICES = 64;

function num(id) {
  const v = $(id).value.trim();
  return v === '' ? NaN : Number(v);
}

// optChoice is the optimizer control's choice for the parameters in effect.
function optChoice(app) {
  const p = app.lab.params;
  if (p.opt === 'adam') return 'adam';
  return Number(p.momentum || 0) > 0 ? 'momentum' : 'sgd';
}

// syncControls shows the values in effect (the server's), except in the
// control the user is editing.
export function syncControls(app) {
  const { lab } = app;
  const p = lab.params;
  const set = (id, v) => {
    const e = $(id);
    if (e && document.activeElement !== e && v !== undefined && v !== null) e.value = String(v);
  };
  set('lr', p.lr);
  set('decay', p.decay);
  if ($('lr-now')) $('lr-now').textContent = rateText(lab.state);
  set('batch', p.batch);
  set('seed', p.seed);
  set('data', p.data);
  set('opt', optChoice(app));
  // the spec field keeps what the user typed until a spec is applied
  if (!app.pending.spec.draft) set('spec', p.spec);
  if (p.speed) {
    const v = speedChoice({ unit: p.speed, rate: p.rate });
    const sel = $('speed');
    if (![...sel.options].some((o) => o.value === v)) {
      const o = el('option', '', `${p.rate} ${p.speed}s / s`);
      o.value = v;
      sel.append(o);
    }
    set('speed', v);
  }
  set('sample', p.sample === undefined ? '0' : p.sample);
  set('range', lab.view.range);
  set('outliers', lab.view.outliers);
  set('div-palette', lab.view.div);
  set('seq-palette', lab.view.seq);
  $('seed-shown').textContent = p.seed ?? '';
}

// syncSampleChoices offers one choice per sample of the batch, and the probe.
export function syncSampleChoices(app) {
  const p = app.lab.params;
  const s = $('sample');
  const n = Math.max(1, Math.min(MAX_SAMPLE_CHOICES, Number(p.batch) || 1));
  if (s.options.length === n + 1) return;
  const opts = [];
  for (let i = 0; i < n; i++) {
    const o = el('option', '', `sample ${i}`);
    o.value = String(i);
    opts.push(o);
  }
  const pr = el('option', '', 'probe image');
  pr.value = 'probe';
  opts.push(pr);
  s.replaceChildren(...opts);
  s.value = p.sample === undefined ? '0' : p.sample;
}

// togglePlay plays or pauses.
export function togglePlay(app) {
  hideAlert();
  const { lab } = app;
  app.transport.cmd(lab.state && lab.state.playing ? 'pause' : 'play');
}

// stepPhase runs one phase.
export function stepPhase(app) {
  hideAlert();
  app.transport.cmd('step_phase');
}

// sendSet sends a set command.
function sendSet(app, args) {
  hideAlert();
  app.transport.cmd('set', args);
}

// subscribeSample shows another sample: the subscription changes, and the
// parameters take the sample once the server acknowledges it.
function subscribeSample(app, value) {
  app.sub.sample = value;
  const id = sendSubscription(app);
  if (id) app.pending.samples.set(id, value);
}

// installControls connects the controls to the lab.
export function installControls(app) {
  const { lab, transport } = app;
  const on = (id, type, fn) => $(id).addEventListener(type, fn);
  on('play', 'click', () => togglePlay(app));
  on('step-phase', 'click', () => stepPhase(app));
  on('step-batch', 'click', () => { hideAlert(); transport.cmd('step_batch'); });
  on('step-epoch', 'click', () => { hideAlert(); transport.cmd('step_epoch'); });
  on('measure-test', 'click', () => transport.cmd('test', { max: 1000 }));
  on('reset', 'click', () => {
    hideAlert();
    const seed = num('seed');
    if (!Number.isInteger(seed)) { showAlert('The seed must be a whole number.', 'error'); return; }
    transport.cmd('reset', { seed });
  });
  // a control that shows the value in effect again (after a refused change)
  // may fire change on blur: only a different value is sent
  const changed = (id, current) => $(id).value.trim() !== '' && Number($(id).value) !== Number(current);
  on('lr', 'change', () => { if (changed('lr', lab.params.lr)) sendSet(app, { lr: num('lr') }); });
  on('decay', 'change', () => { if (changed('decay', lab.params.decay)) sendSet(app, { decay: num('decay') }); });
  on('batch', 'change', () => { if (changed('batch', lab.params.batch)) sendSet(app, { batch: num('batch') }); });
  on('opt', 'change', () => {
    const v = $('opt').value;
    if (v === optChoice(app)) return;
    if (v === 'adam') sendSet(app, { opt: 'adam' });
    else sendSet(app, { opt: 'sgd', momentum: v === 'momentum' ? 0.9 : 0, nesterov: false });
  });
  on('data', 'change', () => { if ($('data').value !== lab.params.data) sendSet(app, { data: $('data').value }); });
  on('speed', 'change', () => sendSet(app, { speed: parseSpeed($('speed').value) }));
  on('sample', 'change', () => subscribeSample(app, $('sample').value));
  on('spec', 'input', () => { app.pending.spec.draft = true; });
  on('spec-form', 'submit', (ev) => {
    ev.preventDefault();
    hideAlert();
    app.pending.spec.draft = true;
    app.pending.spec.id = transport.cmd('set', { spec: $('spec').value.trim() });
  });
  for (const [id, key] of [['range', 'range'], ['outliers', 'outliers'], ['div-palette', 'div'], ['seq-palette', 'seq']]) {
    // drawing choices: pure client side, training never notices
    on(id, 'change', () => {
      lab.view[key] = $(id).value;
      for (const v of app.layout.views) v.stale = true;
      writeURL(lab.params, lab.view);
    });
  }
  on('alert-close', 'click', hideAlert);
}
