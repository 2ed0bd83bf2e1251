// timeline.js — looking back through training (docs/protocol.md,
// "Timeline"). The session keeps a thinned history of its steps; the
// scrubber asks it for one ("view"), and the server sends that step as an
// ordinary trace frame marked history, which the maps draw as they draw
// any frame; until "Now" ("live") no live frame comes, while the counters
// and charts go on. In a room the owner's view is the room's: a student
// follows it unless they chose a step of their own. "Compare" asks for one
// filter now, at the step looked at, and their difference, computed by the
// server. Its state is app.timeline; the pure part is timeline-state.js.

import { $ } from './dom.js';
import { Surface } from './render/heatmap.js';
import { makeScale } from './render/colormap.js';
import { indexOf, statusText, filterGrid, compareTarget, compareStale, staleNote, followState, parseFilter } from './timeline-state.js';

// PLAY_MS is the time each kept step is shown while the history replays.
const PLAY_MS = 220;
// LIST_MS is how often a live page refreshes the list of kept steps while
// the trainer moves.
const LIST_MS = 2000;

// installTimeline wires the scrubber.
export function installTimeline(app) {
  const root = $('timeline');
  if (!root) return;
  const tl = {
    steps: [], live: 0, viewing: null, shared: false, bytes: 0, budget: 0, note: '',
    pending: new Map(), // id → action of a request in flight
    want: null, // a step asked for while a view was in flight
    inflight: false,
    playing: false,
    timer: 0,
    listedAt: -1, // the live step when the list was last asked for
    compared: null, // the comparison shown: {asked: step, layer, filter}
    comparing: null, // the comparison asked for and not answered yet
    refused: null, // the step whose comparison the server refused
  };
  app.timeline = tl;
  const range = $('tl-range');
  range.addEventListener('input', () => {
    const i = Number(range.value); // before stopPlay draws the scrubber again
    stopPlay(app);
    if (tl.steps[i] !== undefined) view(app, tl.steps[i]);
  });
  for (const ev of ['pointerdown', 'focus']) range.addEventListener(ev, () => list(app));
  $('tl-start').addEventListener('click', () => { stopPlay(app); if (tl.steps.length) view(app, tl.steps[0]); else list(app); });
  $('tl-back').addEventListener('click', () => { stopPlay(app); move(app, -1); });
  $('tl-fwd').addEventListener('click', () => { stopPlay(app); move(app, +1); });
  $('tl-now').addEventListener('click', () => { stopPlay(app); live(app); });
  $('tl-play').addEventListener('click', () => (tl.playing ? stopPlay(app) : startPlay(app)));
  $('tl-compare-go').addEventListener('click', () => compare(app));
  $('tl-compare').addEventListener('toggle', () => syncCompare(app));
  document.addEventListener('bpv:welcome', (e) => {
    // a new connection: what was asked on the old one is not answered
    tl.pending.clear();
    tl.inflight = false;
    tl.want = null;
    tl.comparing = null;
    stopPlay(app);
    fillLayers(e.detail);
    list(app);
  });
  setInterval(() => {
    const s = app.lab.state;
    if (document.hidden || !s) return;
    // looking back, no live frame comes: the state says where training is
    const f = followState(tl, s.step);
    if (f.live !== tl.live) {
      tl.live = f.live;
      render(app);
    }
    if (f.relist) list(app);
  }, LIST_MS);
  render(app);
}

// send asks the session; the reply comes to timelineMessage.
function send(app, action, extra = {}) {
  const id = app.transport.send({ type: 'timeline', action, ...extra });
  app.timeline.pending.set(id, action);
  return id;
}

function list(app) {
  const tl = app.timeline;
  tl.listedAt = app.lab.state ? app.lab.state.step : -1;
  send(app, 'list');
}

// view asks for a step of history; while one is in flight only the newest
// asked for waits (a drag sends no backlog).
function view(app, step) {
  const tl = app.timeline;
  if (tl.inflight) {
    tl.want = step;
    return;
  }
  tl.inflight = true;
  send(app, 'view', { step });
}

function live(app) {
  app.timeline.want = null;
  send(app, 'live');
}

// move steps to the kept step before or after the one shown.
function move(app, by) {
  const tl = app.timeline;
  if (!tl.steps.length) return list(app);
  const at = tl.viewing === null ? tl.steps.length - 1 + (by > 0 ? 1 : 0) : indexOf(tl.steps, tl.viewing);
  const i = at + by;
  if (i >= tl.steps.length) return live(app);
  view(app, tl.steps[Math.max(0, i)]);
}

function startPlay(app) {
  const tl = app.timeline;
  if (!tl.steps.length) return list(app);
  tl.playing = true;
  const at = tl.viewing === null ? -1 : indexOf(tl.steps, tl.viewing);
  view(app, tl.steps[at < 0 || at >= tl.steps.length - 1 ? 0 : at + 1]);
  render(app);
}

function stopPlay(app) {
  const tl = app.timeline;
  tl.playing = false;
  clearTimeout(tl.timer);
  tl.timer = 0;
  render(app);
}

// playNext shows the next kept step after PLAY_MS; the replay stops at the
// newest.
function playNext(app) {
  const tl = app.timeline;
  if (!tl.playing) return;
  const i = indexOf(tl.steps, tl.viewing) + 1;
  if (tl.viewing === null || i >= tl.steps.length) return stopPlay(app);
  clearTimeout(tl.timer);
  tl.timer = setTimeout(() => { tl.timer = 0; if (tl.playing) view(app, tl.steps[i]); }, PLAY_MS);
}

// timelineMessage takes the server's answers to the timeline's requests;
// it reports whether msg was one.
export function timelineMessage(app, msg) {
  const tl = app.timeline;
  if (!tl || msg.id === undefined || !tl.pending.has(msg.id)) return false;
  const action = tl.pending.get(msg.id);
  tl.pending.delete(msg.id);
  if (action === 'view') {
    tl.inflight = false;
    if (tl.want !== null) {
      const s = tl.want;
      tl.want = null;
      view(app, s);
    }
  }
  if (msg.type === 'error') {
    tl.note = msg.message || 'refused';
    if (action === 'compare') {
      tl.refused = tl.comparing ? tl.comparing.asked : null;
      tl.comparing = null;
      $('tl-compare-note').textContent = tl.note;
    }
    stopPlay(app);
    render(app);
    return true;
  }
  if (msg.type === 'timeline_compare') {
    tl.compared = tl.comparing;
    tl.comparing = null;
    tl.refused = null;
    drawCompare(msg);
    syncCompare(app);
    return true;
  }
  Object.assign(tl, {
    steps: msg.steps || [], live: msg.live, viewing: msg.viewing ?? null, shared: !!msg.shared,
    bytes: msg.bytes || 0, budget: msg.budget || 0, note: msg.note || '',
  });
  render(app);
  if (action === 'view') playNext(app);
  return true;
}

// noteFrame follows what the frames show: a step of history (a frame
// marked history, the page's own choice or the room's) or live.
export function noteFrame(app, f) {
  const tl = app.timeline;
  if (!tl) return;
  const h = f.header.history;
  const viewing = h ? h.step : null;
  const shared = !!(h && h.shared);
  if (h) tl.live = h.live;
  if (viewing === tl.viewing && shared === tl.shared) return;
  tl.viewing = viewing;
  tl.shared = shared;
  if (viewing !== null && indexOf(tl.steps, viewing) >= 0 && tl.steps[indexOf(tl.steps, viewing)] !== viewing) list(app);
  render(app);
}

// render shows the mode, the status and the scrubber's position.
function render(app) {
  const tl = app.timeline;
  const root = $('timeline');
  const looking = tl.viewing !== null;
  root.dataset.mode = looking ? (tl.shared ? 'shared' : 'history') : 'live';
  document.body.dataset.history = looking ? String(tl.viewing) : '';
  $('tl-status').textContent = statusText(tl);
  const range = $('tl-range');
  range.max = String(Math.max(0, tl.steps.length - 1));
  range.value = String(looking ? Math.max(0, indexOf(tl.steps, tl.viewing)) : Math.max(0, tl.steps.length - 1));
  range.setAttribute('aria-valuetext', looking ? `step ${tl.viewing} of history` : 'live');
  const play = $('tl-play');
  $('tl-play-label').textContent = tl.playing ? 'Stop' : 'Replay';
  play.setAttribute('aria-pressed', tl.playing ? 'true' : 'false');
  $('tl-compare-then').textContent = looking ? `step ${tl.viewing}` : tl.steps.length ? `step ${tl.steps[0]}` : '—';
  syncCompare(app);
}

// syncCompare keeps the comparison with the step looked at: shown open, it
// is asked again for the new step (once the replay stops); until then, or
// while the section is closed, the maps are dimmed and said to be of
// another step.
function syncCompare(app) {
  const tl = app.timeline;
  const box = $('tl-compare');
  const target = compareTarget(tl);
  const stale = compareStale(tl.compared, target);
  box.dataset.stale = stale ? 'true' : 'false';
  if (!stale || tl.comparing || tl.refused === target) return; // a refusal stays said
  if (box.open && !tl.playing) {
    compare(app, tl.compared.layer, tl.compared.filter);
    return;
  }
  $('tl-compare-note').textContent = staleNote(tl.compared.asked, target);
}

// fillLayers lists the layers with weights in the compare form.
function fillLayers(welcome) {
  const sel = $('tl-layer');
  sel.replaceChildren();
  for (const l of welcome.layers || []) {
    if (!l.params || !l.params.length) continue;
    const o = document.createElement('option');
    o.value = String(l.index);
    o.dataset.filters = String(l.params[0][0]);
    o.textContent = `${l.name} (${l.params[0][0]} filters)`;
    sel.append(o);
  }
}

// compare asks for a filter now beside the same filter at the step looked
// at (the first kept step while live): the form's layer and filter, or
// those given (the comparison shown, asked again for another step).
function compare(app, layer, filter) {
  const tl = app.timeline;
  if (layer === undefined) {
    const sel = $('tl-layer');
    const opt = sel.selectedOptions[0];
    if (!opt) return;
    const got = parseFilter($('tl-filter').value, Number(opt.dataset.filters));
    if (got.error) {
      $('tl-compare-note').textContent = got.error; // nothing is compared
      return;
    }
    layer = Number(sel.value);
    filter = got.filter;
  }
  const step = compareTarget(tl);
  tl.comparing = { asked: step, layer, filter };
  $('tl-compare-note').textContent = 'asking…';
  send(app, 'compare', { step, layer, filter });
}

// drawCompare paints the filter then, now (one colour scale for both) and
// now − then (its own), with the server's numbers.
function drawCompare(msg) {
  const grid = filterGrid(msg.shape);
  const cell = Math.max(2, Math.min(16, Math.floor(160 / grid.w)));
  const paint = (id, data, s) => {
    const scale = makeScale({ min: -s, max: s, absMax: s, p99abs: 0 }, { diverging: true, mode: 'full' });
    const surf = new Surface($(id), grid.h, grid.w, cell);
    for (const m of grid.maps) surf.paint(m.x0, 0, data, m.off, grid.kh, grid.kw, scale);
    surf.flush();
  };
  paint('tl-then', msg.w_then, msg.scale);
  paint('tl-nowmap', msg.w_now, msg.scale);
  paint('tl-diff', msg.diff, msg.diff_scale);
  $('tl-then-cap').textContent = `${msg.name}, filter ${msg.filter} at step ${msg.then}`;
  $('tl-now-cap').textContent = `now (step ${msg.now})`;
  $('tl-diff-cap').textContent = `now − then (max |Δ| ${Number(msg.diff_scale).toPrecision(3)})`;
  $('tl-compare-note').textContent = `Colours: blue negative, orange positive; then and now share a scale up to ±${Number(msg.scale).toPrecision(3)}, the difference has its own. Numbers computed by the server.`;
}
