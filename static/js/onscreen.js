// onscreen.js — which maps are on (or near) the screen, followed with an
// IntersectionObserver, and the subscription that asks for them
// (subscription.js), sent shortly after what is on screen changes. Its
// state is app.sub (see main.js).

import { wantedLayers, subscribeMessage } from './subscription.js';

// a map this close to the screen (a tenth of it) counts as on screen
const NEAR = '10%';
const NEAR_PART = 0.1;
// how long the page waits after scrolling or resizing before it changes
// its subscription
const RESUBSCRIBE_MS = 150;

// observeVisibility follows the canvases of the current layout: a view is
// visible when one of its canvases is on screen, and stale (to be drawn
// again) when it comes into view.
export function observeVisibility(app) {
  const sub = app.sub;
  if (sub.observer) sub.observer.disconnect();
  sub.onScreen.clear();
  const viewsOf = new Map(); // canvas → views drawn in it
  for (const v of app.layout.views) {
    v.visible = false;
    for (const sf of v.surfaces) {
      if (!viewsOf.has(sf.canvas)) viewsOf.set(sf.canvas, []);
      viewsOf.get(sf.canvas).push(v);
    }
  }
  sub.observer = new IntersectionObserver((entries) => {
    const touched = new Set();
    for (const e of entries) {
      if (e.isIntersecting) sub.onScreen.add(e.target);
      else sub.onScreen.delete(e.target);
      for (const v of viewsOf.get(e.target) || []) touched.add(v);
    }
    let came = false; // a map came on screen
    for (const v of touched) {
      const was = v.visible;
      v.visible = v.surfaces.some((sf) => sub.onScreen.has(sf.canvas));
      if (v.visible && !was) { v.stale = true; came = true; }
    }
    // a map that comes on screen is asked for at once (at most once per
    // RESUBSCRIBE_MS while scrolling), so it is drawn within a round trip;
    // one that only left waits until the screen is still
    if (came && performance.now() - sub.sentAt >= RESUBSCRIBE_MS) sendSubscription(app);
    else scheduleSubscription(app);
  }, { rootMargin: NEAR });
  for (const c of viewsOf.keys()) sub.observer.observe(c);
  // what is on screen now, measured at once (one layout): the first frame
  // is drawn at the next animation frame, without waiting for the
  // observer's first report, which comes only after the page is rendered
  const vw = innerWidth;
  const vh = innerHeight;
  for (const c of viewsOf.keys()) {
    const r = c.getBoundingClientRect();
    if (r.width && r.height && r.bottom >= -vh * NEAR_PART && r.top <= vh * (1 + NEAR_PART) &&
        r.right >= -vw * NEAR_PART && r.left <= vw * (1 + NEAR_PART)) sub.onScreen.add(c);
  }
  for (const v of app.layout.views) v.visible = v.surfaces.some((sf) => sub.onScreen.has(sf.canvas));
}

// scheduleSubscription sends the subscription once the screen has been still
// for RESUBSCRIBE_MS.
export function scheduleSubscription(app) {
  clearTimeout(app.sub.timer);
  app.sub.timer = setTimeout(() => sendSubscription(app), RESUBSCRIBE_MS);
}

// sendSubscription asks the server for what is on screen, if that changed;
// it returns the id of the subscribe message, or 0 if none was sent.
export function sendSubscription(app) {
  const sub = app.sub;
  clearTimeout(sub.timer);
  if (!app.lab.welcome || !sub.observer) return 0;
  // the focus view covers the page: while it is open the page asks for
  // what it shows, exact even while playing
  const focus = app.focus.open;
  const layers = focus
    ? wantedLayers(app.focus.views, app.focus.canvases, app.lab.welcome)
    : wantedLayers(app.layout.views, sub.onScreen, app.lab.welcome);
  const msg = subscribeMessage(sub.sample, layers, app.lab.view.range === 'map');
  if (focus) msg.exact = true;
  const text = JSON.stringify(msg);
  if (text === sub.last) return 0;
  sub.last = text;
  sub.sentAt = performance.now();
  sub.count++;
  // for tests and for measuring: what the page asks for
  document.body.dataset.subscription = JSON.stringify(layers);
  document.body.dataset.subscriptions = String(sub.count);
  return app.transport.send(msg);
}
