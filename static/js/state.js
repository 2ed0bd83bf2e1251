// state.js — the latest state of the lab as the server reported it, the
// view options chosen by the user, and the page URL that carries both.
// Everything here but writeURL is pure and runs without a DOM.

import { VOCAB } from './vocab.js';

// TRAINING_PARAMS are the lab's URL parameters that the server understands
// (docs/protocol.md); they are passed on to /ws unchanged.
export const TRAINING_PARAMS = VOCAB.labParams;

// VIEW_DEFAULTS are the view options and their defaults: they only change
// how things are drawn and never reach the server.
export const VIEW_DEFAULTS = Object.freeze({
  range: VOCAB.view.ranges[0], // "layer": one colour scale per layer and kind; "map": one per map
  outliers: VOCAB.view.outliers[0], // "full" | "clamp" | "symlog"
  div: VOCAB.view.diverging[0], // diverging palette
  seq: VOCAB.view.sequential[0], // sequential palette
});

// readURL splits a query string into training parameters and view options.
export function readURL(search) {
  const q = new URLSearchParams(search);
  const params = {};
  for (const k of TRAINING_PARAMS) if (q.has(k) && q.get(k) !== '') params[k] = q.get(k);
  const view = { ...VIEW_DEFAULTS };
  for (const k of Object.keys(VIEW_DEFAULTS)) if (q.has(k)) view[k] = q.get(k);
  return { params, view };
}

// queryString writes parameters (and optionally view options) in a stable order.
export function queryString(params, view) {
  const q = new URLSearchParams();
  for (const k of TRAINING_PARAMS) if (params[k] !== undefined && params[k] !== '') q.set(k, String(params[k]));
  if (view) for (const k of Object.keys(VIEW_DEFAULTS)) if (view[k] !== VIEW_DEFAULTS[k]) q.set(k, view[k]);
  return q.toString();
}

// writeURL records the lab in the address bar so a reload reopens it identically.
export function writeURL(params, view) {
  const qs = queryString(params, view);
  const url = `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', url); // the entry's resume token stays
}

// wsURL is the websocket address for the given training parameters.
export function wsURL(loc, path, params) {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const qs = queryString(params);
  return `${proto}//${loc.host}${path}${qs ? `?${qs}` : ''}`;
}

// parseSpeed reads a speed choice "phase:4" into {unit, rate}.
export function parseSpeed(s) {
  const [unit, rate] = String(s).split(':');
  return { unit: unit === 'step' ? 'step' : 'phase', rate: Math.max(0, Number(rate) || 0) };
}

// speedChoice writes {unit, rate} as a speed choice "unit:rate".
export function speedChoice(sp) {
  return `${sp.unit === 'step' ? 'step' : 'phase'}:${Number(sp.rate) || 0}`;
}

// divergenceText is the banner for state.error: the server's message (it
// says where training diverged and what to do), once, as a sentence.
export function divergenceText(error) {
  const e = String(error).trim();
  return `${e.charAt(0).toUpperCase()}${e.slice(1)}${/[.!?]$/.test(e) ? '' : '.'}`;
}

// CHART_POINTS bounds the training points the page keeps for its charts
// (the server keeps 20000 and sends them to a new page); TEST_POINTS the
// test accuracies. Past the bound, every other point is dropped, the newest
// kept, as the server does: a page open for hours keeps a bounded history
// of the whole run.
export const CHART_POINTS = 20000;
export const TEST_POINTS = 2000;

// thinPoints drops every other entry of the parallel arrays of series
// (keeping the newest) until their length is at most max. It changes them
// in place.
export function thinPoints(series, max) {
  const arrays = Object.values(series);
  while (arrays[0].length > max) {
    const n = arrays[0].length;
    for (const a of arrays) {
      let k = 0;
      for (let i = 0; i < n; i++) if (i % 2 === 1 || i === n - 1) a[k++] = a[i];
      a.length = k;
    }
  }
}

// fmtRate writes a learning rate with 3 significant digits: 0.00173.
function fmtRate(x) {
  return String(Number(Number(x).toPrecision(3)));
}

// rateText says the learning rate the next update uses and the schedule it
// follows, as the server computed them (state.lr_now, state.lr_end):
// "lr 0.00173 (schedule: 0.002 → 0.0001 over 1 epoch)".
export function rateText(state) {
  if (!state || state.lr_now == null || !state.hyper) return '';
  const h = state.hyper;
  const now = `lr ${fmtRate(state.lr_now)}`;
  if (!h.decay) return `${now} (constant)`;
  const epochs = `${h.decay} epoch${Number(h.decay) === 1 ? '' : 's'}`;
  return `${now} (schedule: ${fmtRate(h.lr)} → ${fmtRate(state.lr_end)} over ${epochs})`;
}

function setIf(p, key, v, def) {
  if (Number(v) === def) delete p[key];
  else p[key] = String(v);
}

// Lab holds what the page draws. Fields are replaced, never mutated in place,
// so a render can compare them by identity; dirty flags say what changed
// since the last animation frame.
export class Lab {
  constructor(params, view) {
    this.params = params; // training parameters (strings, as in the URL)
    this.view = view; // view options
    this.welcome = null; // the last welcome message
    this.state = null; // the last state message
    this.hyper = null; // the hyperparameters in effect, as the server sent them
    this.frame = null; // the last decoded trace frame
    this.metrics = { step: [], loss: [], train: [], testStep: [], test: [] };
    this.error = null; // the last error reply to show
    this.dirty = { layout: false, frame: false, state: false, metrics: false, error: false };
  }

  setWelcome(msg) {
    this.welcome = msg;
    this.metrics = { step: [], loss: [], train: [], testStep: [], test: [] };
    this.frame = null;
    const c = msg.config || {};
    // adopt the server's view of the configuration (defaults filled in)
    if (c.spec) this.params.spec = c.spec;
    if (c.seed !== undefined) this.params.seed = String(c.seed);
    if (c.data) this.params.data = c.data;
    if (c.hyper) this.adoptHyper(c.hyper);
    this.dirty.layout = this.dirty.state = this.dirty.metrics = true;
  }

  adoptHyper(h) {
    this.hyper = h;
    const p = this.params;
    if (h.opt !== undefined) p.opt = h.opt;
    if (h.optimizer !== undefined) p.opt = h.optimizer;
    if (h.lr !== undefined) p.lr = String(h.lr);
    if (h.learning_rate !== undefined) p.lr = String(h.learning_rate);
    if (h.momentum !== undefined) p.momentum = String(h.momentum);
    if (h.nesterov !== undefined) p.nesterov = h.nesterov ? '1' : '0';
    if (h.wd !== undefined) p.wd = String(h.wd);
    if (h.weight_decay !== undefined) p.wd = String(h.weight_decay);
    if (h.decay !== undefined) p.decay = String(h.decay);
    if (h.batch !== undefined) p.batch = String(h.batch);
    if (h.batch_size !== undefined) p.batch = String(h.batch_size);
    // Adam's constants travel only when they differ from their defaults
    if (h.beta1 !== undefined) setIf(p, 'beta1', h.beta1, 0.9);
    if (h.beta2 !== undefined) setIf(p, 'beta2', h.beta2, 0.999);
    if (h.eps !== undefined) setIf(p, 'eps', h.eps, 1e-8);
    // and so do RMSprop's and the learning-rate schedule
    if (h.alpha !== undefined) setIf(p, 'alpha', h.alpha, 0.99);
    if (h.centered !== undefined) setIf(p, 'centered', h.centered ? 1 : 0, 0);
    if (h.decay !== undefined) setIf(p, 'decay', h.decay, 0);
  }

  adoptSpeed(sp) {
    this.params.speed = sp.unit;
    this.params.rate = String(sp.rate);
  }

  setState(msg) {
    const prev = this.state;
    this.state = msg;
    // a reset with a new seed sends no welcome: the state carries the seed
    if (msg.seed !== undefined && msg.seed !== null) this.params.seed = String(msg.seed);
    if (msg.spec) this.params.spec = msg.spec;
    // a step counter that goes back means the network was reset
    if (prev && msg.step < prev.step) {
      this.metrics = { step: [], loss: [], train: [], testStep: [], test: [] };
      this.dirty.metrics = true;
    }
    this.dirty.state = true;
  }

  addMetrics(msg) {
    if (msg.reset) this.metrics = { step: [], loss: [], train: [], testStep: [], test: [] };
    const m = this.metrics;
    for (const [step, loss, acc] of msg.points || []) {
      // keep steps increasing (a reset clears the series first)
      if (m.step.length && step <= m.step[m.step.length - 1]) continue;
      m.step.push(step);
      m.loss.push(loss ?? null);
      m.train.push(acc ?? null);
    }
    for (const [step, acc] of msg.test || []) {
      m.testStep.push(step);
      m.test.push(acc);
    }
    thinPoints({ step: m.step, loss: m.loss, train: m.train }, CHART_POINTS);
    thinPoints({ step: m.testStep, test: m.test }, TEST_POINTS);
    this.dirty.metrics = true;
  }

  setFrame(frame) {
    this.frame = frame;
    this.dirty.frame = true;
  }

  setError(msg) {
    this.error = msg;
    this.dirty.error = true;
  }
}
