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

// sessionRequest is the address and the headers of a request about this
// page's session at path (/model, /probe), with more query parameters: a
// room by its code in the address, a lab or fork by its resume token in
// the X-Bpv-Resume header, never in the address (the console prints a
// failed request's address). null when the page may not ask.
export function sessionRequest(path, wsPath, resume, role, more = '') {
  const q = modelQuery(wsPath, resume, role);
  if (!q) return null;
  const byToken = q.startsWith('resume=');
  const query = [byToken ? '' : q, more].filter(Boolean).join('&');
  return { url: `${path}${query ? `?${query}` : ''}`, headers: byToken ? { 'X-Bpv-Resume': resume } : {} };
}

// loadMessage is what the page says after a load: the server's answer.
export function loadMessage(ok, body) {
  if (ok) return `Model loaded: ${body.data}, step ${body.step}.`;
  return (body && body.error) || 'The model could not be loaded.';
}

// request is the address and headers of a request at path about this
// page's session (sessionRequest).
export function request(app, path, more = '') {
  const w = app.lab.welcome;
  return sessionRequest(path, app.wsPath, w && w.resume, app.room && app.room.role, more);
}

// installModel connects the Model controls; a room's viewer does not see
// them.
export function installModel(app) {
  const box = $('model-controls');
  if (!box) return;
  const sync = () => { box.hidden = app.wsPath.startsWith('/ws/room/') && !(app.room && app.room.role === 'owner'); };
  sync();
  document.addEventListener('bpv:message', sync);
  $('model-download').addEventListener('click', async () => {
    const q = request(app, '/model');
    if (!q) { showAlert('Not connected yet: try again in a moment.', 'error'); return; }
    // fetched with the token in a header, saved from memory under the
    // server's file name
    let resp;
    try {
      resp = await fetch(q.url, { headers: q.headers });
    } catch (err) {
      showAlert(`The model could not be downloaded: ${err.message}`, 'error');
      return;
    }
    if (!resp.ok) {
      const body = await resp.json().catch(() => null);
      showAlert((body && body.error) || 'The model could not be downloaded.', 'error');
      return;
    }
    const name = /filename="?([^";]+)"?/.exec(resp.headers.get('Content-Disposition') || '');
    const href = URL.createObjectURL(await resp.blob());
    const a = document.createElement('a');
    a.href = href;
    a.download = name ? name[1] : 'backpropviz-model.json';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60000);
  });
  const input = $('model-upload');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const q = request(app, '/model');
    input.value = '';
    if (!q) { showAlert('Not connected yet: try again in a moment.', 'error'); return; }
    hideAlert();
    let ok = false;
    let body = null;
    try {
      const resp = await fetch(q.url, { method: 'POST', body: file, headers: { ...q.headers, 'Content-Type': 'application/json' } });
      ok = resp.ok;
      body = await resp.json().catch(() => null);
    } catch (err) {
      body = { error: `The model could not be sent: ${err.message}` };
    }
    showAlert(loadMessage(ok, body), ok ? 'info' : 'error');
  });
}
