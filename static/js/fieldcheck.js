// fieldcheck.js — what is wrong with the text of a number field before
// anything is sent, and the words of a refused value's message. Pure: no
// DOM, no state (controls.js shows the messages).

// FIELD_WORDS name the number fields in their messages.
export const FIELD_WORDS = Object.freeze({
  lr: 'learning rate', batch: 'batch size', momentum: 'momentum μ', beta1: 'β1', beta2: 'β2', alpha: 'α',
  eps: 'ε', wd: 'weight decay λ', decay: 'decay epochs', seed: 'seed',
});

// WHOLE are the fields that take whole numbers only.
const WHOLE = new Set(['batch', 'seed']);

// numberProblem says what is wrong with raw, the text of number field id
// ('' when it reads as a number); bad is the field's validity.badInput
// (the browser keeps letters typed into a number field out of its value).
export function numberProblem(id, raw, bad) {
  const name = FIELD_WORDS[id] || id;
  const whole = WHOLE.has(id);
  const v = String(raw ?? '').trim();
  const n = Number(v);
  if (bad || v === '' || Number.isNaN(n)) return `${name}: type a ${whole ? 'whole ' : ''}number`;
  if (!Number.isFinite(n)) return `${name}: ${v} is too large a number`;
  if (whole && !Number.isInteger(n)) return `${name}: type a whole number`;
  // beyond 2^53 a page's number is no longer the whole number typed
  if (whole && !Number.isSafeInteger(n)) return `${name}: at most ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')} in magnitude (the page cannot send larger whole numbers exactly)`;
  return '';
}

// keptText is a refusal's message with the value still in effect.
export function keptText(message, kept) {
  return kept === undefined || kept === null || kept === '' ? message : `${message} (still ${kept})`;
}
