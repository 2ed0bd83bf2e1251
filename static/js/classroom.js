// classroom.js — the room bar above a room's lab: keeps the number of
// students watching up to date from the server's "room" messages, which
// the lab's messages.js passes on as "bpv:message" events of the document.

const viewers = document.getElementById('room-viewers');
const word = document.getElementById('room-viewers-word');

document.addEventListener('bpv:message', (ev) => {
  const msg = ev.detail;
  if (!msg || msg.type !== 'room') return;
  const n = Number(msg.viewers) || 0;
  if (viewers) viewers.textContent = String(n);
  if (word) word.textContent = n === 1 ? 'student' : 'students';
});
