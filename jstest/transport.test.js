// The websocket transport (static/js/transport.js): reconnection delays with
// jitter, frame acknowledgements, the heartbeat and frames off for a hidden
// tab, against a stand-in WebSocket.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Transport, reconnectDelay, RETRY_BASE_MS, RETRY_MAX_MS, HEARTBEAT_MS } from '../static/js/transport.js';
import { encodeFrame } from '../static/js/frame.js';
import { VOCAB } from '../static/js/vocab.js';

test('reconnectDelay doubles up to the maximum, with its upper half drawn at random', () => {
  for (let retry = 0; retry < 40; retry++) {
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** retry);
    assert.equal(reconnectDelay(retry, () => 0), ceiling / 2, `retry ${retry}, random 0`);
    const top = reconnectDelay(retry, () => 0.999999);
    assert.ok(top < ceiling && top > ceiling * 0.99, `retry ${retry}: ${top}, ceiling ${ceiling}`);
  }
  assert.equal(reconnectDelay(0, () => 0.5), RETRY_BASE_MS * 0.75);
  assert.equal(reconnectDelay(100, () => 0), RETRY_MAX_MS / 2);
});

test('reconnectDelay spreads the pages of a class over the interval', () => {
  const delays = Array.from({ length: 200 }, () => reconnectDelay(5));
  const lo = Math.min(...delays);
  const hi = Math.max(...delays);
  assert.ok(lo >= RETRY_MAX_MS / 2 && hi < RETRY_MAX_MS, `${lo} … ${hi}`);
  assert.ok(hi - lo > RETRY_MAX_MS / 4, `200 draws span only ${lo} … ${hi}`);
  assert.ok(new Set(delays).size > 150, 'the draws repeat');
});

// FakeSocket stands in for the browser's WebSocket.
class FakeSocket {
  static OPEN = 1;
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; this.onclose?.(); }
  open() { this.readyState = FakeSocket.OPEN; this.onopen?.(); }
}

function withFakes(fn) {
  const saved = { ws: globalThis.WebSocket, si: globalThis.setInterval, ci: globalThis.clearInterval };
  const timers = [];
  globalThis.WebSocket = FakeSocket;
  globalThis.setInterval = (f, ms) => { timers.push({ f, ms, on: true }); return timers.length; };
  globalThis.clearInterval = (id) => { if (id) timers[id - 1].on = false; };
  FakeSocket.all = [];
  try { return fn(timers); } finally {
    globalThis.WebSocket = saved.ws;
    globalThis.setInterval = saved.si;
    globalThis.clearInterval = saved.ci;
  }
}

test('the transport asks for acknowledged frames and acknowledges each one', () => withFakes(() => {
  const frames = [];
  const t = new Transport('ws://h/ws?seed=1', { onFrame: (f) => frames.push(f) });
  t.connect();
  const ws = FakeSocket.all[0];
  assert.equal(ws.url, 'ws://h/ws?seed=1&acks=1');
  ws.open();
  const header = { seq: 41, tensors: [] };
  ws.onmessage({ data: encodeFrame(header, []) });
  ws.onmessage({ data: new ArrayBuffer(3) }); // malformed: acknowledged all the same
  assert.equal(frames.length, 1);
  assert.deepEqual(ws.sent, [{ type: 'received', v: VOCAB.protocolVersion, seq: 41 }, { type: 'received', v: VOCAB.protocolVersion }]);
}));

test('the heartbeat pings while the websocket is open', () => withFakes((timers) => {
  const t = new Transport('ws://h/ws', {});
  t.connect();
  const ws = FakeSocket.all[0];
  ws.open();
  const beat = timers.find((x) => x.on);
  assert.equal(beat.ms, HEARTBEAT_MS);
  beat.f();
  beat.f();
  assert.deepEqual(ws.sent.map((m) => m.type), ['ping', 'ping']);
  t.close();
  assert.ok(!beat.on, 'the heartbeat goes on after close');
}));

test('a hidden page turns its frames off, also after reconnecting', () => withFakes(() => {
  const t = new Transport('ws://h/ws', {}, { frames: false });
  t.connect();
  const ws = FakeSocket.all[0];
  ws.open();
  assert.deepEqual(ws.sent.map((m) => [m.type, m.send]), [['frames', false]]);
  t.setFrames(true);
  t.setFrames(true); // no change: nothing sent
  t.setFrames(false);
  assert.deepEqual(ws.sent.map((m) => [m.type, m.send]), [['frames', false], ['frames', true], ['frames', false]]);
  t.connect(); // a reconnection
  const ws2 = FakeSocket.all[1];
  ws2.open();
  assert.deepEqual(ws2.sent.map((m) => [m.type, m.send]), [['frames', false]]);
}));

test('a page is connected once welcomed; put away, not until it is woken and welcomed again', () => withFakes(() => {
  const status = [];
  const t = new Transport('ws://h/ws', { onStatus: (text, ok) => status.push([text, ok]) });
  t.connect();
  FakeSocket.all[0].open();
  FakeSocket.all[0].onmessage({ data: JSON.stringify({ type: 'welcome', resume: 'abc' }) });
  assert.deepEqual(status.at(-1), ['connected', true]);
  t.suspend();
  assert.equal(FakeSocket.all[0].readyState, 3);
  assert.deepEqual(status.at(-1), ['disconnected — reconnecting…', false]);
  t.wake();
  assert.equal(FakeSocket.all.length, 2);
  assert.deepEqual(status.at(-1), ['disconnected — reconnecting…', false]);
  FakeSocket.all[1].open();
  assert.deepEqual(status.at(-1), ['connecting…', false]);
  FakeSocket.all[1].onmessage({ data: JSON.stringify({ type: 'welcome', resume: 'abc' }) });
  assert.deepEqual(status.at(-1), ['connected', true]);
}));

test('the transport sends only the protocol\'s client message types', () => withFakes((timers) => {
  const t = new Transport('ws://h/ws', {}, { frames: false });
  t.connect();
  const ws = FakeSocket.all[0];
  ws.open();
  timers[0].f();
  ws.onmessage({ data: encodeFrame({ seq: 1, tensors: [] }, []) });
  for (const m of ws.sent) assert.ok(VOCAB.clientTypes.includes(m.type), m.type);
}));

test('a resume token travels in a websocket subprotocol', async () => {
  const { resumeProtocols } = await import('../static/js/transport.js');
  assert.deepEqual(resumeProtocols('0af3'), ['bpv.1', 'bpv.resume.0af3']);
  assert.equal(resumeProtocols(''), null);
  assert.equal(resumeProtocols('a b'), null, 'not a subprotocol: the address carries it');
});
