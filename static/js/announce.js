// announce.js — what a screen reader hears of the phase: a polite live
// region that is written at most once per gap (a second), with the newest
// text. While playing, phases change many times a second; the region then
// reads the phase of the moment once a second instead of a flood, and the
// last phase is never lost (a trailing write). Pure apart from the write
// function and the clock it is given, for node --test.

// Announcer writes texts through write, at most one per gapMs.
export class Announcer {
  // write(text) fills the live region; now() is a clock in milliseconds;
  // later(fn, ms) schedules fn (setTimeout).
  constructor(write, { gapMs = 1000, now = () => performance.now(), later = (fn, ms) => setTimeout(fn, ms) } = {}) {
    this.write = write;
    this.gapMs = gapMs;
    this.now = now;
    this.later = later;
    this.last = -Infinity; // when the region was last written
    this.said = null; // what it was last written with
    this.pending = null; // the newest text not written yet
    this.timer = false;
  }

  // say asks for text to be read: at once if the last write is a gap old,
  // else at the end of the gap (only the newest text asked for by then).
  say(text) {
    if (text === this.said && !this.timer) return;
    this.pending = text;
    if (this.timer) return;
    const wait = this.last + this.gapMs - this.now();
    if (wait <= 0) this.flush();
    else {
      this.timer = true;
      this.later(() => { this.timer = false; this.flush(); }, wait);
    }
  }

  flush() {
    const text = this.pending;
    this.pending = null;
    if (text === null || text === this.said) return;
    this.said = text;
    this.last = this.now();
    this.write(text);
  }
}
