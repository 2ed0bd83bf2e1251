// frame.js — the binary trace frames of the protocol (docs/protocol.md,
// "Trace frames"): the decoder the page reads them with, and an encoder for
// tests. Pure: no DOM, no state.

import { FRAME_MAGIC } from './vocab.js';

// decodeFrame turns one binary trace frame into
//   {header, tensors: Map("layer:kind" → tensor)}
// where each tensor is {layer, kind, shape, channels, enc, data, min, max,
// scale, nonfinite}: data is a Float32Array (f32 and q8, q8 expanded to
// q/127·scale) or an Int32Array (i32 switches). channels is [from, to) when
// the tensor was cut to those channels of a (C, H, W) stack of maps: shape is
// then (to − from, H, W) and data[0] is channel from's first value; it is
// null for a whole tensor. min, max, nonfinite and scale are always the whole
// tensor's, and so are stats ({p99abs, lin}: the colour scale's percentiles,
// null for switches); flat lists the maps of one value ({map, value}, maps
// counted from the first carried), maps each carried map's {min, max,
// p99abs, lin} when the subscription asked (else null). It throws on a
// malformed frame.
export function decodeFrame(buf) {
  if (!(buf instanceof ArrayBuffer)) throw new Error('trace frame: not an ArrayBuffer');
  if (buf.byteLength < 8) throw new Error('trace frame: shorter than 8 bytes');
  const dv = new DataView(buf);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) throw new Error('trace frame: bad magic');
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
      stats: t.stats || null, flat: t.flat || [], maps: t.maps || null,
    });
  }
  return { header, tensors };
}

// encodeFrame builds a frame from a header and typed arrays; the inverse of
// decodeFrame, for tests. (The server pads its header so that the payload
// starts at a multiple of 4; this encoder does not, and the decoder reads
// both.)
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
  dv.setUint32(0, FRAME_MAGIC, true);
  dv.setUint32(4, h.length, true);
  out.set(h, 8);
  for (const [o, b] of parts) out.set(b, 8 + h.length + o);
  return out.buffer;
}
