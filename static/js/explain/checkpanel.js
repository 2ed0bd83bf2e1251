// checkpanel.js — the gradient check in the drill-down panel: for the
// weight (or bias) of the cell drilled into, an h field and a Check button
// ask the session for a central difference of the batch's loss; the
// answer shows beside the backprop gradient with their relative error, and
// the kinks (a ReLU mask or a max-pool switch that changed within ±h) when
// there are any. checkview.js formats it. Its state is app.explain.check.

import { $, el } from '../dom.js';
import { checkView, parseH, paramName } from './checkview.js';
import { askCheck } from './requests.js';

// setCheckParam offers the check for question q's parameter (q.param "W"
// or "b", q.layer, q.index), or hides it (q null).
export function setCheckParam(app, q) {
  const sec = $('gradcheck');
  const c = app.explain.check;
  if (!q) {
    sec.hidden = true;
    c.param = null;
    return;
  }
  const key = `${q.layer}|${q.param}|${q.index.join(',')}`;
  sec.hidden = false;
  if (c.param && c.param.key === key) return;
  c.param = { key, layer: q.layer, param: q.param, index: q.index.slice() };
  const name = (app.lab.welcome.layers[q.layer] || {}).name || `layer ${q.layer}`;
  $('gradcheck-param').textContent = `${paramName(name, q.param, q.index)}: compare dL/d${q.param} of the backward pass with a central difference of the batch's loss`;
  clearResult();
}

// clearResult empties the result of an earlier check.
function clearResult() {
  for (const id of ['gradcheck-numeric', 'gradcheck-analytic', 'gradcheck-relerr', 'gradcheck-verdict', 'gradcheck-status']) $(id).textContent = '';
  $('gradcheck-kinks').replaceChildren();
  $('gradcheck-details').replaceChildren();
  $('gradcheck').dataset.state = 'idle';
  $('gradcheck-result').hidden = true;
}

// showCheckStatus says where the check stands, or why it was refused.
export function showCheckStatus(app, text, code) {
  const s = $('gradcheck-status');
  s.textContent = text;
  s.classList.toggle('refused', !!code);
  $('gradcheck').dataset.state = code ? (code === 'playing' ? 'playing' : 'refused') : 'checking';
}

// renderCheck shows a gradcheck reply.
export function renderCheck(app, msg) {
  const v = checkView(msg);
  $('gradcheck-numeric').textContent = v.numeric;
  $('gradcheck-analytic').textContent = v.analytic;
  $('gradcheck-relerr').textContent = v.relError;
  const verdict = $('gradcheck-verdict');
  verdict.textContent = v.verdictText;
  verdict.dataset.verdict = v.verdict;
  $('gradcheck-kinks').replaceChildren(...v.kinks.map((k) => el('li', '', k)));
  $('gradcheck-details').replaceChildren(...v.details.map((d) => el('li', '', d)));
  $('gradcheck-status').textContent = `checked ${v.title}`;
  $('gradcheck-status').classList.remove('refused');
  $('gradcheck-result').hidden = false;
  const sec = $('gradcheck');
  sec.dataset.state = 'done';
  sec.dataset.kinks = String(v.kinks.length);
  $('gradcheck-result').scrollIntoView({ block: 'nearest' });
}

// installCheck connects the Check button and the h field.
export function installCheck(app) {
  const run = () => {
    const c = app.explain.check.param;
    if (!c) return;
    const h = parseH($('gradcheck-h').value);
    if (h === null) {
      showCheckStatus(app, 'h must be a number greater than 0, e.g. 1e-5.', 'invalid');
      return;
    }
    clearResult();
    askCheck(app, c.layer, c.param, c.index, h);
  };
  $('gradcheck-run').addEventListener('click', run);
  $('gradcheck-h').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); run(); }
  });
}
