// prompt.js — predict, then reveal on a room's page (docs/protocol.md,
// "Prompts"). A student's page shows the teacher's question in a card and
// sends the answer ("answer" messages, through the lab's connection as
// "bpv:send" events), which may change until the reveal, then says whether
// it was right. The owner's page asks ("prompt" command: the kind, a cell
// picked on the maps or typed, the words, a choice's options), reveals or
// takes the question down (a lesson's prompts too, from the lesson panel's
// Ask buttons), and shows on the projector the class's tally
// live and, after the reveal, the truth the engine computed beside it.

import { showAlert, hideAlert } from './dom.js';
import { LESSON_PROMPT } from './lessonplan.js';
import { cellPress, choices, promptNumber, subtitle, verdict, tallyRows, countLine, cellForPrompt, parseOptions, SIGNS, SIGN_WORDS } from './promptview.js';

const $ = (id) => document.getElementById(id);
const card = $('prompt');
const form = $('prompt-form'); // the owner's only
const owner = !!form;
const st = {
  msg: null, // the question shown (a "prompt" message)
  mine: null, // this student's answer as the server counted it
  tally: null, // the owner's live tally
  layers: [], // the network's layers (welcome), for picking a cell
  picking: false,
  cells: new Set(), // conv_reach: the cells marked
  sign: null, size: null, // weight_sign
  paint: null, // conv_reach: what a drag over the cells paints (null: no drag)
};

const press = cellPress();
addEventListener('pointerup', () => { st.paint = null; setTimeout(() => press.released(), 0); });

// send sends a message through the lab's connection; onReply (if given)
// gets its ack or error.
const waiting = new Map(); // id → onReply
function send(msg, onReply) {
  const detail = { msg };
  document.dispatchEvent(new CustomEvent('bpv:send', { detail }));
  if (onReply && detail.id !== undefined) waiting.set(detail.id, onReply);
}

function command(cmd, args, onReply) {
  send({ type: 'cmd', cmd, ...(args || {}) }, onReply);
}

document.addEventListener('bpv:reply', (ev) => {
  const r = ev.detail;
  const f = waiting.get(r.id);
  if (!f) return;
  waiting.delete(r.id);
  f(r);
});

function answer(pick) {
  if (!st.msg || st.msg.status !== 'open' || owner) return;
  send({ type: 'answer', prompt_id: st.msg.prompt_id, pick }, (r) => {
    if (r.type !== 'error') return;
    const s = $('prompt-status');
    s.textContent = `Not counted: ${r.message}`;
    s.dataset.result = 'wrong';
  });
}

function button(label, attrs, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

// drawAnswers builds the answer controls of the question.
function drawAnswers() {
  const box = $('prompt-answers');
  const m = st.msg;
  const open = m.status === 'open' && !owner;
  box.replaceChildren();
  if (m.kind === 'conv_reach') {
    const g = document.createElement('div');
    g.className = 'prompt-grid prompt-plane';
    g.style.gridTemplateColumns = `repeat(${m.grid.cols}, 14px)`;
    g.setAttribute('role', 'group');
    g.setAttribute('aria-label', 'The input plane: mark the cells that get no gradient');
    const set = (b, on) => {
      const i = Number(b.dataset.value);
      if (on) st.cells.add(i); else st.cells.delete(i);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    };
    for (let i = 0; i < m.grid.rows * m.grid.cols; i++) {
      const b = button('', { 'data-testid': 'prompt-cell', 'data-value': String(i), 'aria-pressed': st.cells.has(i) ? 'true' : 'false',
        'aria-label': `row ${Math.floor(i / m.grid.cols)}, column ${i % m.grid.cols}` });
      b.disabled = !open;
      b.addEventListener('pointerdown', (ev) => {
        press.down(i);
        st.paint = !st.cells.has(i);
        set(b, st.paint);
        b.releasePointerCapture?.(ev.pointerId); // a drag (a touch too) reaches the next cells
        ev.preventDefault();
      });
      b.addEventListener('pointerenter', () => { if (st.paint !== null) set(b, st.paint); });
      b.addEventListener('click', () => { if (press.click(i)) set(b, !st.cells.has(i)); });
      b.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { set(b, !st.cells.has(i)); ev.preventDefault(); } });
      g.append(b);
    }
    box.append(g);
    if (open) {
      const row = document.createElement('div');
      row.className = 'prompt-row';
      row.append(button('Send my answer', { 'data-testid': 'prompt-send-cells', class: 'primary' }, () => answer({ cells: [...st.cells].sort((a, b) => a - b) })),
        button('Clear', {}, () => { st.cells.clear(); drawAnswers(); }));
      box.append(row);
    }
  } else if (m.kind === 'weight_sign') {
    const signs = document.createElement('div');
    signs.className = 'prompt-row';
    signs.append(Object.assign(document.createElement('span'), { textContent: 'W' }));
    for (const s of SIGNS) {
      const b = button(SIGN_WORDS[s], { 'data-testid': 'prompt-sign', 'data-value': s }, () => { st.sign = s; sendWeight(); drawAnswers(); drawStatus(); });
      b.disabled = !open;
      signs.append(b);
    }
    const sizes = document.createElement('div');
    sizes.className = 'prompt-row';
    sizes.append(Object.assign(document.createElement('span'), { textContent: 'by |ΔW|' }));
    (m.buckets || []).forEach((label, i) => {
      const b = button(label, { 'data-testid': 'prompt-size', 'data-value': String(i) }, () => { st.size = i; sendWeight(); drawAnswers(); drawStatus(); });
      b.disabled = !open;
      sizes.append(b);
    });
    box.append(signs, sizes);
  } else {
    const cs = choices(m);
    let parent = box;
    if (m.kind === 'pool_switch') {
      parent = document.createElement('div');
      parent.className = 'prompt-grid prompt-window';
      parent.style.gridTemplateColumns = `repeat(${m.window.cols}, auto)`;
      box.append(parent);
    }
    for (const c of cs) {
      const b = button(c.label, { 'data-testid': 'prompt-choice', 'data-value': String(c.value) }, () => answer({ choice: c.value }));
      if (m.kind === 'pool_switch') b.setAttribute('aria-label', `window cell row ${c.row}, column ${c.col}: ${c.label}`);
      b.disabled = !open || !!c.disabled;
      parent.append(b);
    }
  }
  markAnswers();
}

function sendWeight() {
  if (st.sign !== null && st.size !== null) answer({ sign: st.sign, size: st.size });
}

// markAnswers presses the student's counted answer, marks the truth after
// the reveal and, on the owner's page, the class's marks of a plane.
function markAnswers() {
  const m = st.msg;
  const pick = (st.mine && st.mine.prompt_id === m.prompt_id && st.mine.pick) || null;
  const truth = m.truth || null;
  for (const b of $('prompt-answers').querySelectorAll('button[data-value]')) {
    const v = b.dataset.value;
    let mine = false;
    let right = false;
    switch (b.dataset.testid) {
      case 'prompt-choice':
        mine = !!pick && pick.choice === Number(v);
        right = !!truth && truth.choice === Number(v);
        break;
      case 'prompt-sign':
        mine = pick ? pick.sign === v : st.sign === v;
        right = !!truth && truth.sign === v;
        break;
      case 'prompt-size':
        mine = pick ? pick.size === Number(v) : st.size === Number(v);
        right = !!truth && truth.sign !== 'none' && truth.size === Number(v);
        break;
      case 'prompt-cell':
        right = !!truth && (truth.cells || []).includes(Number(v));
        if (owner && st.tally && st.tally.cells) {
          const n = st.tally.cells[Number(v)] || 0;
          b.style.opacity = String(0.25 + 0.75 * n / Math.max(1, st.tally.answered));
          b.setAttribute('aria-pressed', n > 0 ? 'true' : 'false');
          b.title = `${n} marked it`;
        }
        b.classList.toggle('truth', right);
        continue;
      default:
    }
    b.setAttribute('aria-pressed', mine ? 'true' : 'false');
    b.classList.toggle('truth', right);
  }
}

// drawStatus says where the question stands: for a student, whether the
// answer is counted and, after the reveal, right; for the owner the tally.
function drawStatus() {
  const m = st.msg;
  const s = $('prompt-status');
  if (owner) {
    const t = m.tally || st.tally;
    s.textContent = t && t.prompt_id === m.prompt_id ? countLine(t) : 'No answer yet.';
    s.dataset.result = '';
    drawTally();
  } else {
    const v = verdict(m, st.mine && st.mine.prompt_id === m.prompt_id ? st.mine : null, { sign: st.sign, size: st.size });
    s.textContent = v.text;
    s.dataset.result = v.result;
  }
  const why = $('prompt-why');
  why.hidden = !m.truth;
  why.textContent = m.truth ? `What the network computed: ${m.truth.why}` : '';
}

// drawTally shows the class's answers as bars, the truth marked.
function drawTally() {
  const box = $('prompt-tally');
  if (!box) return;
  const m = st.msg;
  const t = m.tally || (st.tally && st.tally.prompt_id === m.prompt_id ? st.tally : null);
  const rows = tallyRows(m, t);
  const table = document.createElement('table');
  for (const r of rows) {
    const tr = document.createElement('tr');
    if (r.truth) tr.className = 'truth';
    const bar = document.createElement('span');
    bar.style.width = `${Math.round(r.share * 100)}%`;
    const cells = [r.label, bar, String(r.count)].map((c) => {
      const td = document.createElement('td');
      td.append(c);
      return td;
    });
    cells[1].className = 'bar';
    tr.append(...cells);
    table.append(tr);
  }
  box.replaceChildren(...(rows.length ? [table] : []));
  box.dataset.answered = t ? String(t.answered) : '0';
  if (m.kind === 'conv_reach') markAnswers();
}

function showPrompt(msg) {
  if (msg.status === 'closed') {
    if (st.msg && st.msg.prompt_id === msg.prompt_id) st.msg = null;
    if (card) card.hidden = true;
    syncOwner();
    return;
  }
  const fresh = !st.msg || st.msg.prompt_id !== msg.prompt_id;
  st.msg = msg;
  if (fresh) {
    st.cells = new Set();
    st.sign = null;
    st.size = null;
  }
  if (!card) return;
  if (fresh) setMinimized(false); // a new question is shown whole
  // a note (the teacher brought everyone back) gives way to the question,
  // which takes the bottom of the screen it stood on
  if (fresh && $('alert').dataset.kind === 'info') hideAlert();
  card.hidden = false;
  card.dataset.status = msg.status;
  card.dataset.kind = msg.kind;
  $('prompt-number').textContent = promptNumber(msg);
  $('prompt-question-text').textContent = msg.question;
  $('prompt-sub').textContent = subtitle(msg);
  drawAnswers();
  drawStatus();
  syncOwner();
}

// setMinimized makes the card small (its heading and the owner's buttons)
// or whole again.
function setMinimized(on) {
  card.dataset.min = on ? 'true' : 'false';
  const b = $('prompt-min');
  b.setAttribute('aria-expanded', on ? 'false' : 'true');
  b.textContent = on ? 'Show' : 'Minimize';
  b.title = on ? 'Show the whole question' : 'Make the card small: the maps behind it show';
}
if (card) $('prompt-min').addEventListener('click', () => setMinimized(card.dataset.min !== 'true'));

// syncOwner enables the owner's Reveal and close buttons as the question
// stands.
function syncOwner() {
  if (!owner) return;
  $('prompt-reveal').disabled = !st.msg || st.msg.status !== 'open';
  $('prompt-close').disabled = !st.msg;
}

document.addEventListener('bpv:welcome', (ev) => { st.layers = (ev.detail && ev.detail.layers) || []; });

document.addEventListener('bpv:message', (ev) => {
  const msg = ev.detail;
  if (!msg) return;
  switch (msg.type) {
    case 'prompt':
      showPrompt(msg);
      break;
    case 'prompt_tally':
      st.tally = msg;
      if (st.msg && card && !card.hidden) drawStatus();
      break;
    case 'prompt_mine':
      st.mine = msg;
      if (st.msg && msg.prompt_id === st.msg.prompt_id && msg.pick && msg.pick.cells && st.msg.kind === 'conv_reach') st.cells = new Set(msg.pick.cells);
      if (st.msg && card && !card.hidden) { markAnswers(); drawStatus(); }
      break;
    default:
  }
});

// ---- the owner's form --------------------------------------------------
if (owner) {
  const kind = $('prompt-kind');
  const note = (text, error) => {
    const n = $('prompt-form-note');
    n.textContent = text;
    n.dataset.kind = error ? 'error' : '';
  };
  const syncKind = () => {
    $('prompt-choice').hidden = kind.value !== 'choice';
    $('prompt-cell').hidden = kind.value === 'choice' || kind.value === 'class';
  };
  kind.addEventListener('change', syncKind);
  syncKind();
  const pickButton = $('prompt-pick');
  const setPicking = (on) => {
    st.picking = on;
    pickButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    $('prompt-pick-note').textContent = on ? 'Click the cell on the maps.' : '';
  };
  pickButton.addEventListener('click', () => setPicking(!st.picking));
  document.addEventListener('bpv:cell', (ev) => {
    if (!st.picking) return;
    ev.preventDefault(); // the cell is the question's, not a drill-down's
    const c = cellForPrompt(kind.value, ev.detail || {}, st.layers);
    if (c.error) { $('prompt-pick-note').textContent = c.error; return; }
    for (const f of ['layer', 'channel', 'in', 'row', 'col']) $(`prompt-${f}`).value = String(c[f]);
    setPicking(false);
    const name = (st.layers[c.layer] || {}).name || `layer ${c.layer}`;
    note(`Picked ${name}, channel ${c.channel}, row ${c.row}, column ${c.col}.`);
  });
  const int = (id) => Math.max(0, Math.trunc(Number($(id).value) || 0));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const spec = { kind: kind.value, question: $('prompt-question').value.trim() };
    if (spec.kind !== 'choice' && spec.kind !== 'class') {
      Object.assign(spec, { layer: int('prompt-layer'), channel: int('prompt-channel'), in: int('prompt-in'), row: int('prompt-row'), col: int('prompt-col') });
    }
    if (spec.kind === 'choice') {
      spec.options = parseOptions($('prompt-options').value);
      spec.answer = int('prompt-answer') - 1;
      if (spec.options.length < 2) { note('Type at least two options, one a line.', true); return; }
    }
    ask(spec);
  });
  // ask asks the class the prompt spec (protocol.PromptSpec): the form's,
  // or a lesson's when its Ask button is pressed (lessonplan.js).
  // A lesson's prompt refused (the room mid-phase, say) is said in the
  // page's alert too: the form holding the note may be closed.
  function ask(spec, lessonIndex) {
    note('Asking…');
    st.tally = null;
    command('prompt', { prompt: spec }, (r) => {
      if (r.type === 'error') {
        note(r.message, true);
        if (lessonIndex !== undefined) showAlert(`Question ${lessonIndex + 1} not asked: ${r.message}`, 'error');
      } else {
        note(spec.kind === 'choice' ? 'Asked.' : 'Asked: the room waits before the phase that answers it; Reveal runs it.');
        // the question's card takes over: the form folds back into its line
        if (lessonIndex === undefined) form.closest('details').open = false;
      }
    });
  }
  document.addEventListener(LESSON_PROMPT, (ev) => { if (ev.detail && ev.detail.spec) ask(ev.detail.spec, ev.detail.index); });
  const refused = (r) => { if (r.type === 'error') note(r.message, true); else note(''); };
  $('prompt-reveal').addEventListener('click', () => command('reveal', null, refused));
  $('prompt-close').addEventListener('click', () => command('close_prompt', null, refused));
}
