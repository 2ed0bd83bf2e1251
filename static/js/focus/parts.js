// parts.js — what the layer focus view shows for a layer: its input X, its
// output Y, δ = dL/dY and dL/dX; for conv and dense layers W, dL/dW two
// ways (this sample's share and the batch mean) and ΔW, with their biases;
// for the loss the logits, the probabilities and dL/dz. Channels are shown
// a page at a time. Pure: no DOM, no state.

// PAGE is how many channels (or filters, or outputs) a page shows.
export const PAGE = 4;

// focusTargets lists the layers a focus view can show: every layer, then
// the loss (index = the number of layers).
export function focusTargets(welcome) {
  const layers = (welcome && welcome.layers) || [];
  return [...layers.map((L, i) => ({ index: i, name: L.name || `${L.kind} ${i}`, kind: L.kind })),
    { index: layers.length, name: 'loss', kind: 'loss' }];
}

// activeTarget is the layer of a phase ({kind, layer}, as state.done): the
// layer of a forward or backward phase, the loss after the loss phase;
// null for the update and before the first phase (the view stays).
export function activeTarget(welcome, done) {
  if (!done || !welcome) return null;
  const L = (welcome.layers || []).length;
  if (done.kind === 'forward' || done.kind === 'backward') return done.layer >= 0 && done.layer < L ? done.layer : null;
  if (done.kind === 'loss') return L;
  return null;
}

// channels is the number of maps of a (C, H, W) shape (0 for a vector).
const channels = (s) => (s && s.length === 3 ? s[0] : 0);

// pageRange is the half-open range [from, to) of page p of n items.
export function pageRange(p, n) {
  const pages = Math.max(1, Math.ceil(n / PAGE));
  const q = Math.max(0, Math.min(pages - 1, p));
  return [q * PAGE, Math.min(n, (q + 1) * PAGE)];
}

// pageCount is the number of pages of n items.
export function pageCount(n) {
  return Math.max(1, Math.ceil(n / PAGE));
}

// focusParts describes the focus view of target i of welcome: {name, kind,
// inCount, outCount (channels, filters or outputs paged), maps, params,
// loss}. maps are blocks {key, title, layer, kind, style, shape, axis}:
// axis "in" or "out" says which page selects its channels ("none": a
// vector, shown whole). params are blocks {key, title, layer, kind, tile,
// bias} of a parameter: tile {rows, cols, h, w, offset(r, c)} lays out
// W[r, c] for r of the out page and c of the in page; bias is the kind of
// the matching bias vector.
export function focusParts(welcome, i) {
  const layers = welcome.layers || [];
  const L = layers.length;
  if (i === L) {
    const last = layers[L - 1];
    const K = (last.out_shape || [0])[0];
    return {
      name: 'loss', kind: 'loss', inCount: 0, outCount: 0, loss: true, params: [],
      maps: [
        { key: 'z', title: `z = Y of ${last.name} (logits)`, layer: L - 1, kind: 'act', style: 'signed', shape: [K], axis: 'none' },
        { key: 'p', title: 'p = softmax(z)', layer: L, kind: 'probs', style: 'act', shape: [K], axis: 'none' },
        { key: 'dz', title: 'dL/dz = (p − onehot(y)) / N', layer: L - 1, kind: 'grad', style: 'signed', shape: [K], axis: 'none' },
      ],
    };
  }
  const Ly = layers[i];
  const inShape = Ly.in_shape || [];
  const outShape = Ly.out_shape || [];
  const axis = (s, a) => (s.length === 3 ? a : 'none');
  const prev = i === 0 ? 'the input image' : `Y of ${layers[i - 1].name}`;
  const maps = [
    { key: 'X', title: `X (input: ${prev})`, layer: i - 1, kind: i === 0 ? 'input' : 'act', style: i === 0 ? 'image' : 'act', shape: inShape, axis: axis(inShape, 'in') },
    { key: 'Y', title: 'Y (output)', layer: i, kind: 'act', style: 'act', shape: outShape, axis: axis(outShape, 'out') },
    { key: 'dY', title: 'δ = dL/dY', layer: i, kind: 'grad', style: 'signed', shape: outShape, axis: axis(outShape, 'out') },
    { key: 'dX', title: 'dL/dX', layer: i, kind: 'gradin', style: 'signed', shape: inShape, axis: axis(inShape, 'in') },
  ];
  const part = { name: Ly.name || `${Ly.kind} ${i}`, kind: Ly.kind, inCount: channels(inShape), outCount: channels(outShape), maps, params: [], loss: false };
  const w = (Ly.params || [])[0];
  let tile = null;
  if (Ly.kind === 'conv' && w && w.length === 4) {
    const [F, C, KH, KW] = w;
    tile = { F, C, h: KH, w: KW, offset: (r, c) => (r * C + c) * KH * KW };
  } else if (Ly.kind === 'dense' && w && w.length === 2) {
    const [Out, In] = w;
    part.outCount = Out;
    if (inShape.length === 3 && inShape[0] * inShape[1] * inShape[2] === In) {
      const [C, H, W] = inShape;
      tile = { F: Out, C, h: H, w: W, offset: (r, c) => r * In + c * H * W };
    } else {
      const ww = Math.ceil(Math.sqrt(In));
      part.inCount = 1;
      tile = { F: Out, C: 1, h: Math.ceil(In / ww), w: ww, offset: (r) => r * In };
    }
  }
  if (tile) {
    part.params = [
      { key: 'W', title: 'W', layer: i, kind: 'weights', bias: 'bias', tile },
      { key: 'sdW', title: 'dL/dW · this sample (X ⋆ δ)', layer: i, kind: 'swgrad', bias: 'sbgrad', tile },
      { key: 'dW', title: 'dL/dW · batch mean (the optimizer’s)', layer: i, kind: 'wgrad', bias: 'bgrad', tile },
      { key: 'dWu', title: 'ΔW · the last update', layer: i, kind: 'update', bias: 'bupdate', tile },
    ];
  }
  return part;
}
