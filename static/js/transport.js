// transport.js — the websocket to the server: JSON messages out and in,
// binary trace frames in, decoded by frame.js (docs/protocol.md, version 1).
// It touches no DOM.

import { VOCAB } from './vocab.js';
import { decodeFrame } from './frame.js';

// loadToken reads a resume token kept in sessionStorage ('' if none, or if
// the browser keeps no storage).
function loadToken(key) {
  if (!key) return '';
  try { return sessionStorage.getItem(key) || ''; } catch { return ''; }
}

function storeToken(key, token) {
  if (!key) return;
  try {
    if (token) sessionStorage.setItem(key, token);
    else sessionStorage.removeItem(key);
  } catch { /* no storage: the token lives in memory only */ }
}

// Transport owns one websocket. Callbacks: onJSON(msg), onFrame(frame),
// onStatus(text, connected). It reconnects with growing delays, resuming the
// session with the token of the last welcome. Options: storeKey, the
// sessionStorage key (per tab) that also keeps the token, so a reloaded tab
// resumes its session ('' keeps it in memory only); resume: false starts a
// new session even if a token is stored.
export class Transport {
  constructor(url, handlers, opts = {}) {
    this.url = url;
    this.h = handlers;
    this.ws = null;
    this.nextID = 1;
    this.storeKey = opts.storeKey || '';
    this.resume = opts.resume === false ? '' : loadToken(this.storeKey);
    this.retry = 0;
    this.opened = false; // a connection has opened: later ones are reconnections
    this.closed = false;
    this.pending = [];
  }

  connect() {
    let url = this.url;
    if (this.resume) url += (url.includes('?') ? '&' : '?') + `resume=${encodeURIComponent(this.resume)}`;
    // a reconnection only resumes: the server refuses it rather than start a
    // fresh session behind the user's back
    if (this.resume && this.opened) url += '&reconnect=1';
    let welcomed = false;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.opened = true;
      this.h.onStatus?.('connected', true);
      for (const m of this.pending.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        if (msg.type === 'welcome') { welcomed = true; this.setResume(msg.resume || ''); }
        // an error before the welcome is a refusal (a limit, a room or
        // session that has ended): said once, and no reconnecting in a loop
        if (msg.type === 'error' && !welcomed) { msg.refusal = true; this.closed = true; }
        // the server ended this page's own session (idle, evicted): a new
        // one is started by the user, never by reconnecting
        if (msg.type === 'bye' && this.resume) this.closed = true;
        this.h.onJSON?.(msg);
        return;
      }
      let frame;
      try { frame = decodeFrame(ev.data); } catch (err) {
        this.h.onStatus?.(String(err.message || err), true);
        return;
      }
      this.h.onFrame?.(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      if (this.closed) { this.h.onStatus?.('closed', false); return; }
      this.h.onStatus?.('disconnected — reconnecting…', false);
      const delay = Math.min(10000, 500 * 2 ** this.retry++);
      setTimeout(() => { if (!this.closed) this.connect(); }, delay);
    };
  }

  // send queues or sends one JSON message, adding the protocol version and an
  // id; it returns the id.
  send(msg) {
    const id = this.nextID++;
    const text = JSON.stringify({ v: VOCAB.protocolVersion, id, ...msg });
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.pending.push(text);
    return id;
  }

  // cmd sends a command with its arguments, e.g. cmd('set', {lr: 0.01}).
  cmd(name, args) {
    return this.send({ type: 'cmd', cmd: name, ...(args || {}) });
  }

  // setResume keeps the token that resumes the session ('' for none).
  setResume(token) {
    this.resume = token;
    storeToken(this.storeKey, token);
  }

  // reopen drops the session and starts a new one at a new URL.
  reopen(url) {
    this.url = url;
    this.setResume('');
    const old = this.ws;
    this.ws = null;
    if (old) old.close();
    this.connect();
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
