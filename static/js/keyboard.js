// keyboard.js — the lab's keys: Space plays or pauses, → steps one phase.
// Keys typed into a control (a field, a list, a focused button or link) are
// the control's, and so are keys with a modifier.

// installKeyboard calls actions.togglePlay and actions.stepPhase on their
// keys.
export function installKeyboard(actions) {
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t instanceof HTMLElement && t.closest('input, textarea, select, button, a, [contenteditable]')) return;
    if (ev.key === ' ') { ev.preventDefault(); actions.togglePlay(); }
    if (ev.key === 'ArrowRight') { ev.preventDefault(); actions.stepPhase(); }
  });
}
