// keyboard.js — the lab's keys: Space plays or pauses, → steps one phase,
// F opens or closes the layer focus view, C opens the conv explainer,
// Escape closes the top one of the drill-down, the conv explainer and the
// focus view. Keys typed into a control (a field, a list, a focused button
// or link) are the control's, and so are keys with a modifier and keys a
// focused map took (its cell cursor: see explain/picking.js).

// installKeyboard calls actions.togglePlay, stepPhase, toggleFocus,
// openWalk and closeTop (which returns whether it closed something) on
// their keys.
export function installKeyboard(actions) {
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
    // Escape closes a panel from anywhere (an open list takes its own)
    if (ev.key === 'Escape') {
      if (actions.closeTop()) ev.preventDefault();
      return;
    }
    if (t instanceof HTMLElement && t.closest('input, textarea, select, button, a, [contenteditable]')) return;
    if (ev.key === ' ') { ev.preventDefault(); actions.togglePlay(); }
    if (ev.key === 'ArrowRight') { ev.preventDefault(); actions.stepPhase(); }
    if (ev.key === 'f' || ev.key === 'F') { ev.preventDefault(); actions.toggleFocus(); }
    if (ev.key === 'c' || ev.key === 'C') { ev.preventDefault(); actions.openWalk(); }
  });
}
