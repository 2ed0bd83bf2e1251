// layout.js — builds the page's maps from the welcome message: the network as
// a row of layer columns (strip.js) and, below it, the panels of conv
// filters, max-pool switches and dense weights (panels.js). It returns the
// views to draw, the index of their canvases for the tooltip, and the
// elements that show the flow of a phase.

import { buildStrip } from './strip.js';
import { buildConv, buildPool, buildDense } from './panels.js';
import { canvasIndex } from './views.js';

// build lays out the whole lab for a welcome message. It returns {views,
// canvases (canvasIndex of the views), columns (Map layer index → column
// element; −1 input, L loss), links (the arrows between columns)}.
export function build(strip, panels, w) {
  strip.replaceChildren();
  panels.replaceChildren();
  const out = buildStrip(strip, w);
  const views = [...out.views];
  const layers = w.layers || [];
  const inShape = (i) => {
    const L = layers[i];
    let s = L.in_shape || [];
    // a dense layer after flatten: show its weights in the shape before flatten
    if (s.length === 1 && i > 0 && layers[i - 1].kind === 'flatten') s = layers[i - 1].in_shape || s;
    return s;
  };
  layers.forEach((L, i) => {
    if (L.kind === 'conv' && L.params && L.params[0] && L.params[0].length === 4) views.push(...buildConv(panels, L, i));
  });
  layers.forEach((L, i) => {
    if (L.kind === 'maxpool' && (L.in_shape || []).length === 3) views.push(...buildPool(panels, L, i, L.in_shape));
  });
  layers.forEach((L, i) => {
    if (L.kind === 'dense' && L.params && L.params[0]) views.push(...buildDense(panels, L, i, inShape(i), w.classes || []));
  });
  return { views, canvases: canvasIndex(views), columns: out.columns, links: out.links };
}
