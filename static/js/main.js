// main.js — wires the lab: the websocket (transport.js), the latest state and
// the URL (state.js), the maps (render/*), the controls and the keyboard.
// Everything is drawn in one requestAnimationFrame loop, at most once per
// animation frame, and only what changed since the last one.

import { Transport } from './transport.js';
import { Lab, readURL, writeURL, wsURL, parseSpeed, speedChoice, divergenceText } from './state.js';
import { build } from './render/layout.js';
import { drawView, describeCell, el } from './render/views.js';
import { pixelAt } from './render/heatmap.js';
import { fmt32, fmtShort } from './render/colormap.js';
import { Charts } from './render/charts.js';

const $ = (id) => document.getElementById(id);
const config = JSON.parse($('lab-config').textContent);
// what this page shows, in the words of its messages: a room's lab, a
// student's fork of a room, or a private lab
const wsPath = config.ws || '/ws';
const pageKind = wsPath.startsWith('/ws/room/') ? 'the room' : wsPath.startsWith('/ws/fork/') ? 'your fork' : 'the lab';
const { params, view } = readURL(location.search);
const lab = new Lab(params, view);
// the order of tensor kinds in a subscription (docs/protocol.md)
const KIND_ORDER = ['input', 'act', 'grad', 'gradin', 'weights', 'bias', 'wgrad', 'bgrad', 'update', 'bupdate', 'switch'];
// a map this close to the screen (a tenth of it) counts as on screen
const NEAR = '10%';
// how long the page waits after scrolling or resizing before it changes
// its subscription
const RESUBSCRIBE_MS = 150;

let layout = { views: [], columns: new Map(), links: [] };
const charts = new Charts($('loss-chart'), $('acc-chart'));
let chartsDrawnAt = 0;
let hover = null; // {canvas, cell, ev}
// the step after which the charts start when the session came with no
// history of its earlier steps (a fork of a room); null otherwise
let chartsFrom = null;
let framesDrawn = 0;
let drawMs = 0;

// a reloaded tab (or one come back to) resumes its session from the token
// kept for the tab; a lab URL opened anew starts a new session
const navigation = performance.getEntriesByType('navigation')[0];
const resumeSession = !!navigation && (navigation.type === 'reload' || navigation.type === 'back_forward');
const transport = new Transport(wsURL(location, config.ws || '/ws', lab.params), {
  onJSON: onMessage,
  onFrame: (f) => lab.setFrame(f),
  onStatus: (text, ok) => {
    const c = $('conn');
    c.textContent = text;
    c.classList.toggle('down', !ok);
  },
}, { storeKey: `bpv.resume ${config.ws || '/ws'}`, resume: resumeSession });

function onMessage(msg) {
  switch (msg.type) {
    case 'welcome':
      lab.setWelcome(msg);
      lastSubscription = ''; // a new connection starts from the default subscription
      break;
    case 'state':
      if (chartsFrom !== null && msg.step < chartsFrom) chartsFrom = null; // reset
      lab.setState(msg);
      if (msg.hyper) lab.adoptHyper(msg.hyper);
      if (msg.speed) lab.adoptSpeed(msg.speed);
      break;
    case 'metrics':
      if (msg.reset) {
        const empty = !(msg.points && msg.points.length);
        chartsFrom = empty && lab.state && lab.state.step > 0 ? lab.state.step : null;
      }
      lab.addMetrics(msg);
      break;
    case 'error':
      // a divergence is shown from the state, which says the same
      if (msg.code !== 'diverged') lab.setError(msg);
      // a refused spec stays in its field, as typed, to be corrected
      if (msg.id !== undefined && msg.id === pendingSpec.id) pendingSpec.id = 0;
      syncControls(); // nothing changed: show the values in effect again
      break;
    case 'ack':
      if (msg.id !== undefined && msg.id === pendingSpec.id) {
        // the spec applied: the field shows the spec in effect again (the
        // welcome and state that follow carry it)
        pendingSpec.id = 0;
        pendingSpec.draft = false;
      }
      if (pendingSample.has(msg.id)) {
        lab.params.sample = pendingSample.get(msg.id);
        pendingSample.delete(msg.id);
        writeURL(lab.params, lab.view);
      }
      break;
    case 'bye':
      lab.setError({ code: 'bye', message: `The server closed ${pageKind}: ${msg.reason || 'shutting down'}.` });
      break;
    default:
      // other messages (a room's "room") are for the page's other scripts
      document.dispatchEvent(new CustomEvent('bpv:message', { detail: msg }));
  }
}

// ---- drawing ---------------------------------------------------------------

function relayout() {
  layout = build($('strip'), $('panels'), lab.welcome);
  observeVisibility();
  for (const v of layout.views) v.stale = true;
  syncSampleChoices();
  syncControls();
}

// ---- what is on screen, and the subscription that asks for it -------------

let observer = null;
const onScreen = new Set(); // canvases on (or near) the screen
function observeVisibility() {
  if (observer) observer.disconnect();
  onScreen.clear();
  const viewsOf = new Map(); // canvas → views drawn in it
  for (const v of layout.views) {
    v.visible = false;
    for (const sf of v.surfaces) {
      if (!viewsOf.has(sf.canvas)) viewsOf.set(sf.canvas, []);
      viewsOf.get(sf.canvas).push(v);
    }
  }
  observer = new IntersectionObserver((entries) => {
    const touched = new Set();
    for (const e of entries) {
      if (e.isIntersecting) onScreen.add(e.target);
      else onScreen.delete(e.target);
      for (const v of viewsOf.get(e.target) || []) touched.add(v);
    }
    for (const v of touched) {
      const was = v.visible;
      v.visible = v.surfaces.some((sf) => onScreen.has(sf.canvas));
      if (v.visible && !was) v.stale = true;
    }
    scheduleSubscription();
  }, { rootMargin: NEAR });
  for (const c of viewsOf.keys()) observer.observe(c);
}

// wantedLayers lists what the maps on screen show, in the canonical form of
// a subscription: per layer the kinds and, for stacks of maps, the range of
// channels [from, to) — whole grid rows, so that screens of about the same
// size ask for the same thing and share one encoded frame.
function wantedLayers(views, visible, welcome) {
  const channelsOf = (layer) => {
    const s = layer < 0 ? welcome.input_shape : (welcome.layers[layer] || {}).out_shape;
    return s && s.length === 3 ? s[0] : 0;
  };
  const need = new Map(); // "layer:kind" → {layer, kind, from, to} (to 0: all)
  const add = (layer, kind, from, to) => {
    const k = `${layer}:${kind}`;
    const r = need.get(k);
    if (!r) need.set(k, { layer, kind, from, to });
    else if (r.to === 0 || to === 0) { r.from = 0; r.to = 0; } else { r.from = Math.min(r.from, from); r.to = Math.max(r.to, to); }
  };
  for (const v of views) {
    const shown = v.planes.filter((p) => visible.has(p.surface.canvas));
    if (!shown.length) continue;
    const C = channelsOf(v.layer);
    let from = 0;
    let to = 0;
    if (C && shown.every((p) => p.channel !== undefined)) {
      const n = v.rowLen || 1;
      from = Math.floor(Math.min(...shown.map((p) => p.channel)) / n) * n;
      to = Math.min(C, Math.ceil((Math.max(...shown.map((p) => p.channel)) + 1) / n) * n);
      if (from === 0 && to === C) to = 0;
    }
    for (const k of v.kinds) add(v.layer, k, from, to);
    for (const [layer, kind] of v.also) add(layer, kind, 0, 0);
  }
  // the maps of a layer and their gradients sit side by side: one range for
  // all of a layer's kinds cut to what is on screen
  const hull = new Map(); // layer → [from, to]
  for (const r of need.values()) {
    if (!r.to) continue;
    const h = hull.get(r.layer);
    hull.set(r.layer, h ? [Math.min(h[0], r.from), Math.max(h[1], r.to)] : [r.from, r.to]);
  }
  for (const r of need.values()) if (r.to) [r.from, r.to] = hull.get(r.layer);
  const groups = new Map(); // "layer|from|to" → entry
  for (const r of need.values()) {
    const g = `${r.layer}|${r.from}|${r.to}`;
    if (!groups.has(g)) groups.set(g, { layer: r.layer, kinds: [], ...(r.to ? { channels: [r.from, r.to] } : {}) });
    groups.get(g).kinds.push(r.kind);
  }
  const out = [...groups.values()];
  for (const e of out) e.kinds.sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b));
  out.sort((a, b) => a.layer - b.layer || (a.channels ? a.channels[0] : 0) - (b.channels ? b.channels[0] : 0));
  return out;
}

let sample = lab.params.sample === undefined ? '0' : String(lab.params.sample); // what the page shows
let lastSubscription = '';
let subscriptionTimer = 0;
let subscriptions = 0;

function scheduleSubscription() {
  clearTimeout(subscriptionTimer);
  subscriptionTimer = setTimeout(sendSubscription, RESUBSCRIBE_MS);
}

// sendSubscription asks the server for what is on screen, if that changed;
// it returns the id of the subscribe message, or 0 if none was sent.
function sendSubscription() {
  clearTimeout(subscriptionTimer);
  if (!lab.welcome || !observer) return 0;
  const probe = sample === 'probe';
  const layers = wantedLayers(layout.views, onScreen, lab.welcome);
  const msg = { type: 'subscribe', sample: probe ? 0 : Number(sample), probe, layers };
  const text = JSON.stringify(msg);
  if (text === lastSubscription) return 0;
  lastSubscription = text;
  subscriptions++;
  // for tests and for measuring: what the page asks for
  document.body.dataset.subscription = JSON.stringify(layers);
  document.body.dataset.subscriptions = String(subscriptions);
  return transport.send(msg);
}

addEventListener('resize', scheduleSubscription);

function drawFrame(force) {
  const t0 = performance.now();
  const f = lab.frame;
  const opts = lab.view;
  for (const v of layout.views) {
    if (!v.visible && !force) continue;
    if (!force && !v.stale && v.drawn === f) continue;
    drawView(v, f, opts);
    v.drawn = f;
    v.stale = false;
  }
  drawSample(f);
  framesDrawn++;
  document.body.dataset.framesDrawn = String(framesDrawn);
  // the cost of drawing a frame, smoothed, for the test that measures it
  drawMs = drawMs * 0.9 + (performance.now() - t0) * 0.1;
  document.body.dataset.drawMs = drawMs.toFixed(2);
  $('approx').hidden = !(f && f.header.exact === false);
  if (hover) showTooltip(hover.canvas, hover.ev);
}

function drawSample(f) {
  const h = f && f.header;
  const info = document.querySelector('.sample-info');
  if (info) {
    if (!h) info.textContent = '';
    else if (h.probe) info.textContent = `probe image · label ${className(h.label)}`;
    // before the first phase of a step no batch is drawn yet (only the weights exist)
    else if (h.sample < 0 || h.index < 0) info.textContent = 'no batch yet in this step — the next phase draws one';
    else info.textContent = `sample ${h.sample} of the batch · training image #${h.index} · label ${className(h.label)}`;
  }
  const probs = h && h.probs;
  for (const row of document.querySelectorAll('.prob')) {
    const k = Number(row.dataset.cls);
    const p = probs ? probs[k] : null;
    const bar = row.querySelector('.prob-bar');
    bar.style.width = `${p == null ? 0 : Math.max(0, Math.min(1, p)) * 100}%`;
    row.querySelector('.prob-val').textContent = p == null ? '' : p.toFixed(3);
    row.classList.toggle('is-label', !!h && h.label === k);
    row.classList.toggle('is-pred', !!h && h.prediction === k && h.prediction != null);
  }
  for (const row of document.querySelectorAll('.dense-row[data-cls]')) {
    const k = Number(row.dataset.cls);
    row.classList.toggle('is-label', !!h && h.label === k);
  }
  const approx = h && h.exact === false ? '≈' : '';
  for (const s of document.querySelectorAll('.loss-sum')) {
    if (!h || h.loss == null) s.textContent = 'loss: not computed yet in this step';
    else {
      const pred = h.prediction == null ? '—' : className(h.prediction);
      s.textContent = `label ${className(h.label)} · predicted ${pred}\nthis sample: L = ${approx}${fmt32(h.loss)}` +
        (h.batch_loss == null ? '' : `\nbatch mean: ${approx}${fmt32(h.batch_loss)}`);
    }
  }
}

// drawChartNote says where the charts start when they lack the first steps
// (a fork starts with the room's step but not its history).
function drawChartNote() {
  const note = $('chart-note');
  const text = chartsFrom === null ? '' : `No history before step ${chartsFrom} here: the charts start after it.`;
  if (note.textContent !== text) note.textContent = text;
  note.hidden = text === '';
}

function className(k) {
  const c = lab.welcome && lab.welcome.classes;
  return c && c[k] !== undefined ? String(c[k]) : String(k);
}

function drawState() {
  const s = lab.state;
  if (!s) return;
  const done = s.done;
  const phase = done ? done.label : 'ready';
  $('phase').textContent = `${phase} · step ${s.step}`;
  $('phase').dataset.kind = done ? done.kind : 'ready';
  $('next-phase').textContent = s.next ? `next: ${s.next.label}` : '';
  $('step-count').textContent = String(s.step);
  $('epoch').textContent = String(s.epoch ?? 0);
  $('loss-now').textContent = s.loss == null ? '—' : fmtShort(s.loss);
  $('train-acc').textContent = s.train_acc == null ? '—' : `${(s.train_acc * 100).toFixed(1)}%`;
  $('test-acc').textContent = s.test_acc == null ? '—' : `${(s.test_acc * 100).toFixed(1)}%`;
  const play = $('play');
  play.textContent = s.playing ? '❚❚ Pause' : '▶ Play';
  play.setAttribute('aria-pressed', s.playing ? 'true' : 'false');
  play.setAttribute('aria-label', s.playing ? 'Pause training' : 'Play training');
  highlight(done);
  if (s.error) {
    showAlert(divergenceText(s.error), 'diverged');
  } else if ($('alert').dataset.kind === 'diverged') {
    hideAlert();
  }
  syncControls();
  drawChartNote();
  writeURL(lab.params, lab.view);
}

// highlight marks the layer of the last phase and the direction of flow:
// forward left to right (blue), backward right to left (orange).
function highlight(done) {
  const strip = $('strip');
  for (const c of layout.columns.values()) c.classList.remove('active', 'fwd', 'bwd', 'upd');
  for (const l of layout.links) l.classList.remove('hot');
  const kind = done ? done.kind : '';
  strip.classList.toggle('flow-bwd', kind === 'backward');
  strip.classList.toggle('flow-fwd', kind !== 'backward');
  const arrow = kind === 'backward' ? '←' : '→';
  for (const l of layout.links) l.firstChild.textContent = arrow;
  const L = lab.welcome ? (lab.welcome.layers || []).length : 0;
  let col = null;
  let link = null;
  if (kind === 'forward') { col = done.layer; link = done.layer; }
  if (kind === 'backward') { col = done.layer; link = done.layer; }
  if (kind === 'loss') { col = L; link = L; }
  if (col !== null && layout.columns.has(col)) {
    layout.columns.get(col).classList.add('active', kind === 'backward' ? 'bwd' : 'fwd');
  }
  if (link !== null && layout.links[link]) layout.links[link].classList.add('hot');
  if (kind === 'update') {
    (lab.welcome.layers || []).forEach((ly, i) => {
      if (ly.params && ly.params.length) layout.columns.get(i)?.classList.add('active', 'upd');
    });
  }
}

function showAlert(text, kind) {
  const a = $('alert');
  a.textContent = text;
  a.dataset.kind = kind;
  $('alert-box').dataset.kind = kind;
  $('alert-box').hidden = false;
}

function hideAlert() {
  const a = $('alert');
  $('alert-box').hidden = true;
  a.textContent = '';
  a.dataset.kind = '';
}

function loop(ts) {
  if (lab.dirty.layout && lab.welcome) {
    lab.dirty.layout = false;
    relayout();
  }
  if (lab.dirty.state) {
    lab.dirty.state = false;
    drawState();
  }
  if (lab.dirty.error) {
    lab.dirty.error = false;
    const e = lab.error;
    if (e) showAlert(`${e.message || 'The server refused the request.'}${e.code && e.code !== 'bye' ? ` (${e.code})` : ''}`, 'error');
  }
  if (lab.dirty.frame) {
    lab.dirty.frame = false;
    drawFrame(false);
  } else if (layout.views.some((v) => v.visible && v.stale)) {
    drawFrame(false);
  }
  if (lab.dirty.metrics && ts - chartsDrawnAt > 250) {
    lab.dirty.metrics = false;
    chartsDrawnAt = ts;
    charts.update(lab.metrics);
    $('loss-chart').dataset.points = String(lab.metrics.step.length);
    drawChartNote();
  }
  requestAnimationFrame(loop);
}

// ---- tooltip ---------------------------------------------------------------

function showTooltip(canvas, ev) {
  const tip = $('tooltip');
  const d = describeCell(canvas.id, pixelAt(canvas, ev));
  if (!d) { tip.hidden = true; return; }
  const [value, ...rest] = d.lines;
  tip.replaceChildren(el('div', 'tip-value', value), ...rest.map((t) => el('div', 'tip-line', t)));
  tip.hidden = false;
  const pad = 14;
  const r = tip.getBoundingClientRect();
  let x = ev.clientX + pad;
  let y = ev.clientY + pad;
  if (x + r.width > innerWidth - 4) x = ev.clientX - r.width - pad;
  if (y + r.height > innerHeight - 4) y = ev.clientY - r.height - pad;
  tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
}

document.addEventListener('pointermove', (ev) => {
  const t = ev.target;
  if (t instanceof HTMLCanvasElement && t.classList.contains('map')) {
    hover = { canvas: t, ev };
    showTooltip(t, ev);
  } else if (hover) {
    hover = null;
    $('tooltip').hidden = true;
  }
});

// ---- controls --------------------------------------------------------------

const pendingSample = new Map();
// the spec field: draft is true while it holds text the user typed that
// is not the spec in effect; id is the set command that applies it
const pendingSpec = { id: 0, draft: false };

function num(id) {
  const v = $(id).value.trim();
  return v === '' ? NaN : Number(v);
}

function optChoice() {
  const p = lab.params;
  if (p.opt === 'adam') return 'adam';
  return Number(p.momentum || 0) > 0 ? 'momentum' : 'sgd';
}

// syncControls shows the values in effect (the server's), except in the
// control the user is editing.
function syncControls() {
  const p = lab.params;
  const set = (id, v) => {
    const e = $(id);
    if (e && document.activeElement !== e && v !== undefined && v !== null) e.value = String(v);
  };
  set('lr', p.lr);
  set('batch', p.batch);
  set('seed', p.seed);
  set('data', p.data);
  set('opt', optChoice());
  // the spec field keeps what the user typed until a spec is applied
  if (!pendingSpec.draft) set('spec', p.spec);
  if (lab.params.speed) {
    const v = speedChoice({ unit: lab.params.speed, rate: lab.params.rate });
    const sel = $('speed');
    if (![...sel.options].some((o) => o.value === v)) {
      const o = el('option', '', `${lab.params.rate} ${lab.params.speed}s / s`);
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

function syncSampleChoices() {
  const s = $('sample');
  const n = Math.max(1, Math.min(64, Number(lab.params.batch) || 1));
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
  s.value = lab.params.sample === undefined ? '0' : lab.params.sample;
}

function set(args) {
  hideAlert();
  transport.cmd('set', args);
}

function subscribeSample(value) {
  sample = value;
  const id = sendSubscription();
  if (id) pendingSample.set(id, value);
}

function togglePlay() {
  hideAlert();
  transport.cmd(lab.state && lab.state.playing ? 'pause' : 'play');
}

function stepPhase() {
  hideAlert();
  transport.cmd('step_phase');
}

$('play').addEventListener('click', togglePlay);
$('step-phase').addEventListener('click', stepPhase);
$('step-batch').addEventListener('click', () => { hideAlert(); transport.cmd('step_batch'); });
$('step-epoch').addEventListener('click', () => { hideAlert(); transport.cmd('step_epoch'); });
$('measure-test').addEventListener('click', () => transport.cmd('test', { max: 1000 }));
$('reset').addEventListener('click', () => {
  hideAlert();
  const seed = num('seed');
  if (!Number.isInteger(seed)) { showAlert('The seed must be a whole number.', 'error'); return; }
  transport.cmd('reset', { seed });
});
// a control that shows the value in effect again (after a refused change)
// may fire change on blur: only a different value is sent
const changed = (id, current) => $(id).value.trim() !== '' && Number($(id).value) !== Number(current);
$('lr').addEventListener('change', () => { if (changed('lr', lab.params.lr)) set({ lr: num('lr') }); });
$('batch').addEventListener('change', () => { if (changed('batch', lab.params.batch)) set({ batch: num('batch') }); });
$('opt').addEventListener('change', () => {
  const v = $('opt').value;
  if (v === optChoice()) return;
  if (v === 'adam') set({ opt: 'adam' });
  else set({ opt: 'sgd', momentum: v === 'momentum' ? 0.9 : 0, nesterov: false });
});
$('data').addEventListener('change', () => { if ($('data').value !== lab.params.data) set({ data: $('data').value }); });
$('speed').addEventListener('change', () => {
  set({ speed: parseSpeed($('speed').value) });
});
$('sample').addEventListener('change', () => subscribeSample($('sample').value));
$('spec').addEventListener('input', () => { pendingSpec.draft = true; });
$('spec-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  hideAlert();
  pendingSpec.draft = true;
  pendingSpec.id = transport.cmd('set', { spec: $('spec').value.trim() });
});
for (const [id, key] of [['range', 'range'], ['outliers', 'outliers'], ['div-palette', 'div'], ['seq-palette', 'seq']]) {
  // drawing choices: pure client side, training never notices
  $(id).addEventListener('change', () => {
    lab.view[key] = $(id).value;
    for (const v of layout.views) v.stale = true;
    writeURL(lab.params, lab.view);
  });
}
$('alert-close').addEventListener('click', hideAlert);

document.addEventListener('keydown', (ev) => {
  const t = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t instanceof HTMLElement && t.closest('input, textarea, select, button, a, [contenteditable]')) return;
  if (ev.key === ' ') { ev.preventDefault(); togglePlay(); }
  if (ev.key === 'ArrowRight') { ev.preventDefault(); stepPhase(); }
});

transport.connect();
requestAnimationFrame(loop);
