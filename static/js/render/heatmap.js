// heatmap.js — paints maps (H×W planes of a tensor) into canvases.
//
// A canvas holds one pixel per cell, written with a single putImageData per
// redraw; CSS scales it up by an integer factor with
// `image-rendering: pixelated`, so small maps stay crisp at any device pixel
// ratio. A canvas shows one map (a feature map in the network strip) or a
// whole tensor tiled as a grid of maps with one-cell gaps (a filter bank):
// many maps, one canvas, one ImageData.

const GAP = Object.freeze([255, 255, 255]); // the gap between tiled maps

// sizeCanvas gives a canvas h×w pixels and a CSS size of cell CSS pixels per
// pixel. It touches the DOM only when something changed.
export function sizeCanvas(canvas, h, w, cell) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const cw = `${w * cell}px`;
  const ch = `${h * cell}px`;
  if (canvas.style.width !== cw) canvas.style.width = cw;
  if (canvas.style.height !== ch) canvas.style.height = ch;
}

// Surface is one canvas and its ImageData; maps are painted into it at
// (x0, y0) and shown with flush(). The canvas is sized at once (the page's
// layout needs it); its context and ImageData are made when it is first
// painted, so a page opens without that work for the maps off screen.
export class Surface {
  constructor(canvas, h, w, cell) {
    this.canvas = canvas;
    sizeCanvas(canvas, h, w, cell);
    this.h = h;
    this.w = w;
    this.ctx = null;
    this.image = null;
    this.dirty = false;
  }

  // img is the ImageData, made on first use with its gaps white.
  get img() {
    if (!this.image) {
      this.ctx = this.canvas.getContext('2d');
      this.image = this.ctx.createImageData(this.w, this.h);
      // gaps stay white: fill once
      const px = this.image.data;
      for (let i = 0; i < px.length; i += 4) {
        px[i] = GAP[0]; px[i + 1] = GAP[1]; px[i + 2] = GAP[2]; px[i + 3] = 255;
      }
    }
    return this.image;
  }

  // paint writes data[offset … offset+h·w) (row-major) at (x0, y0) with
  // scale. dim, if given, is a Uint8Array of h·w flags: cells flagged 0 are
  // faded toward the background (to show which cells won a max-pool window).
  paint(x0, y0, data, offset, h, w, scale, dim) {
    const px = this.img.data;
    const W = this.img.width;
    for (let y = 0; y < h; y++) {
      let o = ((y0 + y) * W + x0) * 4;
      const row = offset + y * w;
      for (let x = 0; x < w; x++, o += 4) {
        scale.rgb(data[row + x], px, o);
        if (dim && !dim[y * w + x]) {
          // fade 70% toward a light grey: losers recede, winners stand out
          px[o] = px[o] * 0.3 + 232 * 0.7;
          px[o + 1] = px[o + 1] * 0.3 + 234 * 0.7;
          px[o + 2] = px[o + 2] * 0.3 + 238 * 0.7;
        }
        px[o + 3] = 255;
      }
    }
    this.dirty = true;
  }

  // blank paints a map that has not been computed yet in this step as a flat
  // light grey.
  blank(x0, y0, h, w) {
    const px = this.img.data;
    const W = this.img.width;
    for (let y = 0; y < h; y++) {
      let o = ((y0 + y) * W + x0) * 4;
      for (let x = 0; x < w; x++, o += 4) {
        px[o] = 238; px[o + 1] = 240; px[o + 2] = 244; px[o + 3] = 255;
      }
    }
    this.dirty = true;
  }

  flush() {
    if (!this.dirty) return;
    this.ctx.putImageData(this.image, 0, 0);
    this.dirty = false;
  }
}

// pixelAt returns the canvas pixel {y, x} under a pointer event, or null.
export function pixelAt(canvas, ev) {
  const r = canvas.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const x = Math.floor(((ev.clientX - r.left) / r.width) * canvas.width);
  const y = Math.floor(((ev.clientY - r.top) / r.height) * canvas.height);
  if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return null;
  return { y, x };
}

// MARK_PX is the canvas pixels per cell of a layer of marks: a one-pixel
// ring around a cell leaves its middle (MARK_PX − 2)² pixels to the map below.
export const MARK_PX = 4;

// MARK is the colour of a switch's ring: one colour, whatever the value
// under it (not a colour of any palette's ends).
export const MARK = Object.freeze([0, 0, 0]);

// Marks is a transparent canvas laid over a map canvas (same CSS size,
// MARK_PX pixels a cell) that outlines some cells: the max-pool switches.
export class Marks {
  constructor(canvas, h, w) {
    this.canvas = canvas;
    canvas.width = w * MARK_PX;
    canvas.height = h * MARK_PX;
    this.ctx = canvas.getContext('2d');
    this.img = this.ctx.createImageData(w * MARK_PX, h * MARK_PX);
    this.key = null;
  }

  // draw outlines the cells flagged 1 in each plane's mask (planes as a
  // View holds them: {x0, y0, h, w}; masks[i] for planes[i], or null);
  // key, when the same as the last call's, skips the work.
  draw(planes, masks, key) {
    if (key !== undefined && key === this.key) return;
    this.key = key;
    const px = this.img.data;
    px.fill(0);
    const W = this.img.width;
    planes.forEach((p, i) => {
      const m = masks && masks[i];
      if (!m) return;
      for (let y = 0; y < p.h; y++) {
        for (let x = 0; x < p.w; x++) {
          if (!m[y * p.w + x]) continue;
          const X = (p.x0 + x) * MARK_PX;
          const Y = (p.y0 + y) * MARK_PX;
          for (let dy = 0; dy < MARK_PX; dy++) {
            for (let dx = 0; dx < MARK_PX; dx++) {
              if (dy > 0 && dy < MARK_PX - 1 && dx > 0 && dx < MARK_PX - 1) continue; // the middle shows the value
              const o = ((Y + dy) * W + X + dx) * 4;
              px[o] = MARK[0]; px[o + 1] = MARK[1]; px[o + 2] = MARK[2]; px[o + 3] = 255;
            }
          }
        }
      }
    });
    this.ctx.putImageData(this.img, 0, 0);
  }
}
