// checkview.js — a gradcheck reply (docs/protocol.md, "gradcheck") as the
// panel shows it: the central difference beside the backprop gradient,
// their relative error and, when a ReLU mask or a max-pool switch changed
// within ±h, the warning that the two may disagree there. Numbers are the
// engine's float64, written with every digit they need (String); nothing
// is recomputed. Pure: no DOM, no state.

import { indexText } from './rows.js';

// f64 writes a float64 as the shortest text that reads back as it.
export function f64(v) {
  if (v === null || v === undefined) return 'NaN';
  return String(v);
}

// relText writes a relative error in scientific notation.
export function relText(v) {
  if (v === null || v === undefined) return 'NaN';
  if (v === 0) return '0';
  return v.toExponential(2).replace('e+', 'e');
}

// paramName writes a checked parameter, e.g. "conv 2 · W[3,1,2,2]".
export function paramName(name, param, index) {
  return `${name} · ${param}${indexText(index)}`;
}

// GOOD is the relative error under which the two gradients agree as well
// as float64 central differences can show.
export const GOOD = 1e-6;

// checkView turns a gradcheck reply into what the panel shows.
export function checkView(msg) {
  const kinks = (msg.kinks || []).map((k) => `${k.name}: a ${k.what} changed within ±h ` +
    `(${k.minus} cells at w − h, ${k.plus} at w + h): the two may disagree here`);
  const rel = msg.rel_error;
  let verdict = 'agree';
  if (rel === null || rel === undefined || !(rel < GOOD)) verdict = kinks.length ? 'kink' : 'disagree';
  return {
    title: paramName(msg.name, msg.param, msg.index),
    numeric: f64(msg.numeric),
    analytic: f64(msg.backprop),
    relError: relText(rel),
    verdict,
    verdictText: verdict === 'agree'
      ? `they agree: relative error ${relText(rel)} < ${relText(GOOD).replace('.00', '')}`
      : verdict === 'kink'
        ? `relative error ${relText(rel)}: a kink lies within ±h`
        : `relative error ${relText(rel)}: larger than expected`,
    details: [
      `weight w = ${f64(msg.weight)}, h = ${f64(msg.h)}`,
      `L(w + h) = ${f64(msg.loss_plus)}`,
      `L(w − h) = ${f64(msg.loss_minus)}`,
      `L(w) = ${f64(msg.loss)}`,
      'numeric = (L(w + h) − L(w − h)) / 2h · backprop = dL/dw of the backward pass (batch mean)',
    ],
    kinks,
  };
}

// parseH reads the h field: a finite number > 0, or null.
export function parseH(text) {
  const t = String(text).trim();
  if (t === '') return null;
  const v = Number(t);
  return Number.isFinite(v) && v > 0 ? v : null;
}
