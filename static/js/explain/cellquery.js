// cellquery.js — which number a cell of a map is, in the words of an
// explain question (docs/protocol.md): the layer, the tensor and the index
// of the cell at a flat offset of a frame tensor. Pure: no DOM, no state.

import { PARAM_KINDS } from './rows.js';

// KIND_TENSORS maps a frame kind to the tensor an explain question names.
// A weight or bias cell is explained by its gradient (after the step's
// update, by the update: see picking.js) and checked by the gradient check.
export const KIND_TENSORS = Object.freeze({
  act: 'Y', grad: 'dY', gradin: 'dX',
  weights: 'dW', wgrad: 'dW', swgrad: 'dW', update: 'updateW',
  bias: 'db', bgrad: 'db', sbgrad: 'db', bupdate: 'updateb',
});

// shapeOf is the per-sample shape of a frame tensor of layer (−1 the
// input; the number of layers for the loss's probabilities, kind "probs").
export function shapeOf(welcome, layer, kind) {
  const layers = (welcome && welcome.layers) || [];
  if (layer === -1) return welcome.input_shape || (layers[0] && layers[0].in_shape) || null;
  if (layer === layers.length && kind === 'probs') return [(welcome.classes || []).length || (layers[layer - 1].out_shape || [0])[0]];
  const L = layers[layer];
  if (!L) return null;
  switch (kind) {
    case 'act': case 'grad': case 'switch': return L.out_shape;
    case 'gradin': return L.in_shape;
    case 'weights': case 'wgrad': case 'swgrad': case 'update': return (L.params || [])[0] || null;
    case 'bias': case 'bgrad': case 'sbgrad': case 'bupdate': return (L.params || [])[1] || null;
    default: return null;
  }
}

// unflat is the index of row-major offset o in shape.
export function unflat(o, shape) {
  const idx = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = o % shape[d];
    o = Math.floor(o / shape[d]);
  }
  return idx;
}

// cellQuery says which number the cell at flat offset o of kind of layer
// is: {layer, tensor, index, kind, param} for a question (param: "W" or "b"
// for a parameter's cell, the one a gradient check takes), or {reason}
// when no question explains it.
export function cellQuery(welcome, layer, kind, o) {
  if (layer === -1 && kind === 'input') return { reason: 'The input image is data: nothing in the network computed it.' };
  if (kind === 'switch') return { reason: 'A max-pool switch is a position, not a number of the sum.' };
  const shape = shapeOf(welcome, layer, kind);
  if (!shape) return { reason: `No question explains ${kind} of layer ${layer}.` };
  const size = shape.reduce((a, b) => a * b, 1);
  if (!(o >= 0 && o < size)) return { reason: 'No cell here.' };
  const index = unflat(o, shape);
  if (kind === 'probs') return { layer: -1, tensor: 'p', index, kind };
  const tensor = KIND_TENSORS[kind];
  if (!tensor) return { reason: `No question explains ${kind}.` };
  return { layer, tensor, index, kind, param: PARAM_KINDS[kind] || '' };
}

// sameCell reports whether two questions ask about the same number.
export function sameCell(a, b) {
  return !!a && !!b && a.layer === b.layer && a.tensor === b.tensor &&
    (a.index || []).join(',') === (b.index || []).join(',');
}
