// classroom.js — the room bar above a room's lab: keeps the number of
// students watching up to date from the server's "room" messages, which
// the lab's messages.js passes on as "bpv:message" events of the document;
// shows the teacher's dashboard ("dashboard" messages, owner's page only)
// and sends its actions as "bpv:cmd" events, which controls.js sends; takes
// a student's page back to the room when the teacher says so ("class").

import { dashboardRows, STATUS_WORDS, studentsWord } from './dashboard.js';
import { showAlert } from './dom.js';
import { installLessonPlan } from './lessonplan.js';
import './prompt.js'; // predict, then reveal

const viewers = document.getElementById('room-viewers');
const word = document.getElementById('room-viewers-word');
const forkButton = document.querySelector('[data-testid=fork]');

// command asks the page's connection to send a command.
function command(cmd, args) {
  document.dispatchEvent(new CustomEvent('bpv:cmd', { detail: { cmd, args } }));
}

const dash = {
  rows: document.getElementById('dash-rows'),
  count: document.getElementById('dash-count'),
  countWord: document.getElementById('dash-count-word'),
  forks: document.getElementById('dash-forks'),
  back: document.getElementById('dash-back'),
  allowed: true,
};

// drawDashboard shows the students of a dashboard message.
function drawDashboard(msg) {
  if (!dash.rows) return;
  dash.allowed = !!msg.forks;
  dash.forks.textContent = dash.allowed ? 'Lock forking' : 'Allow forking';
  dash.forks.setAttribute('aria-pressed', dash.allowed ? 'false' : 'true');
  const rows = dashboardRows(msg);
  const here = rows.filter((r) => r.status !== 'gone').length;
  dash.count.textContent = String(here);
  if (dash.countWord) dash.countWord.textContent = studentsWord(here);
  dash.rows.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'student-row';
    tr.dataset.student = r.id;
    tr.dataset.status = r.status;
    for (const text of [r.nick, STATUS_WORDS[r.status] || r.status, r.step, r.loss, r.acc]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const answered = document.createElement('td');
    answered.dataset.testid = 'student-answered';
    answered.dataset.answer = r.answerState;
    answered.textContent = r.answer;
    if (r.answerState === 'none') answered.setAttribute('aria-label', 'not answered');
    tr.append(answered);
    const td = document.createElement('td');
    if (r.hasFork) {
      const end = document.createElement('button');
      end.type = 'button';
      end.textContent = 'End fork';
      end.dataset.testid = 'end-fork';
      end.addEventListener('click', () => command('class', { action: 'end_fork', student: r.id }));
      td.append(end);
    }
    const rm = document.createElement('button');
    rm.type = 'button';
    rm.textContent = 'Remove';
    rm.dataset.testid = 'remove-student';
    rm.setAttribute('aria-label', `Remove ${r.nick} from the room`);
    rm.addEventListener('click', () => command('class', { action: 'remove', student: r.id }));
    td.append(rm);
    tr.append(td);
    return tr;
  }));
}

installLessonPlan(document); // the lesson panel's Ask buttons (owner's page of a lesson's room)

dash.back?.addEventListener('click', () => command('class', { action: 'bring_back' }));
dash.forks?.addEventListener('click', () => command('class', { action: dash.allowed ? 'lock_forks' : 'allow_forks' }));

document.addEventListener('bpv:message', (ev) => {
  const msg = ev.detail;
  if (!msg) return;
  switch (msg.type) {
    case 'room': {
      const n = Number(msg.viewers) || 0;
      if (viewers) viewers.textContent = String(n);
      if (word) word.textContent = studentsWord(n);
      // the teacher may lock forking: the button goes while it is
      if (forkButton) forkButton.closest('form').hidden = msg.forks === false;
      break;
    }
    case 'dashboard':
      drawDashboard(msg);
      break;
    case 'class':
      // the teacher brings the class back to the room's view
      if (msg.action === 'back' && typeof msg.to === 'string' && msg.to.startsWith('/r/')) {
        try { sessionStorage.setItem('bpv.class', msg.message || ''); } catch { /* no storage */ }
        location.assign(msg.to);
      }
      break;
    default:
  }
});

// a page the teacher brought back says why, once
try {
  const said = sessionStorage.getItem('bpv.class');
  if (said) {
    sessionStorage.removeItem('bpv.class');
    showAlert(said, 'info');
  }
} catch { /* no storage */ }
