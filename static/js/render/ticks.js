// ticks.js — where the tick labels of a legend go: no two labels overlap
// and none leaves the bar. Pure: text widths come from a function.

// GAP is the least space, in CSS pixels, between two labels.
export const GAP = 6;

// layoutTicks places labels under a bar width CSS pixels wide. ticks are
// {text, pos} with pos ∈ [0, 1] along the bar; measure(text) is a label's
// width in CSS pixels. A label is centred on its position, pushed inside
// the bar at the ends; the ends come first, then 0, then the rest in order,
// and a label that would overlap one already placed is left out. It returns
// the labels kept, left to right, as {text, pos, left, width}.
export function layoutTicks(ticks, width, measure) {
  const order = ticks
    .map((t, i) => ({ t, i, rank: i === 0 || i === ticks.length - 1 ? 0 : t.text === '0' ? 1 : 2 }))
    .filter(({ t }) => t.text !== '')
    .sort((a, b) => a.rank - b.rank || a.i - b.i);
  const kept = [];
  for (const { t } of order) {
    const w = Math.min(width, measure(t.text));
    const left = Math.min(Math.max(0, t.pos * width - w / 2), Math.max(0, width - w));
    const clash = kept.some((k) => left < k.left + k.width + GAP && k.left < left + w + GAP);
    if (!clash) kept.push({ text: t.text, pos: t.pos, left, width: w });
  }
  return kept.sort((a, b) => a.left - b.left);
}

// disjoint reports whether the boxes {left, width} keep GAP apart (for tests).
export function disjoint(boxes) {
  const s = [...boxes].sort((a, b) => a.left - b.left);
  return s.every((b, i) => i === 0 || s[i - 1].left + s[i - 1].width + GAP <= b.left + 1e-9);
}
