// controls.js — the controls above the network: run buttons, speed, seed and
// reset, data, sample, the optimizer and every hyperparameter the engine
// takes (only the chosen optimizer's fields are shown), the spec field and
// the drawing choices. They show the values in effect (the server's) and
// send commands; drawing choices stay in the page. Its state is app.pending
// (see main.js).

import { $, el, showAlert, hideAlert } from './dom.js';
import { writeURL, parseSpeed, speedChoice, rateText } from './state.js';
import { sendSubscription } from './onscreen.js';
import { numberProblem, keptText } from './fieldcheck.js';

// the most samples of a batch the sample control offers
const MAX_SAMPLE_CHOICES = 64;

function num(id) {
  const v = $(id).value.trim();
  return v === '' ? NaN : Number(v);
}

// optChoice is the optimizer control's choice for the parameters in effect.
function optChoice(app) {
  return app.lab.params.opt || 'adam';
}

// HYPER_FIELDS are the hyperparameter fields: the field's id is the "set"
// argument and the key of the state's "hyper".
const HYPER_FIELDS = ['lr', 'batch', 'momentum', 'beta1', 'beta2', 'alpha', 'eps', 'wd', 'decay'];
const HYPER_CHECKS = ['nesterov', 'centered'];

// showOptimizerFields shows the fields of optimizer opt and hides the others.
function showOptimizerFields(opt) {
  for (const f of document.querySelectorAll('#hyper .field.hyper')) {
    const opts = (f.dataset.opts || '').split(' ');
    const shown = opts.includes('all') || opts.includes(opt);
    if (f.hidden === shown) f.hidden = !shown;
  }
  const hyper = $('hyper'); // none on a viewer's page
  if (hyper) hyper.dataset.opt = opt;
}

// messageKept holds, for each field with a message, the value in effect
// when it was shown: once another is in effect the message is gone.
const messageKept = new Map();

// showFieldMessage writes a message under a field ('' clears it); kept,
// if given, is the value still in effect, which the message says.
export function showFieldMessage(id, text, kept) {
  const m = $(`${id}-msg`);
  const t = text ? keptText(text, kept) : '';
  if (m && m.textContent !== t) m.textContent = t;
  if (t && kept !== undefined) messageKept.set(id, kept);
  else messageKept.delete(id);
}

// valueInEffect is the server's value of field id.
export function valueInEffect(app, id) {
  const { lab } = app;
  return lab.hyper && lab.hyper[id] !== undefined ? lab.hyper[id] : lab.params[id];
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
  const h = lab.hyper || {};
  for (const id of HYPER_FIELDS) {
    const v = h[id] !== undefined ? h[id] : p[id];
    set(id, v);
    // a message about a value no longer in effect is gone
    if (messageKept.has(id) && Number(messageKept.get(id)) !== Number(v)) showFieldMessage(id, '');
  }
  for (const id of HYPER_CHECKS) {
    const e = $(id);
    if (e && h[id] !== undefined && document.activeElement !== e) e.checked = !!h[id];
  }
  if ($('lr-now')) $('lr-now').textContent = rateText(lab.state);
  set('seed', p.seed);
  if (messageKept.has('seed') && Number(messageKept.get('seed')) !== Number(p.seed)) showFieldMessage('seed', '');
  set('data', p.data);
  set('opt', optChoice(app));
  showOptimizerFields(optChoice(app));
  // the spec field keeps what the user typed until a spec is applied
  if (!app.pending.spec.draft) set('spec', p.spec);
  if (p.speed && $('speed')) {
    const v = speedChoice({ unit: p.speed, rate: p.rate });
    const sel = $('speed');
    if (![...sel.options].some((o) => o.value === v)) {
      const o = el('option', '', `${p.rate} ${p.speed}${p.rate === 1 ? '' : 's'}/s`); // as the page's own: 5 steps/s
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
  // a room's owner may undo a reset, a new spec or data
  const undo = $('undo');
  if (undo && lab.state) {
    const n = Number(lab.state.undo) || 0;
    undo.hidden = n === 0;
    undo.textContent = n > 1 ? `↶ Undo (${n})` : '↶ Undo';
  }
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

// drives reports whether the page may step its session: a room's student
// page has no run controls (the server would refuse them), nor has a
// lesson's fork that offers no stepping.
function drives() {
  return !!$('step-phase');
}

// togglePlay plays or pauses.
export function togglePlay(app) {
  if (!$('play')) return; // a lesson's fork may offer stepping only
  hideAlert();
  const { lab } = app;
  app.transport.cmd(lab.state && lab.state.playing ? 'pause' : 'play');
}

// stepPhase runs one phase.
export function stepPhase(app) {
  if (!drives()) return;
  hideAlert();
  app.transport.cmd('step_phase');
}

// sendSet sends a set command; field, if given, is the control whose
// change it sends: a refusal is shown under it (messages.js).
function sendSet(app, args, field) {
  hideAlert();
  const id = app.transport.cmd('set', args);
  if (field && id) app.pending.fields.set(id, field);
  return id;
}

// subscribeSample shows another sample: the subscription changes, and the
// parameters take the sample once the server acknowledges it.
function subscribeSample(app, value) {
  app.sub.sample = value;
  const id = sendSubscription(app);
  if (id) app.pending.samples.set(id, value);
}

// confirmRoomChange asks a room's owner to confirm a change that starts the
// room's network again on every screen (it can be undone); elsewhere it
// asks nothing.
function confirmRoomChange(app, question) {
  if (app.room.role !== 'owner') return true;
  return window.confirm(`${question} Undo brings it back.`);
}

// installControls connects the controls to the lab.
export function installControls(app) {
  const { lab, transport } = app;
  // a student's room page has only the controls a viewer can use
  const on = (id, type, fn) => $(id)?.addEventListener(type, fn);
  on('play', 'click', () => togglePlay(app));
  on('step-phase', 'click', () => stepPhase(app));
  on('step-batch', 'click', () => { hideAlert(); transport.cmd('step_batch'); });
  on('step-epoch', 'click', () => { hideAlert(); transport.cmd('step_epoch'); });
  on('measure-test', 'click', () => transport.cmd('test', { max: 1000 }));
  on('reset', 'click', () => {
    hideAlert();
    if (!checked('seed')) return;
    const seed = num('seed');
    if (!confirmRoomChange(app, 'Reset the network on every screen of the room?')) return;
    transport.cmd('reset', { seed });
  });
  on('undo', 'click', () => { hideAlert(); transport.cmd('undo'); });
  // the room bar's actions (classroom.js: the teacher's dashboard)
  document.addEventListener('bpv:cmd', (ev) => transport.cmd(ev.detail.cmd, ev.detail.args));
  // other messages of the room bar's scripts (prompt.js: a student's answer)
  document.addEventListener('bpv:send', (ev) => { ev.detail.id = transport.send(ev.detail.msg); });
  // Start again: a new session of the lab in the address bar, not one this
  // entry's token would resume
  on('alert-restart', 'click', () => { transport.setResume(''); location.reload(); });
  // the hyperparameters apply live (from the next batch). Text that is no
  // number is not sent: the field says so and shows the value in effect
  // again; a value the server refuses gets its message under the field,
  // and the field the value in effect again. The message goes when the
  // field is typed into, its value accepted, or the value in effect typed
  // back (a control shown the value in effect again may fire change on
  // blur: only a different value is sent).
  const current = (id) => valueInEffect(app, id);
  // checked reports whether number field id reads as a number; if not, it
  // says why under the field and shows the value in effect again
  const checked = (id) => {
    const e = $(id);
    const problem = numberProblem(id, e.value, !!(e.validity && e.validity.badInput));
    if (!problem) return true;
    const kept = current(id);
    showFieldMessage(id, problem, kept);
    if (kept !== undefined && kept !== null) e.value = String(kept);
    return false;
  };
  for (const id of HYPER_FIELDS) {
    on(id, 'input', () => showFieldMessage(id, ''));
    on(id, 'change', () => {
      if (!checked(id)) return;
      if (Number($(id).value) === Number(current(id))) { showFieldMessage(id, ''); return; }
      sendSet(app, { [id]: num(id) }, id);
    });
  }
  on('seed', 'input', () => showFieldMessage('seed', ''));
  on('seed', 'change', () => checked('seed'));
  for (const id of HYPER_CHECKS) {
    on(id, 'change', () => { showFieldMessage(id, ''); sendSet(app, { [id]: $(id).checked }, id); });
  }
  on('opt', 'change', () => {
    const v = $('opt').value;
    if (v === optChoice(app)) return;
    showOptimizerFields(v);
    sendSet(app, { opt: v }, 'opt');
  });
  on('data', 'change', () => {
    if ($('data').value === lab.params.data) return;
    if (!confirmRoomChange(app, 'Change the data set on every screen of the room? The network starts again.')) { syncControls(app); return; }
    sendSet(app, { data: $('data').value });
  });
  on('speed', 'change', () => sendSet(app, { speed: parseSpeed($('speed').value) }));
  on('sample', 'change', () => subscribeSample(app, $('sample').value));
  on('spec', 'input', () => { app.pending.spec.draft = true; });
  on('spec-form', 'submit', (ev) => {
    ev.preventDefault();
    hideAlert();
    if (!confirmRoomChange(app, 'Apply this spec on every screen of the room? The network starts again.')) return;
    app.pending.spec.draft = true;
    app.pending.spec.id = transport.cmd('set', { spec: $('spec').value.trim() });
  });
  for (const [id, key] of [['range', 'range'], ['outliers', 'outliers'], ['div-palette', 'div'], ['seq-palette', 'seq']]) {
    // drawing choices: pure client side, training never notices
    on(id, 'change', () => {
      lab.view[key] = $(id).value;
      for (const v of app.layout.views) v.stale = true;
      writeURL(lab.params, lab.view);
      // each map's own range needs each map's statistics from the server
      if (key === 'range') sendSubscription(app);
    });
  }
  on('alert-close', 'click', hideAlert);
}
