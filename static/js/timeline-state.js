// timeline-state.js — the pure part of the timeline (timeline.js): which
// kept step a position of the scrubber means, what the status line says,
// and how a compared filter is laid out. No DOM, no state.

// indexOf is the index of the latest kept step at or before step in steps
// (sorted), 0 if step is before them all, -1 if there are none.
export function indexOf(steps, step) {
  if (!steps.length) return -1;
  let lo = 0;
  let hi = steps.length - 1;
  if (step <= steps[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// mib writes bytes in MB with one decimal.
export function mib(bytes) {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

// statusText is what the status line says: live, or which step of history
// the page shows and whose choice it is (the room's owner's, shared).
export function statusText(tl) {
  if (tl.viewing !== null) {
    const whose = tl.shared ? ' — the teacher is showing the room this step' : '';
    return `Viewing step ${tl.viewing} of history (live: step ${tl.live})${whose}. Looking back changes nothing; "Now" returns to the live network.`;
  }
  if (!tl.steps.length) return tl.note ? `Live. ${tl.note}` : 'Live.';
  const first = tl.steps[0];
  const last = tl.steps[tl.steps.length - 1];
  const n = tl.steps.length;
  return `Live. History: ${n} ${n === 1 ? 'step' : 'steps'} kept from ${first} to ${last}, dense near now and sparser further back (${mib(tl.bytes)} of ${mib(tl.budget)}).`;
}

// filterGrid lays out one filter of shape (C, KH, KW) as C maps side by
// side with one-cell gaps: the canvas size and where each map starts in
// the values (off) and on the canvas (x0).
export function filterGrid(shape) {
  const [c, kh, kw] = shape;
  const maps = [];
  for (let i = 0; i < c; i++) maps.push({ x0: i * (kw + 1), off: i * kh * kw });
  return { h: kh, w: c * kw + Math.max(0, c - 1), kh, kw, maps };
}

// compareTarget is the step "Compare" sets beside now: the step looked at,
// or the first kept step while live (0 when none is kept).
export function compareTarget(tl) {
  if (tl.viewing !== null) return tl.viewing;
  return tl.steps.length ? tl.steps[0] : 0;
}

// compareStale says whether the comparison shown (shown: {asked: the step
// it was asked for}, or null for none) is of another step than target.
export function compareStale(shown, target) {
  return !!shown && shown.asked !== target;
}

// staleNote says that the comparison shown is of another step.
export function staleNote(asked, target) {
  return `These maps compare with step ${asked}, not step ${target} looked at now: press Compare to compare with step ${target}.`;
}

// followState is what a state message (the trainer's step) changes while
// training goes on: the live step the status names while looking back (no
// live frame comes then, the state does), and whether the list of kept
// steps, the scrubber's range, is to be asked for again (the step moved
// since it was last asked for).
export function followState(tl, step) {
  return { live: tl.viewing !== null ? step : tl.live, relist: step !== tl.listedAt };
}

// parseFilter reads the Compare form's filter: a whole number from 0 to
// count − 1 (count: the layer's filters), or what is wrong with it.
export function parseFilter(text, count) {
  const t = String(text).trim();
  if (t === '') return { error: `Type a filter number from 0 to ${count - 1}.` };
  if (!/^\d+$/.test(t)) return { error: `The filter is a number from 0 to ${count - 1}; "${t}" is not one.` };
  const f = Number(t);
  if (f >= count) return { error: `This layer has ${count} filters, 0 to ${count - 1}: there is no filter ${f}.` };
  return { filter: f };
}
