// transport.js — the websocket to the server and the decoder of its binary
// trace frames (docs/protocol.md, version 1). It touches no DOM.

export const PROTOCOL_VERSION = 1;
const MAGIC = 0x31565042; // "BPV1" read as a little-endian uint32

// decodeFrame turns one binary trace frame into
//   {header, tensors: Map("layer:kind" → tensor)}
// where each tensor is {layer, kind, shape, channels, enc, data, min, max,
// scale, nonfinite}: data is a Float32Array (f32 and q8, q8 expanded to
// q/127·scale) or an Int32Array (i32 switches). channels is [from, to) when
// the tensor was cut to those channels of a (C, H, W) stack of maps: shape is
// then (to − from, H, W) and data[0] is channel from's first value; it is
// null for a whole tensor. min, max, nonfinite and scale are always the whole
// tensor's. It throws on a malformed frame.
export function decodeFrame(buf) {
  if (!(buf instanceof ArrayBuffer)) throw new Error('trace frame: not an ArrayBuffer');
  if (buf.byteLength < 8) throw new Error('trace frame: shorter than 8 bytes');
  const dv = new DataView(buf);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('trace frame: bad magic');
  const hlen = dv.getUint32(4, true);
  if (8 + hlen > buf.byteLength) throw new Error('trace frame: header past the end');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, hlen)));
  const base = 8 + hlen;
  const tensors = new Map();
  for (const t of header.tensors || []) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const start = base + t.offset;
    const width = t.enc === 'q8' ? 1 : 4;
    if (t.length !== count * width || start + t.length > buf.byteLength) {
      throw new Error(`trace frame: tensor ${t.layer}:${t.kind} length ${t.length}, want ${count * width} within the frame`);
    }
    let data;
    switch (t.enc) {
      case 'f32':
        data = start % 4 === 0 ? new Float32Array(buf, start, count) : new Float32Array(buf.slice(start, start + t.length));
        break;
      case 'i32':
        data = start % 4 === 0 ? new Int32Array(buf, start, count) : new Int32Array(buf.slice(start, start + t.length));
        break;
      case 'q8': {
        const q = new Int8Array(buf, start, count);
        const s = (t.scale || 0) / 127;
        data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = q[i] * s;
        break;
      }
      default:
        throw new Error(`trace frame: unknown encoding ${t.enc}`);
    }
    let channels = null;
    if (t.channels !== undefined && t.channels !== null) {
      const [from, to] = t.channels;
      if (t.shape.length !== 3 || !Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to - from !== t.shape[0]) {
        throw new Error(`trace frame: tensor ${t.layer}:${t.kind} channels ${JSON.stringify(t.channels)} do not match its shape ${JSON.stringify(t.shape)}`);
      }
      channels = [from, to];
    }
    tensors.set(`${t.layer}:${t.kind}`, {
      layer: t.layer, kind: t.kind, shape: t.shape, channels, enc: t.enc, data,
      min: t.min, max: t.max, scale: t.scale, nonfinite: t.nonfinite || 0,
    });
  }
  return { header, tensors };
}

// encodeFrame builds a frame from a header and typed arrays; the inverse of
// decodeFrame, used by tests of the decoder and the renderer.
export function encodeFrame(header, arrays) {
  const parts = [];
  let off = 0;
  const tensors = header.tensors.map((t, i) => {
    const a = arrays[i];
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const e = { ...t, offset: off, length: bytes.length };
    parts.push([off, bytes]);
    off += Math.ceil(bytes.length / 4) * 4;
    return e;
  });
  const h = new TextEncoder().encode(JSON.stringify({ ...header, tensors }));
  const out = new Uint8Array(8 + h.length + off);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, h.length, true);
  out.set(h, 8);
  for (const [o, b] of parts) out.set(b, 8 + h.length + o);
  return out.buffer;
}

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
    this.closed = false;
    this.pending = [];
  }

  connect() {
    let url = this.url;
    if (this.resume) url += (url.includes('?') ? '&' : '?') + `resume=${encodeURIComponent(this.resume)}`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.h.onStatus?.('connected', true);
      for (const m of this.pending.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        if (msg.type === 'welcome') this.setResume(msg.resume || '');
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
      this.h.onStatus?.('disconnected — reconnecting…', false);
      if (this.closed) return;
      const delay = Math.min(10000, 500 * 2 ** this.retry++);
      setTimeout(() => { if (!this.closed) this.connect(); }, delay);
    };
  }

  // send queues or sends one JSON message, adding the protocol version and an
  // id; it returns the id.
  send(msg) {
    const id = this.nextID++;
    const text = JSON.stringify({ v: PROTOCOL_VERSION, id, ...msg });
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
