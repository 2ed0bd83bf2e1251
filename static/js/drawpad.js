// drawpad.js — the user's own input: a drawing pad (pointer events: mouse,
// touch and pen) and an image upload. The image goes to POST /probe with the
// label the user gives; the server prepares it as the data set's images were
// and makes it the probe, and the page shows the probe's maps. While
// drawing, the pad is sent at most every SEND_MS, one request at a time, so
// the maps follow the stroke.

import { $, showAlert, hideAlert } from './dom.js';
import { request } from './model.js';

// SEND_MS is the least time between two images sent while drawing.
export const SEND_MS = 150;

// Throttle lets one request run at a time, at most one per interval ms; a
// request asked for meanwhile runs once the current one ends (only the
// newest: a drawing supersedes the one before it).
export class Throttle {
  constructor(interval, run, now = () => performance.now()) {
    this.interval = interval;
    this.run = run; // () => Promise
    this.now = now;
    this.busy = false;
    this.wanted = false;
    this.last = -Infinity;
    this.timer = 0;
  }

  // ask asks for a run.
  ask() {
    this.wanted = true;
    this.pump();
  }

  pump() {
    if (this.busy || !this.wanted || this.timer) return;
    const wait = this.last + this.interval - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => { this.timer = 0; this.pump(); }, wait);
      return;
    }
    this.wanted = false;
    this.busy = true;
    this.last = this.now();
    Promise.resolve(this.run()).finally(() => { this.busy = false; this.pump(); });
  }
}

// INK is the darkest grey (0 … 255 luminance) the server still counts as
// background on a white pad (server/probe_input.go: ink above 0.1).
const INK = 0.9 * 255;

// hasInk reports whether RGBA pixels (a white pad's) hold a pixel the
// server counts as ink: a pad without one is blank, and is not sent.
export function hasInk(rgba) {
  for (let i = 0; i < rgba.length; i += 4) {
    if (0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2] < INK) return true;
  }
  return false;
}

// classOptions are the label menu's options: [value, text] per class.
export function classOptions(classes) {
  return (classes || []).map((name, k) => [String(k), name === String(k) ? name : `${k} · ${name}`]);
}

export function installDrawPad(app) {
  const box = $('own-input');
  if (!box) return;
  const pad = $('draw-pad');
  const ctx = pad.getContext('2d');
  const label = $('draw-label');
  const clear = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let inked = false;

  const sync = () => {
    box.hidden = app.wsPath.startsWith('/ws/room/') && !(app.room && app.room.role === 'owner');
  };
  sync();
  document.addEventListener('bpv:message', (ev) => {
    sync();
    // a room's teacher drew: every page of the room shows it
    if (ev.detail && ev.detail.type === 'probe') showProbe();
  });
  document.addEventListener('bpv:welcome', (ev) => {
    const opts = classOptions(ev.detail.classes);
    const keep = label.value;
    label.replaceChildren(...opts.map(([v, text]) => {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = text;
      return o;
    }));
    if (opts.some(([v]) => v === keep)) label.value = keep;
  });

  // showProbe makes the page show the probe image.
  const showProbe = () => {
    const sample = $('sample');
    if (sample.value !== 'probe') {
      sample.value = 'probe';
      sample.dispatchEvent(new Event('change'));
    }
  };

  // send posts an image (a Blob) as the probe, then shows the probe.
  const send = async (blob) => {
    const q = request(app, '/probe', `label=${encodeURIComponent(label.value || '0')}`);
    if (!q) { showAlert('Not connected yet: try again in a moment.', 'error'); return; }
    const t0 = performance.now();
    let resp;
    try {
      resp = await fetch(q.url, { method: 'POST', body: blob, headers: q.headers });
    } catch (err) {
      showAlert(`The image could not be sent: ${err.message}`, 'error');
      return;
    }
    if (!resp.ok) {
      const body = await resp.json().catch(() => null);
      showAlert((body && body.error) || 'The image was refused.', 'error');
      return;
    }
    document.body.dataset.probeAnsweredMs = (performance.now() - t0).toFixed(1);
    hideAlert();
    showProbe();
  };
  const padBlob = () => new Promise((resolve) => pad.toBlob(resolve, 'image/png'));
  // a blank pad is not sent (the server would refuse it): a hint says why
  const hint = (text) => { if ($('draw-hint').textContent !== text) $('draw-hint').textContent = text; };
  const throttle = new Throttle(SEND_MS, async () => {
    if (!inked) return;
    if (!hasInk(ctx.getImageData(0, 0, pad.width, pad.height).data)) {
      hint('The pad is still blank: draw a stroke (or take a bigger brush) for the network to see.');
      return;
    }
    hint('');
    await send(await padBlob());
  });

  let last = null;
  const point = (ev) => {
    const r = pad.getBoundingClientRect();
    return [(ev.clientX - r.left) * pad.width / r.width, (ev.clientY - r.top) * pad.height / r.height];
  };
  // a tap is a dot (a stroke of no length draws nothing)
  const dot = (at) => {
    ctx.fillStyle = '#000';
    ctx.beginPath();
    ctx.arc(at[0], at[1], Number($('draw-brush').value) / 2, 0, 2 * Math.PI);
    ctx.fill();
    inked = true;
  };
  const stroke = (from, to) => {
    ctx.strokeStyle = '#000';
    ctx.fillStyle = '#000';
    ctx.lineWidth = Number($('draw-brush').value);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    inked = true;
  };
  pad.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    pad.setPointerCapture(ev.pointerId);
    last = point(ev);
    dot(last);
    throttle.ask();
  });
  pad.addEventListener('pointermove', (ev) => {
    if (!last) return;
    const p = point(ev);
    stroke(last, p);
    last = p;
    throttle.ask();
  });
  const end = () => {
    if (!last) return;
    last = null;
    throttle.ask();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('draw-clear').addEventListener('click', () => { clear(); inked = false; hint(''); });

  const upload = $('upload-input');
  upload.addEventListener('change', () => {
    const file = upload.files && upload.files[0];
    upload.value = '';
    if (file) send(file);
  });
}
