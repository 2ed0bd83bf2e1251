// subscription.js — what the page asks the server for: the canonical
// subscription of the maps on screen (docs/protocol.md, "Subscriptions").
// Pure: no DOM, no state; onscreen.js decides when to send it.

import { VOCAB } from './vocab.js';

// kindRank orders the kinds of one layer as docs/protocol.md lists them.
const kindRank = (k) => VOCAB.tensorKinds.indexOf(k);

// wantedLayers lists what the maps on screen show, in the canonical form of
// a subscription: per layer the kinds and, for stacks of maps, the range of
// channels [from, to) — whole grid rows, so that screens of about the same
// size ask for the same thing and share one encoded frame.
//
// views are the layout's views ({layer, kinds, also, rowLen, planes}, each
// plane {surface: {canvas}, channel}); visible is the Set of canvases on (or
// near) the screen; welcome is the server's welcome message (for the number
// of channels of each layer).
export function wantedLayers(views, visible, welcome) {
  const channelsOf = (layer) => {
    const s = layer < 0 ? welcome.input_shape : (welcome.layers[layer] || {}).out_shape;
    return s && s.length === 3 ? s[0] : 0;
  };
  const need = new Map(); // "layer:kind" → {layer, kind, from, to} (to 0: all)
  const add = (layer, kind, from, to) => {
    const k = `${layer}:${kind}`;
    const r = need.get(k);
    if (!r) need.set(k, { layer, kind, from, to });
    else if (r.to === 0 || to === 0) { r.from = 0; r.to = 0; } else { r.from = Math.min(r.from, from); r.to = Math.max(r.to, to); }
  };
  for (const v of views) {
    const shown = v.planes.filter((p) => visible.has(p.surface.canvas));
    if (!shown.length) continue;
    const C = channelsOf(v.layer);
    let from = 0;
    let to = 0;
    if (C && shown.every((p) => p.channel !== undefined)) {
      const n = v.rowLen || 1;
      from = Math.floor(Math.min(...shown.map((p) => p.channel)) / n) * n;
      to = Math.min(C, Math.ceil((Math.max(...shown.map((p) => p.channel)) + 1) / n) * n);
      if (from === 0 && to === C) to = 0;
    }
    for (const k of v.kinds) add(v.layer, k, from, to);
    for (const [layer, kind] of v.also) add(layer, kind, 0, 0);
  }
  // the maps of a layer and their gradients sit side by side: one range for
  // all of a layer's kinds cut to what is on screen
  const hull = new Map(); // layer → [from, to]
  for (const r of need.values()) {
    if (!r.to) continue;
    const h = hull.get(r.layer);
    hull.set(r.layer, h ? [Math.min(h[0], r.from), Math.max(h[1], r.to)] : [r.from, r.to]);
  }
  for (const r of need.values()) if (r.to) [r.from, r.to] = hull.get(r.layer);
  const groups = new Map(); // "layer|from|to" → entry
  for (const r of need.values()) {
    const g = `${r.layer}|${r.from}|${r.to}`;
    if (!groups.has(g)) groups.set(g, { layer: r.layer, kinds: [], ...(r.to ? { channels: [r.from, r.to] } : {}) });
    groups.get(g).kinds.push(r.kind);
  }
  const out = [...groups.values()];
  for (const e of out) e.kinds.sort((a, b) => kindRank(a) - kindRank(b));
  out.sort((a, b) => a.layer - b.layer || (a.channels ? a.channels[0] : 0) - (b.channels ? b.channels[0] : 0));
  return out;
}

// subscribeMessage is the subscribe message for the sample shown ("probe",
// or an index in the batch as text) and the layers of wantedLayers; with
// mapStats, frames carry each map's colour-scale statistics (a page whose
// maps each have their own range).
export function subscribeMessage(sample, layers, mapStats = false) {
  const probe = sample === 'probe';
  const msg = { type: 'subscribe', sample: probe ? 0 : Number(sample), probe, layers };
  if (mapStats) msg.map_stats = true;
  return msg;
}
