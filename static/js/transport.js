// transport.js — the websocket to the server: JSON messages out and in,
// binary trace frames in, decoded by frame.js (docs/protocol.md, version 1).
// It touches no DOM.

import { VOCAB } from './vocab.js';
import { decodeFrame } from './frame.js';

// A resume token is kept in the history entry of the page (history.state,
// under key): a reload, or Back to the entry without the browser's
// back-forward cache, resumes that entry's session, never the session of
// another lab the tab opened since (all of a tab's entries share its
// sessionStorage). loadToken reads it ('' if none, or without a history).
function loadToken(key) {
  if (!key || typeof history === 'undefined') return '';
  const st = history.state;
  return (st && typeof st === 'object' && typeof st[key] === 'string') ? st[key] : '';
}

function storeToken(key, token) {
  if (!key || typeof history === 'undefined') return;
  const st = (history.state && typeof history.state === 'object') ? { ...history.state } : {};
  if (token) st[key] = token;
  else delete st[key];
  try { history.replaceState(st, ''); } catch { /* the token lives in memory only */ }
}

// HEARTBEAT_MS is how often an open websocket sends a ping: the server
// hears from the page even while a large message to it takes a slow link
// longer than its keep-alive (docs/protocol.md, "Flow control").
export const HEARTBEAT_MS = 20000;

// RETRY_BASE_MS and RETRY_MAX_MS bound the delays between reconnections.
export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 10000;

// reconnectDelay is the wait before reconnection attempt retry (0, 1, …):
// a delay that doubles from RETRY_BASE_MS up to RETRY_MAX_MS, of which a
// random part (the upper half) is drawn with random(), a function giving
// [0, 1), so that the pages of a class that lost their server do not all
// come back at the same moment.
export function reconnectDelay(retry, random = Math.random) {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(retry, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

// Transport owns one websocket. Callbacks: onJSON(msg), onFrame(frame),
// onStatus(text, connected). It reconnects with growing, jittered delays
// (reconnectDelay), resuming the session with the token of the last
// welcome. It acknowledges every trace frame ("received", the server then
// paces frames to the link), sends a heartbeat ping every HEARTBEAT_MS,
// and asks for no frames while setFrames(false) (a hidden tab). Options:
// storeKey, the key in the history entry's state that also keeps the
// token, so a reloaded page resumes its session ('' keeps it in memory only); resume:
// false starts a new session even if a token is stored; frames: false
// starts without frames.
// resumeProtocols are the websocket subprotocols that carry a resume token
// (docs/protocol.md): the protocol the server answers with, then the token;
// null when there is no token or it is not a subprotocol's characters.
export function resumeProtocols(token) {
  return token && /^[A-Za-z0-9_-]+$/.test(token) ? ['bpv.1', `bpv.resume.${token}`] : null;
}

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
    this.frames = opts.frames !== false; // whether the page wants frames
    this.heartbeat = 0; // the interval timer of the open websocket
  }

  connect() {
    let url = this.url;
    // the resume token goes in a subprotocol, out of the address (which
    // the console prints when a connection fails)
    const protocols = resumeProtocols(this.resume);
    if (this.resume && !protocols) url += (url.includes('?') ? '&' : '?') + `resume=${encodeURIComponent(this.resume)}`;
    // a reconnection only resumes: the server refuses it rather than start a
    // fresh session behind the user's back
    if (this.resume && this.opened) url += (url.includes('?') ? '&' : '?') + 'reconnect=1';
    let welcomed = false;
    url += (url.includes('?') ? '&' : '?') + 'acks=1';
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.opened = true;
      // 'connected' once the server has welcomed the page: until then it
      // may still refuse it (a session that has ended, a limit)
      this.h.onStatus?.('connecting…', false);
      if (!this.frames) this.send({ type: 'frames', send: false });
      for (const m of this.pending.splice(0)) ws.send(m);
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN) this.send({ type: 'ping' });
      }, HEARTBEAT_MS);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        if (msg.type === 'welcome') {
          if (!welcomed) this.h.onStatus?.('connected', true);
          welcomed = true;
          this.setResume(msg.resume || '');
        }
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
        this.received(ws, null);
        this.h.onStatus?.(String(err.message || err), true);
        return;
      }
      this.received(ws, frame.header.seq);
      this.h.onFrame?.(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearInterval(this.heartbeat);
      if (this.closed) { this.h.onStatus?.('closed', false); return; }
      this.h.onStatus?.('disconnected — reconnecting…', false);
      const delay = reconnectDelay(this.retry++);
      setTimeout(() => { if (!this.closed) this.connect(); }, delay);
    };
  }

  // received acknowledges a trace frame (seq null: one that did not decode).
  received(ws, seq) {
    if (ws.readyState !== WebSocket.OPEN) return;
    const msg = { type: 'received', v: VOCAB.protocolVersion };
    if (Number.isInteger(seq)) msg.seq = seq;
    ws.send(JSON.stringify(msg));
  }

  // setFrames asks the server for trace frames (on: true, answered with a
  // keyframe) or for none (a hidden tab); a reconnection asks again.
  setFrames(on) {
    if (this.frames === on) return;
    this.frames = on;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send({ type: 'frames', send: on });
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

  // suspend closes the websocket while the page is put away (pagehide: a
  // navigation to another page, perhaps into the browser's back-forward
  // cache), so the session it leaves has no page and makes room for the
  // next; wake, when the page is shown again from that cache, connects
  // again and resumes the session (if it is still kept).
  suspend() {
    if (this.closed) return;
    this.suspended = true;
    clearInterval(this.heartbeat);
    const ws = this.ws;
    this.ws = null; // its onclose is then not a lost connection
    if (ws) ws.close(1000, 'page put away');
    // a page shown again from the cache never says 'connected' before it is
    this.h.onStatus?.('disconnected — reconnecting…', false);
  }

  wake() {
    if (!this.suspended || this.closed) return;
    this.suspended = false;
    this.connect();
  }

  close() {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.ws) this.ws.close();
  }
}
