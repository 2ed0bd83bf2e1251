// walkdraw.js — the conv explainer's canvases: a plane of values drawn as
// colours with the sliding window outlined, and a small grid of numbers
// written large (products, running sums, the rotated filter), both in the
// lab's colour language (render/colormap.js), crisp at any device pixel
// ratio and readable on a projector.

import { makeScale } from '../render/colormap.js';
import { stats } from '../render/stats.js';
import { fmtShort } from '../render/format.js';

// scaleOf is a diverging colour scale over values (null ones left out).
export function scaleOf(values) {
  const a = Float32Array.from(values.filter((v) => v !== null && v !== undefined));
  return makeScale(stats([a]), { diverging: true, mode: 'full', palette: 'blue-orange' });
}

// prepare sizes a canvas to w×h CSS pixels and returns its context in CSS
// pixels.
function prepare(canvas, w, h) {
  const dpr = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  const W = Math.round(w * dpr);
  const H = Math.round(h * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

const rgbBuf = new Uint8ClampedArray(3);

// fill is the CSS colour of value v on scale.
function fill(scale, v) {
  scale.rgb(v, rgbBuf, 0);
  return `rgb(${rgbBuf[0]},${rgbBuf[1]},${rgbBuf[2]})`;
}

// hatch draws the diagonal lines of a cell that holds no number of the
// tensor (padding, a cell no window reaches).
function hatch(ctx, x, y, s) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, s, s);
  ctx.clip();
  ctx.strokeStyle = '#b9c1cd';
  ctx.lineWidth = 1;
  for (let d = -s; d < s; d += Math.max(3, s / 3)) {
    ctx.moveTo(x + d, y + s);
    ctx.lineTo(x + d + s, y);
  }
  ctx.stroke();
  ctx.restore();
}

// drawPlane draws an h×w plane of values (row-major; null: not filled yet)
// as colours in a box of at most size CSS pixels, with a border of pad
// zero-padding cells around it (hatched), the rectangle box {r, c, h, w}
// outlined (plane coordinates, padding included at negative ones), the cell
// mark [r, c] ringed, and cells flagged in hatched[] hatched. kinds, if
// given, colours cells of the dilation's zeros and padding (geometry.js
// PLANE) instead of their values.
export function drawPlane(canvas, o) {
  const { h, w, values, pad = 0, box, mark, hatched, kinds, size = 300, scale } = o;
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const cell = Math.max(4, Math.floor(size / Math.max(H, W)));
  const ctx = prepare(canvas, W * cell, H * cell);
  const sc = scale || scaleOf(values);
  for (let r = -pad; r < h + pad; r++) {
    for (let c = -pad; c < w + pad; c++) {
      const x = (c + pad) * cell;
      const y = (r + pad) * cell;
      const inside = r >= 0 && c >= 0 && r < h && c < w;
      const kind = inside && kinds ? kinds[r * w + c] : 2;
      if (!inside || kind === 0) {
        ctx.fillStyle = '#eceef2';
        ctx.fillRect(x, y, cell, cell);
        hatch(ctx, x, y, cell);
        continue;
      }
      const v = values[r * w + c];
      if (kind === 1) ctx.fillStyle = '#f7f8fa';
      else ctx.fillStyle = v === null || v === undefined ? '#ffffff' : fill(sc, v);
      ctx.fillRect(x, y, cell, cell);
      if (hatched && hatched[r * w + c]) hatch(ctx, x, y, cell);
    }
  }
  ctx.strokeStyle = 'rgba(24,32,44,0.18)';
  ctx.lineWidth = 1;
  ctx.strokeRect(pad * cell + 0.5, pad * cell + 0.5, w * cell - 1, h * cell - 1);
  if (box) {
    ctx.strokeStyle = '#18202c';
    ctx.lineWidth = 3;
    ctx.strokeRect((box.c + pad) * cell + 1.5, (box.r + pad) * cell + 1.5, box.w * cell - 3, box.h * cell - 3);
  }
  if (mark) {
    ctx.strokeStyle = '#b8520c';
    ctx.lineWidth = 3;
    ctx.strokeRect((mark[1] + pad) * cell + 1.5, (mark[0] + pad) * cell + 1.5, cell - 3, cell - 3);
  }
  return { cell };
}

// drawNumbers writes a kh×kw grid of values (null: empty) large, each
// cell tinted by its value; highlight (a Set of indices) rings cells.
export function drawNumbers(canvas, o) {
  const { h, w, values, size = 300, scale, highlight, dim } = o;
  const cell = Math.max(24, Math.min(84, Math.floor(size / Math.max(h, w))));
  const ctx = prepare(canvas, w * cell, h * cell);
  const sc = scale || scaleOf(values);
  const font = Math.max(10, Math.min(20, Math.floor(cell / 4.1)));
  ctx.font = `600 ${font}px ui-monospace, "DejaVu Sans Mono", Menlo, monospace`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      const v = values[i];
      const x = c * cell;
      const y = r * cell;
      ctx.fillStyle = v === null || v === undefined ? '#ffffff' : fill(sc, v);
      ctx.fillRect(x, y, cell, cell);
      ctx.strokeStyle = '#c9ced8';
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      if (v === null || v === undefined) continue;
      const t = sc.t(v);
      ctx.fillStyle = dim && dim[i] ? '#7a8494' : t < 0.2 || t > 0.8 ? '#ffffff' : '#18202c';
      // the number fits its cell: a long one is written smaller
      const s = fmtShort(v);
      const wide = ctx.measureText(s).width;
      if (wide > cell - 6) {
        ctx.save();
        ctx.font = `600 ${Math.max(8, Math.floor(font * (cell - 6) / wide))}px ui-monospace, "DejaVu Sans Mono", Menlo, monospace`;
        ctx.fillText(s, x + cell / 2, y + cell / 2);
        ctx.restore();
      } else ctx.fillText(s, x + cell / 2, y + cell / 2);
    }
  }
  if (highlight) {
    ctx.strokeStyle = '#18202c';
    ctx.lineWidth = 3;
    for (const i of highlight) ctx.strokeRect((i % w) * cell + 1.5, Math.floor(i / w) * cell + 1.5, cell - 3, cell - 3);
  }
  return { cell };
}
