// rows.js — an explanation message (docs/protocol.md, "explain") as what
// the drill-down panel shows: a title, the formula, the terms largest
// first, the folded rest, the sum and the total, the intermediate lines,
// the batch's shares and the optimizer's numbers. Numbers are the engine's,
// formatted only (fmt32: float32 of the engine's value, as the tooltip
// writes it); nothing is added up here. Pure: no DOM, no state.

import { fmt32 } from '../render/format.js';

// TENSOR_WORDS names the tensors of a question as the page writes them.
export const TENSOR_WORDS = Object.freeze({
  Y: 'Y', dY: 'δ', dX: 'dL/dX', dW: 'dL/dW', db: 'dL/db', updateW: 'W after the update', updateb: 'b after the update',
  loss: 'loss', batchloss: 'batch loss', p: 'p', dz: 'dL/dz',
});

// OPERAND_WORDS names the engine's operands where the page writes them
// otherwise (δ for dL/dY).
const OPERAND_WORDS = Object.freeze({ dY: 'δ' });

// indexText writes an index as "[2,5,7]" ("" for a scalar).
export function indexText(index) {
  return index && index.length ? `[${index.join(',')}]` : '';
}

// cellName writes a tensor cell, e.g. "dL/dX[3,5,5]".
export function cellName(tensor, index) {
  return `${TENSOR_WORDS[tensor] || tensor}${indexText(index)}`;
}

// questionTitle is the panel's heading for question q while it is asked
// or refused, as an answer's title reads: "conv 1 · δ[0,12,12]"; layers
// are the network's (welcome), whose names the page shows.
export function questionTitle(q, layers) {
  if (q.layer === -1) return `loss · ${cellName(q.tensor, q.index)}`;
  const name = ((layers || [])[q.layer] || {}).name || `layer ${q.layer}`;
  return `${name} · ${cellName(q.tensor, q.index)}`;
}

// num writes one of the engine's numbers (null: not finite).
export function num(v) {
  return v === null || v === undefined ? 'NaN' : fmt32(v);
}

// operandName writes which number a factor of a term is: "X[0,3,4]".
export function operandName(op) {
  return `${OPERAND_WORDS[op.name] || op.name}${indexText(op.index)}`;
}

// operandValue writes a factor's value ("0 (padding)" for a padding cell).
export function operandValue(op, padding) {
  return padding ? '0 (pad)' : num(op.value);
}

// termTags lists what the engine says about a term besides its numbers.
export function termTags(t) {
  const tags = [];
  if (t.padding) tags.push('zero padding');
  if (t.winner) tags.push(t.switch ? 'this cell won the window' : 'winner (the switch)');
  else if (t.switch) tags.push(`the window's switch is X${indexText(t.switch)}`);
  if (t.rotated) tags.push(`rot180 tap (${t.rotated.join(',')})`);
  if (t.dilated) tags.push(`dilated δ cell (${t.dilated.join(',')})`);
  return tags;
}

// orderTerms returns the terms largest |product| first; ties keep the
// engine's order.
export function orderTerms(terms) {
  return (terms || [])
    .map((t, i) => ({ t, i, a: Math.abs(t.product ?? 0) }))
    .sort((p, q) => q.a - p.a || p.i - q.i)
    .map((p) => p.t);
}

// termRow is one row of the terms table: the operands' names (a, b) and
// values (av, bv; b and bv are '' for a term of one operand).
export function termRow(t) {
  return {
    a: operandName(t.a),
    av: operandValue(t.a, t.padding),
    b: t.b ? operandName(t.b) : '',
    bv: t.b ? operandValue(t.b, false) : '',
    product: num(t.product),
    tags: termTags(t),
    padding: !!t.padding,
    winner: !!t.winner,
  };
}

// PARAM_KINDS are the frame kinds of a parameter's cells, with the
// parameter they belong to.
export const PARAM_KINDS = Object.freeze({
  weights: 'W', wgrad: 'W', swgrad: 'W', update: 'W', bias: 'b', bgrad: 'b', sbgrad: 'b', bupdate: 'b',
});

// totalOf is the number the panel gives as the cell's value: the one the
// tooltip shows for the cell clicked (kind, a frame kind). A cell of this
// sample's share of dL/dW (swgrad, sbgrad) shows the share, a cell of ΔW
// (update, bupdate) the change the update made; any other the engine's
// value.
export function totalOf(msg, kind) {
  if ((kind === 'update' || kind === 'bupdate') && msg.update) return msg.update.delta;
  if ((kind === 'swgrad' || kind === 'sbgrad') && msg.batch && msg.sample >= 0 && msg.batch.shares) {
    return msg.batch.shares[msg.sample];
  }
  if ((kind === 'swgrad' || kind === 'sbgrad') && msg.sample < 0) return msg.sum;
  return msg.value;
}

// whoText says whose number it is: the sample, the probe, the step.
function whoText(msg) {
  const who = msg.probe || msg.sample < 0 ? 'the probe image' : `sample ${msg.sample} of the batch`;
  const at = msg.step !== undefined ? ` · step ${msg.step}` : '';
  const done = msg.done && msg.done.label ? ` · after ${msg.done.label}` : '';
  return `${who}${at}${done}`;
}

// lineText writes an intermediate quantity: "m̂ = m / (1 − β1ᵗ) = 0.1".
export function lineText(q) {
  const f = q.formula && q.formula !== q.name ? ` = ${q.formula}` : '';
  const args = (q.args || []).map((a) => `${a.name} = ${num(a.value)}`).join(', ');
  return { text: `${q.name}${f} = ${num(q.value)}`, args };
}

// batchRows lists each sample's share of a batch gradient.
export function batchRows(batch, sample) {
  if (!batch) return null;
  const rows = (batch.shares || []).map((v, n) => ({ label: `sample ${n}`, value: num(v), current: n === sample }));
  return {
    rows,
    total: num(batch.total),
    text: `Σ over the ${batch.n} samples = ${num(batch.total)}: the batch's dL/dW, the mean of the samples' own gradients (each share carries the 1/N of the mean loss) — what the optimizer uses`,
  };
}

// UPDATE_FIELDS are the optimizer's numbers the panel lists, per
// optimizer, with their words.
const UPDATE_FIELDS = Object.freeze({
  common: [['before', 'before'], ['grad', 'dL/dθ (batch)'], ['weight_decay', 'λ (weight decay)'], ['g', 'g = dL/dθ + λ·θ'],
    ['learning_rate', 'lr']],
  sgd: [['momentum', 'μ'], ['buf_before', 'buffer before'], ['buf_after', 'buffer after'], ['direction', 'step direction']],
  adam: [['beta1', 'β1'], ['beta2', 'β2'], ['epsilon', 'ε'], ['step', 't'], ['m_before', 'm before'], ['m_after', 'm after'],
    ['v_before', 'v before'], ['v_after', 'v after'], ['bias_correction1', '1 − β1ᵗ'], ['bias_correction2', '1 − β2ᵗ'],
    ['denom', '√v̂ + ε']],
  end: [['after', 'after'], ['delta', 'Δ = after − before']],
});

// updateRows lists the optimizer's numbers of an update.
export function updateRows(u) {
  if (!u) return null;
  const rows = [{ label: 'optimizer', value: String(u.optimizer) }];
  const add = (fields) => {
    for (const [k, label] of fields) {
      if (u[k] === undefined || u[k] === null) continue;
      rows.push({ label, value: k === 'step' ? String(u[k]) : num(u[k]) });
    }
  };
  add(UPDATE_FIELDS.common);
  if (u.optimizer === 'sgd' && u.momentum) add(UPDATE_FIELDS.sgd);
  if (u.optimizer === 'adam') add(UPDATE_FIELDS.adam);
  for (const s of u.state || []) {
    rows.push({ label: `${s.name} before`, value: num(s.before) }, { label: `${s.name} after`, value: num(s.after) });
  }
  add(UPDATE_FIELDS.end);
  return rows;
}

// totalLabel names the number totalOf gives.
function totalLabel(msg, kind) {
  const cell = cellName(msg.tensor, msg.index);
  if (kind === 'swgrad' || kind === 'sbgrad') return `this sample's share of ${cell}`;
  if ((kind === 'update' || kind === 'bupdate') && msg.update) {
    return `Δ${kind === 'update' ? 'W' : 'b'}${indexText(msg.index)} = after − before`;
  }
  return cell;
}

// explanationView turns an explanation message into what the panel shows;
// kind is the frame kind of the cell that was clicked (it picks the total).
export function explanationView(msg, kind) {
  const terms = orderTerms(msg.terms).map(termRow);
  const folded = msg.folded > 0
    ? `+ ${msg.folded} more term${msg.folded === 1 ? '' : 's'} (sum ${num(msg.folded_sum)})`
    : '';
  const share = kind === 'swgrad' || kind === 'sbgrad';
  const n = msg.terms_total ?? terms.length;
  let sumText = `Σ of the ${n} term${n === 1 ? '' : 's'} = ${num(msg.sum)}`;
  if (n === 0) sumText = 'no terms: nothing reaches this cell';
  if (msg.batch && !share) sumText += ` (this sample's share of the batch's value)`;
  return {
    title: `${msg.name} · ${cellName(msg.tensor, msg.index)}`,
    who: whoText(msg),
    formula: msg.formula || '',
    note: msg.note || '',
    lines: (msg.lines || []).map(lineText),
    terms,
    folded,
    sumText,
    totalLabel: totalLabel(msg, kind),
    total: num(totalOf(msg, kind)),
    batch: batchRows(msg.batch, msg.probe ? -1 : msg.sample),
    update: updateRows(msg.update),
  };
}
