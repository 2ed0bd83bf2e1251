// lesson.js — following the lesson: the maps the last phase computed are
// marked as the new result, and the columns of the phase are scrolled into
// view (smoothly), unless the reader scrolled away: then a "Follow the
// lesson" button appears and following waits until it (or L) is pressed.
// Its state is app.follow (see main.js). phaseResults and followedColumns
// are pure.

// phaseResults lists what a phase computed, as the strip shows it: a
// forward phase the feature maps Y of its layer; the loss phase the loss
// column; a backward phase dL/dX of its layer, which is δ = dL/dY of the
// layer before it, and for the last layer also its own δ (the loss's
// dL/dz, computed in the same phase). done is the state's "done" phase
// ({kind, layer}) or null; L the number of layers. Each result is
// {layer, kind} with kind "act", "grad" or "loss" (layer L).
export function phaseResults(done, L) {
  if (!done) return [];
  const k = done.layer;
  switch (done.kind) {
    case 'forward': return [{ layer: k, kind: 'act' }];
    case 'loss': return [{ layer: L, kind: 'loss' }];
    case 'backward': {
      const out = [];
      if (k === L - 1) out.push({ layer: k, kind: 'grad' });
      if (k >= 1) out.push({ layer: k - 1, kind: 'grad' });
      return out;
    }
    default: return [];
  }
}

// followedColumns are the columns (layer indices; L the loss) to keep in
// view after a phase: its own layer's and those of its results.
export function followedColumns(done, L) {
  if (!done) return [];
  const cols = new Set();
  if (done.kind === 'forward' || done.kind === 'backward') cols.add(done.layer);
  if (done.kind === 'loss') cols.add(L);
  for (const r of phaseResults(done, L)) cols.add(r.layer);
  return [...cols].sort((a, b) => a - b);
}

// scrollDelta is how far to scroll (one axis) so that [lo, hi] lies within
// [min, max] with a margin: 0 if it does; the start first if it cannot fit.
export function scrollDelta(lo, hi, min, max, margin) {
  if (hi - lo + 2 * margin > max - min) return lo - min - margin;
  if (lo < min + margin) return lo - min - margin;
  if (hi > max - margin) return hi - max + margin;
  return 0;
}

// a scroll within INTENT_MS of the reader's wheel, touch, scroll key or
// press on a scroll bar is theirs
const INTENT_MS = 1000;

// markNew marks the maps of the last phase's results (class "new-result",
// an outline) and their columns (data-new, a "new" badge).
export function markNew(app) {
  const { layout, lab } = app;
  const L = lab.welcome ? (lab.welcome.layers || []).length : 0;
  for (const c of document.querySelectorAll('#strip canvas.new-result')) c.classList.remove('new-result');
  for (const col of layout.columns.values()) delete col.dataset.new;
  // a page looking back at a step of history shows no live phase's results
  if (document.body.dataset.history) return;
  const results = phaseResults(lab.state && lab.state.done, L);
  for (const r of results) {
    const col = layout.columns.get(r.layer);
    if (!col) continue;
    col.dataset.new = r.kind;
    const badge = badgeOf(col);
    badge.dataset.kind = r.kind;
    badge.textContent = r.kind === 'act' ? 'new: Y' : r.kind === 'grad' ? 'new: δ' : 'new: p, L';
    if (r.kind !== 'loss') {
      for (const c of col.querySelectorAll(`canvas.map[data-kind="${r.kind}"]`)) c.classList.add('new-result');
    }
  }
}

// badgeOf returns the column's "new" badge, made once per column inside it:
// at the end of its shape line (or of its name's line).
function badgeOf(col) {
  let b = col.querySelector('.new-badge');
  if (!b) {
    b = document.createElement('span');
    b.className = 'new-badge';
    b.dataset.testid = 'new-badge';
    (col.querySelector('.col-shape') || col.querySelector('.col-name-row') || col).append(b);
  }
  return b;
}

// followLesson scrolls the columns of the last phase into view, if the
// page follows the lesson (and the focus view does not cover it).
export function followLesson(app) {
  const f = app.follow;
  if (!f.on || app.focus.open || !app.lab.state) return;
  const L = app.lab.welcome ? (app.lab.welcome.layers || []).length : 0;
  const cols = followedColumns(app.lab.state.done, L).map((l) => app.layout.columns.get(l)).filter(Boolean);
  if (cols.length) showColumns(app, cols);
}

// showColumns scrolls the strip sideways and the window up or down so that
// the columns' maps (the whole column if it fits) are on screen below the
// sticky bar.
function showColumns(app, cols) {
  const wrap = document.querySelector('.strip-wrap');
  const bar = document.querySelector('.topbar');
  if (!wrap || !bar) return;
  const union = (els) => {
    const rs = els.map((e) => e.getBoundingClientRect());
    return {
      left: Math.min(...rs.map((r) => r.left)), right: Math.max(...rs.map((r) => r.right)),
      top: Math.min(...rs.map((r) => r.top)), bottom: Math.max(...rs.map((r) => r.bottom)),
    };
  };
  const whole = union(cols);
  const maps = union(cols.map((c) => c.querySelector('.maps, .probs') || c));
  const w = wrap.getBoundingClientRect();
  const top = bar.getBoundingClientRect().bottom;
  const behavior = matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth';
  const dx = scrollDelta(whole.left, whole.right, w.left, w.right, 8);
  // the whole column if it fits under the bar, else from its head to the
  // end of its maps, else its maps
  const room = innerHeight - top - 16;
  const v = whole.bottom - whole.top <= room ? whole
    : maps.bottom - whole.top <= room ? { top: whole.top, bottom: maps.bottom } : maps;
  const dy = scrollDelta(v.top, v.bottom, top, innerHeight, 8);
  if (Math.abs(dx) >= 1) wrap.scrollBy({ left: dx, behavior });
  if (Math.abs(dy) >= 1) window.scrollBy({ top: dy, behavior });
}

// setFollowing turns following on (and catches up at once) or off (and
// offers the button).
export function setFollowing(app, on) {
  app.follow.on = on;
  // the reader's scrolling before they asked to follow again is spent
  if (on) app.follow.userAt = -Infinity;
  const b = document.getElementById('follow');
  b.dataset.shown = on ? 'false' : 'true';
  document.body.dataset.following = on ? 'true' : 'false';
  if (on) followLesson(app);
}

// installFollow watches the reader's scrolling: a scroll they made (or any
// scroll the page did not start) stops following.
export function installFollow(app) {
  const f = app.follow;
  const wrap = document.querySelector('.strip-wrap');
  const intent = () => { f.userAt = performance.now(); };
  for (const type of ['wheel', 'touchmove']) addEventListener(type, intent, { passive: true, capture: true });
  // a press on a scroll bar lands on the scrolled element itself
  addEventListener('pointerdown', (ev) => { if (ev.target === document.documentElement || ev.target === wrap) intent(); }, { capture: true });
  addEventListener('keydown', (ev) => {
    if (['PageUp', 'PageDown', 'Home', 'End', 'ArrowUp', 'ArrowDown', 'ArrowLeft'].includes(ev.key)) intent();
  }, { capture: true });
  // only a scroll right after the reader's wheel, touch, scroll key or
  // scroll bar is theirs: the page's own scrolls (following, the browser
  // keeping its place when content above changes size) are not
  const onScroll = () => {
    if (f.on && performance.now() - f.userAt < INTENT_MS) setFollowing(app, false);
  };
  addEventListener('scroll', onScroll, { passive: true });
  wrap?.addEventListener('scroll', onScroll, { passive: true });
  document.getElementById('follow').addEventListener('click', () => setFollowing(app, true));
  document.body.dataset.following = 'true';
}
