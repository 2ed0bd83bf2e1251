// maplabel.js — the accessible name of a map canvas, in the tooltip's words
// (views.js describeCell): the layer and the tensor, the channel, the shape
// and the colour scale the map is drawn with. views.js keeps it up to date
// as frames are drawn.

import { fmtShort } from './format.js';
import { MODES } from './colormap.js';

// mapLabel is the accessible name of one map canvas:
//   name, word   the layer and the tensor ("conv 1", "δ = dL/dY")
//   channel      the channel the map shows, or undefined
//   h, w         the map's cells
//   tiles        {rows, cols} when the canvas holds rows×cols maps of h×w
//   drawn        whether the frame had the tensor (else missingWords)
//   scale        the colour scale it was drawn with ({lo, hi, mode}), or null
//   history      whether the frame is a step of the history
export function mapLabel({ name, word, channel, h, w, tiles, drawn, scale, history }) {
  const parts = [`${name} · ${word}`];
  if (tiles && tiles.rows * tiles.cols > 1) parts.push(`${tiles.rows} × ${tiles.cols} maps of ${h} × ${w}`);
  else {
    if (channel !== undefined) parts.push(`channel ${channel}`);
    parts.push(`${h} × ${w}`);
  }
  if (!drawn) parts.push(missingWords(history));
  else if (scale) parts.push(`colour scale ${fmtShort(scale.lo)} … ${fmtShort(scale.hi)} (${MODES[scale.mode] || scale.mode})`);
  return parts.join(' · ');
}

// missingWords says why a frame lacks a tensor: a live frame has not
// computed it yet in this step; the history does not keep it (ΔW, the
// gradients of the input, the switches …).
export function missingWords(history) {
  return history ? 'not kept in the history' : 'not computed yet in this step';
}
