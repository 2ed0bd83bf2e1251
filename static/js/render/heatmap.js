// heatmap.js — paints one map (an H×W plane of a tensor) into one canvas.
//
// The canvas holds exactly H×W pixels, one per cell, written with a single
// putImageData; CSS scales it up by an integer factor with
// `image-rendering: pixelated`, so small maps stay crisp at any device pixel
// ratio and a redraw costs H·W colour look-ups.

const images = new WeakMap();

// sizeCanvas gives a canvas H×W pixels and a CSS size of cell CSS pixels per
// cell. It touches the DOM only when something changed.
export function sizeCanvas(canvas, h, w, cell) {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const cw = `${w * cell}px`;
  const ch = `${h * cell}px`;
  if (canvas.style.width !== cw) canvas.style.width = cw;
  if (canvas.style.height !== ch) canvas.style.height = ch;
}

// drawHeatmap paints data[offset … offset+h·w) (row-major) with scale.
// dim, if given, is a Uint8Array of h·w flags: cells flagged 0 are faded
// toward the background (used to show which cells won a max-pool window).
export function drawHeatmap(canvas, data, offset, h, w, scale, dim) {
  const ctx = canvas.getContext('2d');
  let img = images.get(canvas);
  if (!img || img.width !== w || img.height !== h) {
    img = ctx.createImageData(w, h);
    images.set(canvas, img);
  }
  const px = img.data;
  const n = h * w;
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    scale.rgb(data[offset + i], px, o);
    if (dim && !dim[i]) {
      // fade 70% toward a light grey: losers recede, winners stand out
      px[o] = px[o] * 0.3 + 232 * 0.7;
      px[o + 1] = px[o + 1] * 0.3 + 234 * 0.7;
      px[o + 2] = px[o + 2] * 0.3 + 238 * 0.7;
    }
    px[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// clearHeatmap paints a map that has not been computed yet in this step as
// one flat background colour.
export function clearHeatmap(canvas) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
}

// cellAt returns the cell {y, x} under a pointer event, or null.
export function cellAt(canvas, ev) {
  const r = canvas.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const x = Math.floor(((ev.clientX - r.left) / r.width) * canvas.width);
  const y = Math.floor(((ev.clientY - r.top) / r.height) * canvas.height);
  if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return null;
  return { y, x };
}
