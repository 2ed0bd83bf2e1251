// dashboard.js — the rows of the teacher's dashboard from a "dashboard"
// message (docs/protocol.md, "The class"): pure, without a DOM. Numbers are
// the server's, formatted only.

// STATUS_WORDS say what each student is doing.
export const STATUS_WORDS = Object.freeze({
  watching: 'watching',
  fork: 'in their fork',
  idle: 'idle',
  gone: 'gone',
});

// ANSWER_WORDS say what a student did with the question on the pages
// (never what they answered): before the reveal whether they answered,
// after it whether they were right.
export const ANSWER_WORDS = Object.freeze({
  none: '—',
  answered: 'answered',
  right: 'right',
  wrong: 'wrong',
});

// studentsWord is the word after a count of students: "1 student", "2 students".
export function studentsWord(n) {
  return n === 1 ? 'student' : 'students';
}

// dashboardRows turns a dashboard message into table rows: nickname,
// status, and the fork's step, loss and training accuracy as text ('' when
// the student has no fork, '—' before its first step), and what they did
// with the question on the pages ('' while there is none).
export function dashboardRows(msg) {
  return (msg.students || []).map((s) => {
    const f = s.fork;
    return {
      id: String(s.id),
      nick: String(s.nick),
      status: String(s.status),
      hasFork: !!f,
      step: f ? String(f.step) : '',
      loss: f ? (f.loss == null ? '—' : Number(f.loss).toPrecision(4)) : '',
      acc: f ? (f.train_acc == null ? '—' : `${(Number(f.train_acc) * 100).toFixed(1)}%`) : '',
      answerState: s.answer ? String(s.answer) : '',
      answer: s.answer ? (ANSWER_WORDS[s.answer] || String(s.answer)) : '',
    };
  });
}
