// tooltip.js — the tooltip of a map: hovering a cell shows its exact value,
// which tensor it belongs to, where it is and the colour scale it was drawn
// with. It follows the pointer and is redrawn with each frame while the
// pointer rests on a map. Its state is app.hover (see main.js).

import { $, el } from './dom.js';
import { describeCell } from './render/views.js';
import { pixelAt } from './render/heatmap.js';

// the tooltip's distance from the pointer, in CSS pixels
const PAD = 14;

// tooltipLines are the tooltip's lines for pixel px ({y, x}) of a map
// canvas, or null where no map is drawn: what the tooltip shows and the
// cell cursor's live region reads (explain/picking.js).
export function tooltipLines(app, canvas, px) {
  // a map of the focus view, or of the page
  const index = app.focus.index.has(canvas) ? app.focus.index : app.layout.canvases;
  const d = describeCell(index, canvas, px);
  return d ? d.lines : null;
}

// showTooltip shows the tooltip of the cell of canvas under the pointer
// event ev, or hides it where no map is drawn.
export function showTooltip(app, canvas, ev) {
  const tip = $('tooltip');
  const lines = tooltipLines(app, canvas, pixelAt(canvas, ev));
  if (!lines) { tip.hidden = true; return; }
  const [value, ...rest] = lines;
  tip.replaceChildren(el('div', 'tip-value', value), ...rest.map((t) => el('div', 'tip-line', t)));
  tip.hidden = false;
  const r = tip.getBoundingClientRect();
  let x = ev.clientX + PAD;
  let y = ev.clientY + PAD;
  if (x + r.width > innerWidth - 4) x = ev.clientX - r.width - PAD;
  if (y + r.height > innerHeight - 4) y = ev.clientY - r.height - PAD;
  // on a narrow screen neither side may hold it: it stays within the screen
  x = Math.max(4, Math.min(x, innerWidth - 4 - r.width));
  y = Math.max(4, y);
  tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
}

// installTooltip follows the pointer over the maps.
export function installTooltip(app) {
  document.addEventListener('pointermove', (ev) => {
    const t = ev.target;
    if (t instanceof HTMLCanvasElement && t.classList.contains('map')) {
      app.hover = { canvas: t, ev };
      showTooltip(app, t, ev);
    } else if (app.hover) {
      app.hover = null;
      $('tooltip').hidden = true;
    }
  });
}
