// picking.js — choosing a cell to explain: a click (or a tap) on any map
// (the strip's, the panels', the focus view's), or by keyboard: a focused
// map has a cell cursor that the arrow keys move (its tooltip shows and a
// polite live region reads the tooltip's text), and Enter explains the cell
// under it. The maps of one tensor are one stop of the Tab key (a roving
// tabindex): the arrow keys go on from a map's edge to the next map. A tap
// puts the cursor on the tapped cell, shows its tooltip and explains it.
// cellquery.js says which number a cell is.

import { $ } from '../dom.js';
import { pixelAt } from '../render/heatmap.js';
import { cellQuery } from './cellquery.js';
import { askExplain } from './requests.js';
import { showPanelStatus } from './panel.js';
import { showTooltip, tooltipLines } from '../tooltip.js';

// indexOf is the canvas index (render/views.js canvasIndex) that holds a
// map canvas: the focus view's or the page's.
export function indexOf(app, canvas) {
  return app.focus.index.has(canvas) ? app.focus.index : app.layout.canvases;
}

// cellAt says which number the pixel px of a map canvas shows:
// {query, plane} or null where no map is (a gap).
export function cellAt(app, canvas, px) {
  const r = indexOf(app, canvas).get(canvas);
  if (!r || !px) return null;
  const plane = r.planes.find((p) => px.x >= p.x0 && px.x < p.x0 + p.w && px.y >= p.y0 && px.y < p.y0 + p.h);
  if (!plane) return null;
  const o = plane.offset + (px.y - plane.y0) * plane.w + (px.x - plane.x0);
  const kind = r.view.tensor ? r.view.tensor.kind : r.view.kinds[0];
  const query = cellQuery(app.lab.welcome, r.view.layer, kind, o);
  // a weight after this step's update is explained by the update that made
  // it (before it, by its gradient)
  const f = app.lab.frame;
  if ((kind === 'weights' || kind === 'bias') && f && f.tensors.has(`${r.view.layer}:${kind === 'weights' ? 'update' : 'bupdate'}`)) {
    query.tensor = kind === 'weights' ? 'updateW' : 'updateb';
  }
  return { query, plane };
}

// explainCell asks about the cell at px of canvas; t0 is when the user
// asked.
export function explainCell(app, canvas, px, t0) {
  const c = cellAt(app, canvas, px);
  if (!c) return;
  // the room bar's scripts may be waiting for a cell (prompt.js: the cell a
  // question is about); one that takes it cancels the event: no drill-down
  if (!document.dispatchEvent(new CustomEvent('bpv:cell', { detail: c.query, cancelable: true }))) return;
  if (c.query.reason) {
    showPanelStatus(app, { title: 'Nothing to explain here' }, c.query.reason);
    return;
  }
  askExplain(app, c.query, t0);
}

// placeCursor draws the cell cursor over pixel px of canvas and shows the
// cell's tooltip.
function placeCursor(app, canvas, px) {
  const r = canvas.getBoundingClientRect();
  const cw = r.width / canvas.width;
  const ch = r.height / canvas.height;
  const cur = $('cell-cursor');
  cur.style.transform = `translate(${Math.round(r.left + px.x * cw) - 2}px, ${Math.round(r.top + px.y * ch) - 2}px)`;
  cur.style.width = `${Math.round(cw) + 4}px`;
  cur.style.height = `${Math.round(ch) + 4}px`;
  cur.hidden = false;
  const ev = { clientX: r.left + (px.x + 0.5) * cw, clientY: r.top + (px.y + 0.5) * ch };
  app.hover = { canvas, ev };
  showTooltip(app, canvas, ev);
  const lines = tooltipLines(app, canvas, px);
  $('cell-live').textContent = lines ? lines.join(' · ') : 'no value here yet';
}

// hideCursor hides the cell cursor (and its tooltip).
function hideCursor(app) {
  $('cell-cursor').hidden = true;
  if (app.explain.cursor) {
    app.explain.cursor = null;
    app.hover = null;
    $('tooltip').hidden = true;
  }
}

const MOVES = Object.freeze({ ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] });

// viewCanvases are the canvases of the tensor canvas belongs to, in order.
function viewCanvases(app, canvas) {
  const r = indexOf(app, canvas).get(canvas);
  return r ? r.view.surfaces.map((s) => s.canvas) : [canvas];
}

// focusMap moves the tensor's Tab stop to canvas and focuses it.
function focusMap(app, canvas) {
  for (const c of viewCanvases(app, canvas)) c.tabIndex = c === canvas ? 0 : -1;
  canvas.focus();
}

// nextMap goes on from the edge of canvas to the neighbouring map of its
// tensor in direction d (right and down: the next map; left and up: the
// one before), keeping the row (or column) of the cell px. It reports
// whether there was one.
function nextMap(app, canvas, px, d) {
  const cs = viewCanvases(app, canvas);
  const to = cs[cs.indexOf(canvas) + (d[0] + d[1] > 0 ? 1 : -1)];
  if (!to) return false;
  const clampY = (y) => Math.min(to.height - 1, Math.max(0, y));
  const clampX = (x) => Math.min(to.width - 1, Math.max(0, x));
  let p;
  if (d[1] > 0) p = { y: clampY(px.y), x: 0 };
  else if (d[1] < 0) p = { y: clampY(px.y), x: to.width - 1 };
  else if (d[0] > 0) p = { y: 0, x: clampX(px.x) };
  else p = { y: to.height - 1, x: clampX(px.x) };
  focusMap(app, to);
  if (!cellAt(app, to, p)) p = { y: 0, x: 0 };
  app.explain.cursor = { canvas: to, px: p };
  placeCursor(app, to, p);
  return true;
}

// moveCursor moves the cursor of canvas one cell in direction d, stepping
// over the gaps between tiled maps; at the edge it goes on to the next map
// of the tensor, or stays.
function moveCursor(app, canvas, d) {
  const cur = app.explain.cursor;
  const here = cur && cur.canvas === canvas;
  // a map without a cursor yet starts at its first cell
  let { y, x } = here ? cur.px : { y: 0, x: 0 };
  y = Math.max(0, y + d[0]);
  x = Math.max(0, x + d[1]);
  while (y >= 0 && x >= 0 && y < canvas.height && x < canvas.width) {
    if (cellAt(app, canvas, { y, x })) {
      app.explain.cursor = { canvas, px: { y, x } };
      placeCursor(app, canvas, { y, x });
      return;
    }
    y += d[0];
    x += d[1];
  }
  if (here && nextMap(app, canvas, cur.px, d)) return;
  if (here) placeCursor(app, canvas, cur.px);
}

// installPicking listens for clicks and keys on the maps.
export function installPicking(app) {
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!(t instanceof HTMLCanvasElement) || !t.classList.contains('map')) return;
    const px = pixelAt(t, ev);
    if (px) {
      app.explain.cursor = { canvas: t, px };
      // a finger has no hover: a tap shows the cell's tooltip under the cursor
      const touch = ev.pointerType === 'touch' || ev.pointerType === 'pen';
      if (touch || !$('cell-cursor').hidden) placeCursor(app, t, px);
      // on a phone the drill-down is a sheet (devices.css): it opens on the
      // half of the screen the tapped cell is not on
      if (touch) document.body.classList.toggle('sheet-top', ev.clientY > innerHeight / 2);
    }
    explainCell(app, t, px, ev.timeStamp);
  });
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (!(t instanceof HTMLCanvasElement) || !t.classList.contains('map')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (MOVES[ev.key]) {
      ev.preventDefault();
      moveCursor(app, t, MOVES[ev.key]);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      const cur = app.explain.cursor;
      if (!cur || cur.canvas !== t) { moveCursor(app, t, [0, 0]); return; }
      explainCell(app, t, cur.px, ev.timeStamp);
    }
  });
  document.addEventListener('focusin', (ev) => {
    const t = ev.target;
    if (!(t instanceof HTMLCanvasElement && t.classList.contains('map'))) return;
    // the focused map is its tensor's Tab stop
    for (const c of viewCanvases(app, t)) c.tabIndex = c === t ? 0 : -1;
    // the cursor shows for the keyboard's focus, not a click's
    if (t.matches(':focus-visible')) {
      const cur = app.explain.cursor;
      if (cur && cur.canvas === t) placeCursor(app, t, cur.px);
      else moveCursor(app, t, [0, 0]);
    }
  });
  document.addEventListener('focusout', (ev) => {
    if (ev.target instanceof HTMLCanvasElement && ev.target.classList.contains('map')) hideCursor(app);
  });
  addEventListener('scroll', () => { if (!$('cell-cursor').hidden) hideCursor(app); }, { passive: true, capture: true });
}
