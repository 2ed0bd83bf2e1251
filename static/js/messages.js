// messages.js — what the page does with each JSON message of the server
// (docs/protocol.md, "Server → client"): the lab state takes it, pending
// requests are settled, answers to questions go to the panels that asked
// (explain/requests.js), and messages for the page's other scripts (a
// room's "room") are passed on as "bpv:message" events of the document.

import { VOCAB } from './vocab.js';
import { writeURL } from './state.js';
import { syncControls, showFieldMessage, valueInEffect } from './controls.js';
import { showAlert } from './dom.js';

// HYPER_NUMBER are the number fields whose refusal says the value kept.
const HYPER_NUMBER = new Set(['lr', 'batch', 'momentum', 'beta1', 'beta2', 'alpha', 'eps', 'wd', 'decay']);
import { handleQuestion } from './explain/requests.js';

// confirmSpecChange asks whether the data set chosen may replace a network
// that does not fit it (the server's message says with what) and, if so,
// sends the data with that spec. It returns whether it was sent.
function confirmSpecChange(app, msg) {
  const data = document.getElementById('data').value;
  if (!msg.spec || !window.confirm(`${msg.message}.\n\nChange the network?`)) return false;
  app.transport.cmd('set', { data, spec: msg.spec });
  return true;
}

// handleMessage takes one message from the server.
export function handleMessage(app, msg) {
  const { lab, pending } = app;
  // replies to the page's questions (explain, walk, gradcheck), their
  // refusals, and a room's look
  if (handleQuestion(app, msg)) return;
  // a reply to a message of the room bar's scripts (prompt.js) is theirs to read too
  if ((msg.type === 'ack' || msg.type === 'error') && msg.id !== undefined) document.dispatchEvent(new CustomEvent('bpv:reply', { detail: msg }));
  switch (msg.type) {
    case 'welcome':
      lab.setWelcome(msg);
      app.sub.last = ''; // a new connection starts from the default subscription
      document.dispatchEvent(new CustomEvent('bpv:welcome', { detail: msg }));
      break;
    case 'state':
      if (app.draw.chartsFrom !== null && msg.step < app.draw.chartsFrom) app.draw.chartsFrom = null; // reset
      lab.setState(msg);
      // Play or an epoch run stopped when the session's last page closed (a reload)
      if (msg.stopped) showAlert(msg.stopped, 'info');
      if (msg.hyper) lab.adoptHyper(msg.hyper);
      if (msg.speed) lab.adoptSpeed(msg.speed);
      break;
    case 'metrics':
      if (msg.reset) {
        const empty = !(msg.points && msg.points.length);
        app.draw.chartsFrom = empty && lab.state && lab.state.step > 0 ? lab.state.step : null;
      }
      lab.addMetrics(msg);
      break;
    case 'error':
      if (msg.code === VOCAB.codeSpecChange && confirmSpecChange(app, msg)) break;
      // a divergence is shown from the state, which says the same
      // a refusal of the connection ends the page's link: it offers to start again
      // a refused field's message is said under the field (and read out
      // from there), not again in the alert over the maps
      if (msg.code !== VOCAB.codeDiverged && !pending.fields.has(msg.id)) lab.setError(msg.refusal ? { ...msg, ended: true } : msg);
      // a refused spec stays in its field, as typed, to be corrected
      if (msg.id !== undefined && msg.id === pending.spec.id) pending.spec.id = 0;
      // a refused hyperparameter: the server's message under its field
      // and the value in effect in it at once, though it has the focus
      // (Enter keeps it there): the field never shows a value not in effect
      if (pending.fields.has(msg.id)) {
        const f = pending.fields.get(msg.id);
        const kept = HYPER_NUMBER.has(f) ? valueInEffect(app, f) : undefined;
        showFieldMessage(f, msg.message || 'refused', kept);
        const e = document.getElementById(f);
        if (e && kept !== undefined && kept !== null) {
          e.value = String(kept);
          if (document.activeElement === e) e.select(); // typing replaces it
        }
        pending.fields.delete(msg.id);
      }
      syncControls(app); // nothing changed: show the values in effect again
      break;
    case 'ack':
      if (pending.fields.has(msg.id)) {
        showFieldMessage(pending.fields.get(msg.id), '');
        pending.fields.delete(msg.id);
      }
      if (msg.id !== undefined && msg.id === pending.spec.id) {
        // the spec applied: the field shows the spec in effect again (the
        // welcome and state that follow carry it)
        pending.spec.id = 0;
        pending.spec.draft = false;
      }
      if (pending.samples.has(msg.id)) {
        lab.params.sample = pending.samples.get(msg.id);
        pending.samples.delete(msg.id);
        writeURL(lab.params, lab.view);
      }
      break;
    case 'bye':
      lab.setError({ code: 'bye', ended: true, message: `The server closed ${app.pageKind}: ${msg.reason || 'shutting down'}.` });
      break;
    case 'room':
      app.room.role = msg.role || '';
      document.dispatchEvent(new CustomEvent('bpv:message', { detail: msg }));
      break;
    default:
      // other messages (a room's "room") are for the page's other scripts
      document.dispatchEvent(new CustomEvent('bpv:message', { detail: msg }));
  }
}
