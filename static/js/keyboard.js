// keyboard.js — the lab's keys: Space plays or pauses, → steps one phase,
// F opens or closes the layer focus view, C opens the conv explainer,
// L follows the lesson again, ? shows the keyboard map, Escape closes the
// top one of the drill-down, the conv explainer and the focus view. While
// a dialog (the keyboard map) is open, the keys are the dialog's. They work
// whatever has focus, a button just clicked included (Space then plays or
// pauses, it does not click the button again), except while typing: keys
// typed into a text field are the field's, the arrows of a slider are the
// slider's, and so are keys with a modifier and keys a focused map took
// (its cell cursor: see explain/picking.js). A focused list (a closed
// <select>) keeps what a list needs: Space opens it, ↑/↓ and letters
// choose; → and ? are the lab's (an open list takes every key itself).

// installKeyboard calls actions.togglePlay, stepPhase, toggleFocus,
// openWalk, follow, showKeys and closeTop (which returns whether it closed
// something) on their keys.
export function installKeyboard(actions) {
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
    // a modal dialog takes its own keys (Escape closes it)
    if (document.querySelector('dialog[open]')) return;
    // Escape closes a panel from anywhere (an open list takes its own)
    if (ev.key === 'Escape') {
      if (actions.closeTop()) ev.preventDefault();
      return;
    }
    if (typing(t) && !listKeyToLab(t, ev.key)) return;
    if (ev.key === 'ArrowRight' && t instanceof HTMLInputElement && t.type === 'range') return;
    if (ev.key === ' ') { ev.preventDefault(); if (!ev.repeat) actions.togglePlay(); }
    if (ev.key === 'ArrowRight') { ev.preventDefault(); actions.stepPhase(); }
    if (ev.key === 'f' || ev.key === 'F') { ev.preventDefault(); actions.toggleFocus(); }
    if (ev.key === 'c' || ev.key === 'C') { ev.preventDefault(); actions.openWalk(); }
    if (ev.key === 'l' || ev.key === 'L') { ev.preventDefault(); actions.follow(); }
    if (ev.key === '?') { ev.preventDefault(); actions.showKeys(); }
  });
  // a focused button clicks itself on Space's keyup: the key was play/pause
  document.addEventListener('keyup', (ev) => {
    if (ev.key === ' ' && !typing(ev.target) && ev.target instanceof HTMLElement && ev.target.closest('button, a, summary, input[type=checkbox], input[type=radio]')) ev.preventDefault();
  });
}

// TEXT_INPUTS are the input types a user types into.
const TEXT_INPUTS = new Set(['text', 'number', 'search', 'email', 'url', 'password', 'tel']);

// LAB_KEYS_ON_A_LIST are the keys a focused, closed list leaves to the lab
// (a list would change its value on →).
const LAB_KEYS_ON_A_LIST = new Set(['ArrowRight', '?']);

// listKeyToLab reports whether key, pressed on t, is the lab's although t
// is a list the user may be choosing in.
function listKeyToLab(t, key) {
  return t instanceof HTMLSelectElement && LAB_KEYS_ON_A_LIST.has(key);
}

// typing reports whether keys at t go into a field the user is typing in.
function typing(t) {
  if (!(t instanceof HTMLElement)) return false;
  if (t instanceof HTMLInputElement) return TEXT_INPUTS.has(t.type);
  return !!t.closest('textarea, select, [contenteditable]');
}

// showKeys opens the keyboard map (a modal dialog: Escape or Close closes
// it, and the focus returns where it was); pressed again, it closes.
export function showKeys() {
  const d = document.getElementById('keymap');
  if (!d) return;
  if (d.open) d.close();
  else d.showModal();
}
