// pictures.js — the drill-down's pictures of a window (geometry.js): the
// K×K windows of X a conv or pool output reads, padding cells marked and
// the max-pool winner outlined, and for conv dL/dX the dilated,
// zero-padded δ plane with the rotated filter's window on it.

import { el } from '../dom.js';
import { windowGrids, planeOfExplanation, PLANE } from './geometry.js';

// the most input channels' windows drawn (the terms list has them all)
const MAX_GRIDS = 8;

// windowPicture is the grids of X under the window, or null.
function windowPicture(msg) {
  const grids = windowGrids(msg);
  if (!grids) return null;
  const box = el('div', 'xp-windows');
  const pool = !grids[0].cells.some((c) => c && c.w);
  box.append(el('div', 'xp-caption', pool
    ? `the window of X: rows ${grids[0].rows}, columns ${grids[0].cols}${grids.some((g) => g.cells.some((c) => c && c.pad)) ? ' · grey: zero padding' : ''} · outlined: the winner`
    : `the window of X under W, rows ${grids[0].rows}, columns ${grids[0].cols} · grey: zero padding · each cell X (over it: the tap W)`));
  const row = el('div', 'xp-grids');
  for (const g of grids.slice(0, MAX_GRIDS)) {
    const one = el('div', 'xp-grid-box');
    one.append(el('div', 'xp-grid-label', `channel ${g.channel}`));
    const grid = el('div', 'xp-grid');
    grid.style.gridTemplateColumns = `repeat(${g.kw}, auto)`;
    for (const c of g.cells) {
      const cell = el('div', 'xp-cell');
      if (!c) { grid.append(cell); continue; }
      if (c.pad) cell.classList.add('pad');
      if (c.winner) cell.classList.add('winner');
      if (c.w) cell.append(el('span', 'xp-tap', c.w));
      cell.append(el('span', 'xp-x', c.x));
      cell.title = `${c.at} = ${c.x}${c.w ? ` · tap W = ${c.w} · product ${c.product}` : ''}${c.pad ? ' (zero padding)' : ''}`;
      grid.append(cell);
    }
    one.append(grid);
    row.append(one);
  }
  box.append(row);
  if (grids.length > MAX_GRIDS) box.append(el('div', 'xp-caption', `… and ${grids.length - MAX_GRIDS} more channels (in the terms below)`));
  return box;
}

// PLANE_COLOURS are the fills of the dilated plane's cells.
const PLANE_COLOURS = Object.freeze({ [PLANE.PAD]: '#e4e7ec', [PLANE.GAP]: '#f4f5f8', [PLANE.DELTA]: '#ffffff' });

// planePicture draws the dilated, padded δ plane and the rotated filter's
// window on a canvas, or returns null.
function planePicture(msg) {
  const p = planeOfExplanation(msg);
  if (!p) return null;
  const box = el('div', 'xp-plane');
  const cell = Math.max(4, Math.min(14, Math.floor(220 / Math.max(p.h, p.w))));
  const cv = el('canvas', 'xp-plane-canvas');
  const dpr = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
  cv.width = p.w * cell * dpr;
  cv.height = p.h * cell * dpr;
  cv.style.width = `${p.w * cell}px`;
  cv.style.height = `${p.h * cell}px`;
  cv.setAttribute('role', 'img');
  const ctx = cv.getContext('2d');
  ctx.scale(dpr, dpr);
  for (let r = 0; r < p.h; r++) {
    for (let c = 0; c < p.w; c++) {
      ctx.fillStyle = PLANE_COLOURS[p.kind[r * p.w + c]];
      ctx.fillRect(c * cell, r * cell, cell, cell);
      if (p.kind[r * p.w + c] === PLANE.DELTA) {
        ctx.strokeStyle = '#9aa3b2';
        ctx.strokeRect(c * cell + 0.5, r * cell + 0.5, cell - 1, cell - 1);
      }
    }
  }
  ctx.fillStyle = '#b8520c';
  for (const [r, c] of p.taps) {
    ctx.beginPath();
    ctx.arc((c + 0.5) * cell, (r + 0.5) * cell, cell * 0.3, 0, 2 * Math.PI);
    ctx.fill();
  }
  const [r0, c0] = p.origin;
  ctx.strokeStyle = '#18202c';
  ctx.lineWidth = 2;
  ctx.strokeRect(c0 * cell + 1, r0 * cell + 1, p.kw * cell - 2, p.kh * cell - 2);
  const w = msg.window;
  const text = `δ of ${w.out_h}×${w.out_w} dilated by the stride ${w.stride} and zero-padded by ${p.padRows}×${p.padCols}: ` +
    `a ${p.h}×${p.w} plane (white: δ cells, light: the dilation's zeros, grey: padding). ` +
    `Outlined: rot180(W) at (${r0},${c0}); dots: the ${p.taps.length} taps that meet a δ cell (of every filter): their products add up to this cell.`;
  cv.setAttribute('aria-label', text);
  box.append(cv, el('div', 'xp-caption', text));
  return box;
}

// picture returns the picture of an explanation's window, or null.
export function picture(msg) {
  return windowPicture(msg) || planePicture(msg);
}
