// Trace frames built byte by byte as docs/protocol.md describes them, and
// decoded by the page's decoder (static/js/frame.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decodeFrame, encodeFrame } from '../static/js/frame.js';
import { FRAME_MAGIC } from '../static/js/vocab.js';

// buildFrame writes a frame as the server does: "BPV1", the header length H
// as a little-endian uint32, the JSON header padded with spaces so that 8+H
// is a multiple of 4, then each tensor's bytes at a multiple of 4 from the
// start of the payload. tensors are {entry, bytes}: the entry of the header
// without offset and length, and the tensor's bytes.
function buildFrame(header, tensors) {
  const entries = [];
  let off = 0;
  for (const { entry, bytes } of tensors) {
    entries.push({ ...entry, offset: off, length: bytes.length });
    off += Math.ceil(bytes.length / 4) * 4;
  }
  const text = JSON.stringify({ ...header, tensors: entries });
  const pad = (4 - ((8 + new TextEncoder().encode(text).length) % 4)) % 4;
  const json = new TextEncoder().encode(text + ' '.repeat(pad));
  assert.equal((8 + json.length) % 4, 0);
  const out = new Uint8Array(8 + json.length + off);
  out.set([0x42, 0x50, 0x56, 0x31], 0); // "BPV1"
  const h = json.length;
  out.set([h & 255, (h >> 8) & 255, (h >> 16) & 255, (h >>> 24) & 255], 4);
  out.set(json, 8);
  tensors.forEach(({ bytes }, i) => out.set(bytes, 8 + h + entries[i].offset));
  return out.buffer;
}

// f32 writes values as little-endian float32 bytes.
function f32(values) {
  const b = new Uint8Array(4 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return b;
}

// i32 writes values as little-endian int32 bytes.
function i32(values) {
  const b = new Uint8Array(4 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setInt32(4 * i, v, true));
  return b;
}

// q8 writes values as signed bytes.
function q8(values) {
  return Uint8Array.from(values, (v) => v & 255);
}

const header = { seq: 12, step: 412, epoch: 0, keyframe: false, exact: true, probe: false, sample: 0, index: 5123, label: 7 };

test('the magic is "BPV1" read as a little-endian uint32', () => {
  assert.equal(FRAME_MAGIC, new DataView(new Uint8Array([0x42, 0x50, 0x56, 0x31]).buffer).getUint32(0, true));
});

test('a header without tensors', () => {
  const f = decodeFrame(buildFrame(header, []));
  assert.equal(f.header.seq, 12);
  assert.equal(f.header.step, 412);
  assert.equal(f.header.label, 7);
  assert.equal(f.tensors.size, 0);
});

test('f32, i32 and q8 tensors', () => {
  const buf = buildFrame({ ...header, exact: false }, [
    { entry: { layer: 0, kind: 'act', shape: [1, 2, 2], enc: 'f32', min: -2, max: 3.5, nonfinite: 1, stats: { p99abs: 3.5, lin: 0.1 }, maps: [{ min: -2, max: 3.5, p99abs: 3.5, lin: 0.1 }] }, bytes: f32([0.1, -2, NaN, 3.5]) },
    { entry: { layer: 1, kind: 'switch', shape: [1, 1, 2], enc: 'i32', min: 0, max: 3 }, bytes: i32([3, 0]) },
    // three bytes: the next tensor starts at the next multiple of 4
    { entry: { layer: 2, kind: 'grad', shape: [3], enc: 'q8', scale: 0.5, min: -0.5, max: 0.5 }, bytes: q8([127, -127, 0]) },
    { entry: { layer: 2, kind: 'weights', shape: [2], enc: 'f32', min: 1, max: 2 }, bytes: f32([1, 2]) },
  ]);
  const f = decodeFrame(buf);
  assert.equal(f.header.exact, false);
  const act = f.tensors.get('0:act');
  assert.ok(act.data instanceof Float32Array);
  assert.deepEqual([...act.data].map(String), [String(Math.fround(0.1)), '-2', 'NaN', '3.5']);
  assert.deepEqual(act.shape, [1, 2, 2]);
  assert.equal(act.enc, 'f32');
  assert.equal(act.channels, null);
  assert.equal(act.min, -2);
  assert.equal(act.max, 3.5);
  assert.equal(act.nonfinite, 1);
  // the colour scale's statistics of the whole tensor and of each map
  assert.deepEqual(act.stats, { p99abs: 3.5, lin: 0.1 });
  assert.deepEqual(act.maps, [{ min: -2, max: 3.5, p99abs: 3.5, lin: 0.1 }]);
  assert.deepEqual(act.flat, []);
  const sw = f.tensors.get('1:switch');
  assert.ok(sw.data instanceof Int32Array);
  assert.deepEqual([...sw.data], [3, 0]);
  assert.equal(sw.nonfinite, 0);
  assert.equal(sw.stats, null);
  assert.equal(sw.maps, null);
  const g = f.tensors.get('2:grad');
  assert.ok(g.data instanceof Float32Array);
  assert.deepEqual([...g.data], [0.5, -0.5, 0]); // q/127 · scale
  assert.equal(g.scale, 0.5);
  assert.deepEqual([...f.tensors.get('2:weights').data], [1, 2]);
});

test('q8 keeps the sign and the scale of every byte', () => {
  const qs = [-128, -127, -64, -1, 0, 1, 64, 127];
  const f = decodeFrame(buildFrame(header, [
    { entry: { layer: 0, kind: 'grad', shape: [qs.length], enc: 'q8', scale: 2.54 }, bytes: q8(qs) },
  ]));
  const got = [...f.tensors.get('0:grad').data];
  qs.forEach((q, i) => assert.equal(got[i], Math.fround(q * (2.54 / 127)), `q = ${q}`));
});

test('a tensor cut to channels [from, to) starts at channel from', () => {
  const f = decodeFrame(buildFrame(header, [
    { entry: { layer: 3, kind: 'act', shape: [2, 1, 2], channels: [2, 4], enc: 'f32', min: -9, max: 9 }, bytes: f32([2, 2.5, 3, 3.5]) },
  ]));
  const t = f.tensors.get('3:act');
  assert.deepEqual(t.channels, [2, 4]);
  assert.deepEqual([...t.data], [2, 2.5, 3, 3.5]);
  // the extremes are the whole tensor's, not those of the channels carried
  assert.equal(t.min, -9);
  assert.equal(t.max, 9);
});

test('a payload that starts off a multiple of 4 is read from a copy', () => {
  // encodeFrame does not pad its header: the payload may start anywhere
  for (let n = 0; n < 4; n++) {
    const buf = encodeFrame({ seq: 1, note: 'x'.repeat(n), tensors: [
      { layer: 0, kind: 'act', shape: [3], enc: 'f32' },
      { layer: 1, kind: 'switch', shape: [2], enc: 'i32' },
    ] }, [new Float32Array([1.5, -0, 7]), new Int32Array([-1, 5])]);
    const f = decodeFrame(buf);
    assert.deepEqual([...f.tensors.get('0:act').data], [1.5, -0, 7]);
    assert.deepEqual([...f.tensors.get('1:switch').data], [-1, 5]);
  }
});

test('encodeFrame and decodeFrame are inverses', () => {
  const buf = encodeFrame({ seq: 9, exact: false, tensors: [
    { layer: 0, kind: 'act', shape: [1, 2, 2], enc: 'f32' },
    { layer: 1, kind: 'switch', shape: [1, 1, 2], enc: 'i32' },
    { layer: 2, kind: 'grad', shape: [3], enc: 'q8', scale: 0.5 },
  ] }, [new Float32Array([0.1, -2, NaN, 3.5]), new Int32Array([3, 0]), new Int8Array([127, -127, 0])]);
  const f = decodeFrame(buf);
  assert.equal(f.header.seq, 9);
  assert.deepEqual([...f.tensors.get('0:act').data].map(String), [String(Math.fround(0.1)), '-2', 'NaN', '3.5']);
  assert.deepEqual([...f.tensors.get('1:switch').data], [3, 0]);
  assert.deepEqual([...f.tensors.get('2:grad').data], [0.5, -0.5, 0]);
});

test('malformed frames are refused', () => {
  const good = { entry: { layer: 0, kind: 'act', shape: [2], enc: 'f32' }, bytes: f32([1, 2]) };
  const cases = [
    ['not an ArrayBuffer', new Uint8Array(12), /not an ArrayBuffer/],
    ['shorter than 8 bytes', new ArrayBuffer(7), /shorter than 8 bytes/],
    ['a bad magic', new ArrayBuffer(12), /bad magic/],
    ['a header past the end', (() => {
      const b = new Uint8Array(buildFrame(header, []));
      new DataView(b.buffer).setUint32(4, b.length, true);
      return b.buffer;
    })(), /header past the end/],
    ['a length that disagrees with the shape', buildFrame(header, [
      { entry: { layer: 0, kind: 'act', shape: [3], enc: 'f32' }, bytes: f32([1, 2]) },
    ]), /length 8, want 12/],
    ['a tensor past the end', buildFrame(header, [
      { entry: { layer: 0, kind: 'act', shape: [4], enc: 'f32' }, bytes: f32([1, 2, 3, 4]) },
    ]).slice(0, -4), /within the frame/],
    ['an unknown encoding', buildFrame(header, [
      { entry: { layer: 0, kind: 'act', shape: [2], enc: 'f64' }, bytes: f32([1, 2]) },
    ]), /unknown encoding f64/],
    ['channels that disagree with the shape', buildFrame(header, [
      { entry: { layer: 3, kind: 'act', shape: [2, 1, 2], channels: [0, 3], enc: 'f32' }, bytes: f32([1, 2, 3, 4]) },
    ]), /channels \[0,3\] do not match/],
    ['channels of a tensor that is not a stack of maps', buildFrame(header, [
      { ...good, entry: { ...good.entry, channels: [0, 2] } },
    ]), /do not match its shape/],
  ];
  for (const [name, buf, want] of cases) {
    assert.throws(() => decodeFrame(buf), want, name);
  }
});
