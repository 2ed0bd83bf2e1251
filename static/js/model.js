// model.js — the Model controls: download the session's saved model and
// load one into it (GET and POST /model; docs/model-format.md). The server
// loads a file with engine.Load and either replaces the trainer (the
// welcome and state that follow redraw the lab) or refuses it with what is
// wrong, leaving the session as it was.

import { $, showAlert, hideAlert } from './dom.js';

// modelQuery is the query naming this page's session at /model: a lab or
// fork by its resume token, a room by its code (for its owner, whose
// cookie the request carries); '' when the page may not (a room's viewer,
// or before the welcome).
export function modelQuery(wsPath, resume, role) {
  if (wsPath.startsWith('/ws/room/')) {
    return role === 'owner' ? `room=${encodeURIComponent(wsPath.slice('/ws/room/'.length))}` : '';
  }
  return resume ? `resume=${encodeURIComponent(resume)}` : '';
}

// loadMessage is what the page says after a load: the server's answer.
export function loadMessage(ok, body) {
  if (ok) return `Model loaded: ${body.data}, step ${body.step}.`;
  return (body && body.error) || 'The model could not be loaded.';
}

function query(app) {
  const w = app.lab.welcome;
  return modelQuery(app.wsPath, w && w.resume, app.room && app.room.role);
}

// installModel connects the Model controls; a room's viewer does not see
// them.
export function installModel(app) {
  const box = $('model-controls');
  if (!box) return;
  const sync = () => { box.hidden = app.wsPath.startsWith('/ws/room/') && !(app.room && app.room.role === 'owner'); };
  sync();
  document.addEventListener('bpv:message', sync);
  $('model-download').addEventListener('click', () => {
    const q = query(app);
    if (!q) { showAlert('Not connected yet: try again in a moment.', 'error'); return; }
    const a = document.createElement('a');
    a.href = `/model?${q}`;
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
  });
  const input = $('model-upload');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const q = query(app);
    input.value = '';
    if (!q) { showAlert('Not connected yet: try again in a moment.', 'error'); return; }
    hideAlert();
    let ok = false;
    let body = null;
    try {
      const resp = await fetch(`/model?${q}`, { method: 'POST', body: file, headers: { 'Content-Type': 'application/json' } });
      ok = resp.ok;
      body = await resp.json().catch(() => null);
    } catch (err) {
      body = { error: `The model could not be sent: ${err.message}` };
    }
    showAlert(loadMessage(ok, body), ok ? 'info' : 'error');
  });
}
