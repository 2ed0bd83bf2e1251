// panel.js — the drill-down panel: how one number was computed, as the
// engine answered (rows.js formats it; nothing is recomputed): the
// formula, a picture of the window, the intermediate lines, the terms
// largest first, the folded rest, the sum and the total (written exactly
// as the tooltip writes the cell's value), the batch's shares, the
// optimizer's numbers and the engine's note. The owner of a room can show
// the cell to every page. A weight's cell offers the gradient check.

import { $, el } from '../dom.js';
import { explanationView, questionTitle } from './rows.js';
import { picture } from './pictures.js';
import { sendLook, askExplain } from './requests.js';
import { setCheckParam } from './checkpanel.js';

// openPanel shows the panel (keeping where the focus was, to go back to).
function openPanel(app) {
  const p = $('explain');
  if (p.hidden) {
    app.explain.returnFocus = document.activeElement;
    p.hidden = false;
    document.body.classList.add('explain-open');
  }
}

// closePanel hides the panel and gives the focus back.
export function closePanel(app) {
  const p = $('explain');
  if (p.hidden) return;
  p.hidden = true;
  document.body.classList.remove('explain-open');
  app.explain.id = 0;
  const back = app.explain.returnFocus;
  app.explain.returnFocus = null;
  if (back && back.isConnected && typeof back.focus === 'function') back.focus({ preventScroll: true });
}

// showPanelStatus opens the panel on question q with a status line instead
// of an answer (asking, or refused: code).
export function showPanelStatus(app, q, text, code) {
  openPanel(app);
  if (q) $('explain-title').textContent = q.title || questionTitle(q, app.lab.welcome && app.lab.welcome.layers);
  const body = $('explain-body');
  const s = el('p', code ? 'xp-status refused' : 'xp-status', text);
  s.setAttribute('role', code ? 'alert' : 'status');
  body.replaceChildren(s);
  $('explain').dataset.state = code ? 'refused' : 'asking';
  syncActions(app, q, false);
}

// syncActions shows the owner's look button and the gradient check for the
// question's cell.
function syncActions(app, q, answered) {
  const owner = app.room.role === 'owner';
  $('explain-look').hidden = !(owner && q && answered);
  $('explain-look-status').textContent = '';
  setCheckParam(app, q && q.param ? q : null);
}

// table builds a two-column table of {label, value, current} rows.
function table(cls, rows, head) {
  const t = el('table', cls);
  if (head) {
    const tr = el('tr');
    for (const h of head) tr.append(el('th', '', h));
    const th = el('thead');
    th.append(tr);
    t.append(th);
  }
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', r.current ? 'current' : '');
    tr.append(el('td', '', r.label), el('td', 'num', r.value));
    tb.append(tr);
  }
  t.append(tb);
  return t;
}

// ROWS is how many terms the table shows at first; a button shows the rest.
const ROWS = 24;

// termRows builds the rows of terms.
function termRows(terms) {
  return terms.map((r) => {
    const tr = el('tr', `${r.padding ? 'pad' : ''}${r.winner ? ' winner' : ''}`.trim());
    const term = el('td', 'xp-term');
    const names = el('div', 'xp-names', r.a);
    const vals = el('div', 'xp-vals', r.av);
    if (r.b) {
      names.append(el('span', 'xp-times', ' · '), r.b);
      vals.append(el('span', 'xp-times', ' × '), r.bv);
    }
    term.append(names, vals);
    if (r.tags.length) term.append(el('div', 'xp-tags', r.tags.join(' · ')));
    tr.append(term, el('td', 'num', r.product));
    return tr;
  });
}

// termsTable builds the table of the terms: the first ROWS, and a button
// that shows the others (all of them are in the answer).
function termsTable(v) {
  const t = el('table', 'xp-terms');
  const head = el('tr');
  for (const h of ['term: which numbers, their values', '= product']) head.append(el('th', '', h));
  const th = el('thead');
  th.append(head);
  const tb = el('tbody');
  tb.append(...termRows(v.terms.slice(0, ROWS)));
  t.append(th, tb);
  const rest = v.terms.length - ROWS;
  if (rest <= 0) return [t];
  const b = el('button', 'xp-more', `show the other ${rest} terms`);
  b.type = 'button';
  b.addEventListener('click', () => {
    tb.append(...termRows(v.terms.slice(ROWS)));
    b.remove();
  });
  return [t, b];
}

// renderExplanation fills the panel with the answer msg to question q
// (asked at t0, performance.now() time: the panel records how long the
// answer took to show, in data-latency-ms).
export function renderExplanation(app, msg, q, t0) {
  openPanel(app);
  const v = explanationView(msg, q && q.kind);
  $('explain-title').textContent = v.title;
  const parts = [el('p', 'xp-who', v.who)];
  if (v.formula) parts.push(el('p', 'xp-formula', v.formula));
  const pic = picture(msg);
  if (pic) parts.push(pic);
  if (v.lines.length) {
    const ul = el('ul', 'xp-lines');
    for (const l of v.lines) {
      const li = el('li', '', l.text);
      if (l.args) li.append(el('span', 'xp-args', `  (${l.args})`));
      ul.append(li);
    }
    parts.push(ul);
  }
  if (v.terms.length) {
    const box = el('div', 'xp-terms-box');
    // it scrolls: the keyboard can reach it
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', 'The terms');
    box.append(...termsTable(v));
    parts.push(box);
  }
  if (v.folded) {
    const f = el('p', 'xp-folded', `${v.folded} `);
    if (q && !q.more && msg.terms_total > (msg.terms || []).length) {
      const b = el('button', 'xp-more', 'ask for more terms');
      b.type = 'button';
      b.addEventListener('click', () => askExplain(app, { ...q, more: true }));
      f.append(b);
    }
    parts.push(f);
  }
  parts.push(el('p', 'xp-sum', v.sumText));
  const total = el('p', 'xp-total');
  const num = el('strong', 'xp-total-num', v.total);
  num.id = 'explain-total';
  num.dataset.testid = 'explain-total';
  total.append(el('span', '', `${v.totalLabel} = `), num);
  parts.push(total);
  if (v.batch) {
    parts.push(el('h3', 'xp-h', 'The batch: each sample’s share'));
    parts.push(table('xp-batch', [...v.batch.rows, { label: 'Σ (batch)', value: v.batch.total }]));
    parts.push(el('p', 'xp-caption', v.batch.text));
  }
  if (v.update) {
    parts.push(el('h3', 'xp-h', 'The optimizer’s step'));
    parts.push(table('xp-update', v.update));
  }
  if (v.note) parts.push(el('p', 'xp-note', v.note));
  $('explain-body').replaceChildren(...parts);
  const p = $('explain');
  p.dataset.state = 'answered';
  p.dataset.layer = String(msg.layer);
  p.dataset.tensor = msg.tensor;
  p.dataset.index = (msg.index || []).join(',');
  const e = app.explain;
  e.msg = msg;
  e.filled = (e.filled || 0) + 1;
  p.dataset.filled = String(e.filled);
  if (t0 !== undefined) {
    // how long the answer took: from the user's click to the panel filled,
    // and of it, the click to the question sent, the wait for the answer
    // and the panel's rendering
    const now = performance.now();
    p.dataset.latencyMs = (now - t0).toFixed(2);
    p.dataset.timing = [e.sentAt - t0, e.gotAt - e.sentAt, now - e.gotAt].map((x) => x.toFixed(1)).join(' ');
  }
  syncActions(app, q, true);
}

// installPanel connects the panel's buttons.
export function installPanel(app) {
  $('explain-close').addEventListener('click', () => closePanel(app));
  $('explain-look').addEventListener('click', () => {
    const q = app.explain.query;
    if (!q) return;
    sendLook(app, q);
    $('explain-look-status').textContent = 'shown on every page of the room';
  });
}
