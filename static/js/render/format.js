// format.js — numbers as text: exact float32 values for tooltips and
// captions, three significant digits for legends.

// fmt32 writes a float32 value as the shortest decimal text that reads back as
// the same float32 (so "0.1" rather than "0.10000000149011612"), with ASCII
// minus signs so that it can be copied into code.
export function fmt32(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '0';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(parseFloat(s)) === f) return tidy(s);
  }
  return tidy(f.toPrecision(9));
}

// fmtShort writes a value with 3 significant digits for legends and captions,
// with typographic minus signs. A value the digits give exactly (to float32)
// drops its trailing zeros (2, 0.5, a scale's ticks); a rounded one keeps
// all three, so 1.0035 reads "1.00", never "1".
export function fmtShort(v) {
  if (!Number.isFinite(v)) return fmt32(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
  const exact = Math.abs(parseFloat(s) - v) <= 1e-7 * a;
  return (exact ? tidy(s) : plus(s)).replaceAll('-', '−');
}

// plus drops only the exponent's plus: 1.00e+4 → 1.00e4.
function plus(s) {
  return s.replace('e+', 'e');
}

// tidy drops trailing zeros and the exponent's plus: 1.50e+3 → 1.5e3, 2.00 → 2.
function tidy(s) {
  let [m, e] = s.split('e');
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
  return e !== undefined ? `${m}e${e.replace('+', '')}` : m;
}
