// dom.js — small helpers for the page's elements: lookup by id, element
// creation, and the alert banner under the top bar.

// $ returns the element with an id.
export const $ = (id) => document.getElementById(id);

// el creates an element with a class and text (text is never parsed as HTML).
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// showAlert shows a message in the alert banner; kind is "error" or
// "info" (both close themselves after a while: closeLater), "diverged" (a
// divergence is hidden again once the state no longer reports it) or
// "ended" (the page's session or connection has ended: it offers to start
// again).
export function showAlert(text, kind) {
  clearTimeout(alertTimer);
  const a = $('alert');
  a.textContent = text;
  a.dataset.kind = kind;
  $('alert-box').dataset.kind = kind;
  $('alert-box').hidden = false;
  const again = $('alert-restart');
  if (again) again.hidden = kind !== 'ended';
  // an error or a note closes itself; an ended session (it offers to
  // start again) and a divergence (hidden once resolved) stay
  if (kind === 'error' || kind === 'info') closeLater(alertMs(text));
}

// ALERT_MS is how long an error or a note stays at least; a long message
// stays longer (alertMs). role="alert" has a screen reader read it out as
// it appears; × closes it at once.
const ALERT_MS = 10000;
const alertMs = (text) => ALERT_MS + 60 * String(text).length;
let alertTimer = 0;

// closeLater hides the banner after ms, or later while the pointer or the
// focus is on it (a reader is reading it or about to press a button).
function closeLater(ms) {
  $('alert-box').dataset.closesInMs = String(ms);
  alertTimer = setTimeout(() => {
    if ($('alert-box').matches(':hover, :focus-within')) closeLater(2000);
    else hideAlert();
  }, ms);
}

// hideAlert hides the alert banner.
export function hideAlert() {
  clearTimeout(alertTimer);
  delete $('alert-box').dataset.closesInMs;
  const a = $('alert');
  $('alert-box').hidden = true;
  a.textContent = '';
  a.dataset.kind = '';
}

// COVERED are the parts of the page a full-screen view (the focus view,
// the conv explainer) lies over.
const COVERED = '.skip, .room-bar, .topbar, #alert-box, #controls, #spec-form, main, .footer';

// setCovered makes the page under a full-screen view inert (no focus, no
// clicks, hidden from assistive technology) or gives it back.
export function setCovered(on) {
  for (const e of document.querySelectorAll(COVERED)) e.inert = on;
}
