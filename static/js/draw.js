// draw.js — the drawing loop: one requestAnimationFrame loop draws, at most
// once per animation frame and only what changed since the last one, the
// layout (after a welcome), the state (phase, counters, the flow of the
// phase), the maps of the latest frame, the sample's caption and
// probabilities, and the charts. Its state is app.draw (see main.js).

import { $, el, showAlert, hideAlert } from './dom.js';
import { writeURL, divergenceText } from './state.js';
import { build } from './render/layout.js';
import { drawView } from './render/views.js';
import { fmt32, fmtShort } from './render/format.js';
import { observeVisibility } from './onscreen.js';
import { syncControls, syncSampleChoices } from './controls.js';
import { showTooltip } from './tooltip.js';
import { rebuildFocus, followPhase } from './focus/focusview.js';
import { closeWalk } from './explain/convexplainer.js';
import { markNew, followLesson } from './lesson.js';

// the charts are redrawn at most this often, in milliseconds
const CHARTS_MS = 250;

// startDrawing starts the loop.
export function startDrawing(app) {
  const tick = (ts) => {
    drawChanges(app, ts);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// drawChanges draws what changed since the last animation frame.
function drawChanges(app, ts) {
  const { lab } = app;
  if (lab.dirty.layout && lab.welcome) {
    lab.dirty.layout = false;
    relayout(app);
  }
  if (lab.dirty.state) {
    lab.dirty.state = false;
    drawState(app);
  }
  if (lab.dirty.error) {
    lab.dirty.error = false;
    const e = lab.error;
    // the server's message says what is wrong; its code is for programs
    if (e) showAlert(e.message || `The server refused the request (${e.code || 'no reason given'}).`, e.ended ? 'ended' : 'error');
  }
  if (lab.dirty.frame) {
    lab.dirty.frame = false;
    drawFrame(app, false);
  } else if (shownViews(app).some((v) => v.visible && v.stale)) {
    drawFrame(app, false);
  }
  if (lab.dirty.metrics && ts - app.draw.chartsDrawnAt > CHARTS_MS) {
    lab.dirty.metrics = false;
    app.draw.chartsDrawnAt = ts;
    app.charts.update(lab.metrics);
    $('loss-chart').dataset.points = String(lab.metrics.step.length);
    drawChartNote(app);
  }
}

// shownViews are the views on the page: the focus view's while it is open
// (it covers the rest), else the strip's and the panels'.
function shownViews(app) {
  return app.focus.open ? app.focus.views : app.layout.views;
}

// relayout builds the maps of a new network.
function relayout(app) {
  app.layout = build($('strip'), $('panels'), app.lab.welcome);
  observeVisibility(app);
  for (const v of app.layout.views) v.stale = true;
  syncSampleChoices(app);
  syncControls(app);
  rebuildFocus(app);
  // a new network may lack the conv layer the explainer walks through
  const walked = app.walk.open && (app.lab.welcome.layers || [])[app.walk.layer];
  if (app.walk.open && !(walked && walked.kind === 'conv')) closeWalk(app);
}

// FIRST_DRAW_MS bounds, in one animation frame, the drawing of maps that
// have never had a frame (a page just opened, a new network): the first
// maps (the input, the first layers) show at once and the others follow
// frame by frame, where one long task would leave every map grey until
// all were drawn. Maps drawn before are always drawn whole.
const FIRST_DRAW_MS = 12;

// drawFrame draws the latest frame into the visible views that need it
// (every view if force). It counts a frame drawn once every view is.
function drawFrame(app, force) {
  const d = app.draw;
  const t0 = performance.now();
  const f = app.lab.frame;
  const opts = app.lab.view;
  let later = false; // views left stale for the next animation frame
  for (const v of shownViews(app)) {
    if (!v.visible && !force) continue;
    if (!force && !v.stale && v.drawn === f) continue;
    if (!force && f && !v.drawn && performance.now() - t0 > FIRST_DRAW_MS) {
      later = true; // stays stale: drawChanges draws it next frame
      continue;
    }
    drawView(v, f, opts, d.scratch);
    v.drawn = f;
    v.stale = false;
  }
  drawSample(app, f);
  if (later) return;
  if (f && d.firstDrawn) {
    // after the frame that shows them: what waited for the first maps
    const drawn = d.firstDrawn;
    d.firstDrawn = null;
    requestAnimationFrame(() => setTimeout(drawn, 0));
  }
  d.framesDrawn++;
  document.body.dataset.framesDrawn = String(d.framesDrawn);
  // the cost of drawing a frame, smoothed, for the test that measures it
  d.drawMs = d.drawMs * 0.9 + (performance.now() - t0) * 0.1;
  document.body.dataset.drawMs = d.drawMs.toFixed(2);
  // shown by visibility: the bar never changes its layout
  $('approx').dataset.shown = f && f.header.exact === false ? 'true' : 'false';
  if (app.hover) showTooltip(app, app.hover.canvas, app.hover.ev);
}

// drawSample writes the sample's caption, its class probabilities and its
// loss from the frame's header.
function drawSample(app, f) {
  const h = f && f.header;
  const name = (k) => className(app, k);
  const info = document.querySelector('.sample-info');
  if (info) {
    if (!h) info.textContent = '';
    else if (h.probe) {
      // a sample was chosen, but before the first step there is no batch:
      // the server shows the probe image meanwhile, and says so
      // (a step of history keeps the probe alone: its caption is plain)
      const chosen = document.getElementById('sample')?.value;
      const until = !h.history && chosen && chosen !== 'probe' ? ` (no batch yet: sample ${chosen} from the first phase on)` : '';
      info.textContent = `probe image${until} · label ${name(h.label)}`;
    }
    // before the first phase of a step no batch is drawn yet (only the weights exist)
    else if (h.sample < 0 || h.index < 0) info.textContent = 'no batch yet in this step — the next phase draws one';
    else info.textContent = `sample ${h.sample} of the batch · training image #${h.index} · label ${name(h.label)}`;
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
      const pred = h.prediction == null ? '—' : name(h.prediction);
      s.textContent = `label ${name(h.label)} · predicted ${pred}\nthis sample: L = ${approx}${fmt32(h.loss)}` +
        (h.batch_loss == null ? '' : `\nbatch mean: ${approx}${fmt32(h.batch_loss)}`);
    }
  }
}

// drawChartNote says where the charts start when they lack the first steps
// (a fork starts with the room's step but not its history).
function drawChartNote(app) {
  const note = $('chart-note');
  const from = app.draw.chartsFrom;
  const text = from === null ? '' : `No history before step ${from} here: the charts start after it.`;
  if (note.textContent !== text) note.textContent = text;
  note.hidden = text === '';
}

// className is the name of class k of the data set.
function className(app, k) {
  const c = app.lab.welcome && app.lab.welcome.classes;
  return c && c[k] !== undefined ? String(c[k]) : String(k);
}

// drawState shows the state: the phase, the counters, the play button, the
// flow of the phase and a divergence; it records the lab in the URL.
const FORK_SHARED = 'Your fork plays slower than its speed: the whole class shares this server, and all forks together get a fixed number of steps a second.';

function drawState(app) {
  const { lab } = app;
  const s = lab.state;
  if (!s) return;
  const done = s.done;
  const phase = done ? done.label : 'ready';
  $('phase').textContent = `${phase} · step ${s.step}`;
  $('phase').dataset.kind = done ? done.kind : 'ready';
  app.phaseLive.say(`${phase} · step ${s.step}`);
  $('next-phase').textContent = s.next ? `next: ${s.next.label}` : '';
  drawEpochProgress(s);
  // a fork slowed by the steps all forks of the server share: said once
  document.body.dataset.forkShared = s.fork_shared ? 'true' : 'false';
  if (s.fork_shared && !lab.toldShared) {
    lab.toldShared = true;
    showAlert(FORK_SHARED, 'info');
  }
  $('step-count').textContent = String(s.step);
  $('epoch').textContent = String(s.epoch ?? 0);
  drawBatchLoss(s);
  $('train-acc').textContent = s.train_acc == null ? '—' : `${(s.train_acc * 100).toFixed(1)}%`;
  $('test-acc').textContent = s.test_acc == null ? '—' : `${(s.test_acc * 100).toFixed(1)}%`;
  const play = $('play'); // none on a room's student page
  if (play) {
    // the sign and the word (a phone shows the sign only; aria-label names it)
    const [sign, word] = s.playing ? ['❚❚', ' Pause'] : ['▶', ' Play'];
    if (play.textContent !== sign + word) play.replaceChildren(sign, el('span', 'play-word', word));
    play.setAttribute('aria-pressed', s.playing ? 'true' : 'false');
    play.setAttribute('aria-label', s.playing ? 'Pause training' : 'Play training');
  }
  highlight(app, done);
  markNew(app);
  if (s.error) {
    showAlert(divergenceText(s.error), 'diverged');
  } else if ($('alert').dataset.kind === 'diverged') {
    hideAlert();
  }
  syncControls(app);
  drawChartNote(app);
  followPhase(app);
  followLesson(app);
  writeURL(lab.params, lab.view);
}

// drawBatchLoss shows the batch loss in the header: this step's once its
// loss phase has run, else the last completed step's, in muted type and
// said to be that step's (the label and the width never change).
function drawBatchLoss(s) {
  const dd = $('loss-now');
  const now = s.batch_loss != null;
  const v = now ? s.batch_loss : s.loss;
  const of = now ? "this step's batch, whose loss phase has run" : `step ${s.step}'s batch, the last completed step`;
  const text = v == null ? '—' : fmtShort(v);
  const words = v == null ? 'not computed yet' : of;
  dd.dataset.of = v == null ? 'none' : now ? 'this-step' : 'last-step';
  dd.title = `batch loss: ${words}`;
  if (dd.firstChild?.textContent !== text || dd.lastChild?.textContent !== ` (${words})`) {
    dd.replaceChildren(text, el('span', 'sr-only', ` (${words})`));
  }
}

// drawEpochProgress shows, while Step epoch runs, the part of the epoch done
// and the time left, as the server measured them.
function drawEpochProgress(s) {
  const box = $('epoch-progress');
  if (!box) return;
  const on = s.mode === 'epoch' && s.epoch_done != null;
  box.hidden = !on;
  if (!on) return;
  box.querySelector('progress').value = s.epoch_done;
  const left = s.epoch_left == null ? '' : ` · about ${s.epoch_left < 90 ? `${Math.ceil(s.epoch_left)} s` : `${Math.ceil(s.epoch_left / 60)} min`} left`;
  box.querySelector('span').textContent = `${(s.epoch_done * 100).toFixed(0)}% of the epoch${left}`;
}

// highlight marks the layer of the last phase and the direction of flow:
// forward left to right (blue), backward right to left (orange).
function highlight(app, done) {
  const { layout, lab } = app;
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
