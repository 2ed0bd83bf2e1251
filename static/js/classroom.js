// classroom.js — the room bar above a room's lab: keeps the number of
// students watching up to date from the server's "room" messages, which
// main.js passes on as "bpv:message" events of the document.

const viewers = document.getElementById('room-viewers');

document.addEventListener('bpv:message', (ev) => {
  const msg = ev.detail;
  if (!msg || msg.type !== 'room') return;
  if (viewers) viewers.textContent = String(msg.viewers);
});
