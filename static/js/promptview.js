// promptview.js — predict, then reveal, without a DOM: the choices a
// question offers, the class's tally as rows, a verdict in words, and the
// cell a click on a map points a question at. Every number is the
// server's (docs/protocol.md, "Prompts"), formatted only.

export const SIGN_WORDS = Object.freeze({ up: 'goes up', down: 'goes down', none: 'stays the same' });
export const SIGNS = Object.freeze(['up', 'down', 'none']);

// fmt formats a value the server sent (a float32) for a button.
export function fmt(v) {
  if (v === null || v === undefined) return 'pad';
  const n = Number(v);
  return Math.abs(n) >= 1e-3 || n === 0 ? String(Number(n.toPrecision(4))) : n.toExponential(2);
}

// choices are the one-click answers of a prompt: [{label, value}], value
// the pick's "choice"; [] for conv_reach and weight_sign, which have grids
// and rows of their own.
export function choices(msg) {
  switch (msg.kind) {
    case 'pool_switch': {
      const w = msg.window || { values: [] };
      return w.values.map((v, i) => ({ label: fmt(v), value: i, disabled: v === null, row: Math.floor(i / w.cols), col: i % w.cols }));
    }
    case 'class':
      return (msg.classes || []).map((c, i) => ({ label: String(c), value: i }));
    case 'choice':
      return (msg.options || []).map((o, i) => ({ label: String(o), value: i }));
    default:
      return [];
  }
}

// subtitle says what the question is about, in the field's words.
export function subtitle(msg) {
  const phase = msg.phase ? ` Reveal runs ${msg.phase}.` : '';
  switch (msg.kind) {
    case 'pool_switch': {
      const w = msg.window;
      return `${msg.layer_name}, channel ${msg.channel}, output (${msg.row}, ${msg.col}): the window of input rows ${w.y0}–${w.y0 + w.rows - 1}, columns ${w.x0}–${w.x0 + w.cols - 1}.${phase}`;
    }
    case 'conv_reach':
      return `${msg.grid.spec} (${msg.layer_name}), input channel ${msg.channel}: ${msg.grid.rows}×${msg.grid.cols} cells. Mark the cells that get no gradient, then send.${phase}`;
    case 'weight_sign':
      return `${msg.layer_name}: W[${weightIndex(msg).join(', ')}] = ${fmt(msg.weight)} now.${phase}`;
    case 'class':
      return `Step ${msg.step}, the sample on screen.${phase}`;
    default:
      return '';
  }
}

// weightIndex is the index of a weight_sign prompt's weight: (filter,
// input channel, row, column) of a conv, (output, input) of a dense layer.
export function weightIndex(msg) {
  return msg.layer_name && msg.layer_name.startsWith('dense') ? [msg.row, msg.col] : [msg.channel, msg.in, msg.row, msg.col];
}

// promptNumber is the card's number of the question: a lesson's question
// by its number in the lesson ("Question 2 of 5:"), any other by the order
// asked in the room.
export function promptNumber(msg) {
  return msg.lesson ? `Question ${msg.lesson} of ${msg.lesson_of}:` : `Question ${msg.prompt_id}:`;
}

// verdict says what the student's page tells after the reveal (or
// before it): {text, result: "right" | "wrong" | ""}. draft is a
// weight_sign answer being picked ({sign, size}, null where not picked):
// half of one is not sent, and the page says what is missing.
export function verdict(msg, mine, draft) {
  const answered = mine && mine.pick;
  if (msg && msg.status === 'open' && msg.kind === 'weight_sign' && !answered && draft) {
    const sign = draft.sign != null;
    const size = draft.size != null;
    if (sign && !size) return { text: 'Pick a size too: your answer counts once it has a direction and a size.', result: '' };
    if (size && !sign) return { text: 'Pick a direction too: your answer counts once it has a direction and a size.', result: '' };
  }
  if (!msg || msg.status === 'open') {
    return { text: answered ? 'Your answer is counted. You may change it until the teacher reveals.' : 'Answer on this card: the teacher will reveal the truth.', result: '' };
  }
  if (!answered) return { text: 'You did not answer this one.', result: '' };
  if (mine.correct === true) return { text: 'Right! Your prediction matched what the network computed.', result: 'right' };
  if (mine.correct === false) return { text: 'Not this time: see what the network computed below.', result: 'wrong' };
  return { text: 'A poll: no answer is right or wrong.', result: '' };
}

// tallyRows are the class's answers as rows of a table: {label, count,
// share (0..1 of the answers), truth}.
export function tallyRows(msg, tally) {
  if (!tally) return [];
  const n = Math.max(1, tally.answered || 0);
  const truth = msg.truth || null;
  const row = (label, count, isTruth) => ({ label, count, share: count / n, truth: !!isTruth });
  switch (msg.kind) {
    case 'weight_sign': {
      const signs = SIGNS.map((s, i) => row(SIGN_WORDS[s], (tally.counts || [])[i] || 0, truth && truth.sign === s));
      const sizes = (msg.buckets || []).map((b, i) => row(`|ΔW| ${b}`, (tally.sizes || [])[i] || 0, truth && truth.sign !== 'none' && truth.size === i));
      return signs.concat(sizes);
    }
    case 'conv_reach':
      return [];
    default:
      return choices(msg).map((c) => row(msg.kind === 'pool_switch' ? `cell (${c.row}, ${c.col}) = ${c.label}` : c.label,
        (tally.counts || [])[c.value] || 0, truth && truth.choice === c.value));
  }
}

// countLine is the tally's first line: answered of students, and right.
// The answers count those of students who have left since; the students,
// those here now: more answers than students says so.
export function countLine(tally) {
  if (!tally) return '';
  const right = tally.right === null || tally.right === undefined ? '' : ` · ${tally.right} right`;
  if (tally.answered > tally.students) {
    const here = tally.students === 1 ? '1 student' : `${tally.students} students`;
    return `${tally.answered} answered (${here} here now)${right}`;
  }
  return `${tally.answered} of ${tally.students} students answered${right}`;
}

// cellForPrompt turns a click on a map (an explain query: {layer, tensor,
// index}) into the cell fields of a prompt of kind, given the welcome's
// layers: {layer, channel, in, row, col} or {error}.
export function cellForPrompt(kind, q, layers) {
  const L = layers[q.layer];
  const next = layers[q.layer + 1];
  const idx = q.index || [];
  switch (kind) {
    case 'pool_switch':
      if (L && L.kind === 'maxpool' && (q.tensor === 'Y' || q.tensor === 'dY') && idx.length === 3) {
        return { layer: q.layer, channel: idx[0], in: 0, row: idx[1], col: idx[2] };
      }
      return { error: 'Click a cell of a max-pool layer\'s output (Y or dL/dY): its window is the question.' };
    case 'conv_reach':
      if (L && L.kind === 'conv' && q.tensor === 'dX' && idx.length === 3) return { layer: q.layer, channel: idx[0], in: 0, row: 0, col: 0 };
      if (next && next.kind === 'conv' && (q.tensor === 'Y' || q.tensor === 'dY') && idx.length === 3) {
        return { layer: q.layer + 1, channel: idx[0], in: 0, row: 0, col: 0 };
      }
      if (L && L.kind === 'conv') return { layer: q.layer, channel: 0, in: 0, row: 0, col: 0 };
      return { error: 'Click a map of a conv layer (or of its input): the question is about its input channel.' };
    case 'weight_sign':
      if (L && (L.kind === 'conv' || L.kind === 'dense') && ['dW', 'updateW'].includes(q.tensor)) {
        if (idx.length === 4) return { layer: q.layer, channel: idx[0], in: idx[1], row: idx[2], col: idx[3] };
        if (idx.length === 2) return { layer: q.layer, channel: 0, in: 0, row: idx[0], col: idx[1] };
      }
      return { error: 'Click a weight (W, dL/dW or ΔW) of a conv or dense layer.' };
    default:
      return { error: 'This kind of question is about no cell.' };
  }
}

// parseOptions reads the teacher's options, one a line, blank lines out.
export function parseOptions(text) {
  return String(text || '').split('\n').map((s) => s.trim()).filter((s) => s !== '');
}

// cellPress tells which events toggle a conv_reach cell: a pointerdown
// does (and a drag from it paints), and the click that ends that press does
// not toggle it again; a click with no pointerdown before it (assistive
// technology, element.click()) does. released forgets the press once the
// pointer is up (its click, if any, has been dispatched by then).
export function cellPress() {
  let pressed = null;
  return {
    down(i) { pressed = i; },
    click(i) {
      const ends = pressed === i;
      pressed = null;
      return !ends;
    },
    released() { pressed = null; },
  };
}
