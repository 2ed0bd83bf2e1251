// main.js — wires the lab: it creates the one object that holds the page's
// state (app, below) and hands it to the modules that do the work:
// messages.js takes the server's messages, draw.js draws in one
// requestAnimationFrame loop, onscreen.js follows what is on screen and
// subscribes to it, tooltip.js, controls.js and keyboard.js take the user's
// input, lesson.js follows the lesson (marks and scrolls to each phase's
// results). The websocket is transport.js's; the lab's state and URL state.js's.
// The layer focus view (focus/), the drill-down panel, the gradient check
// and the conv explainer (explain/) ask the session their questions.

import { $ } from './dom.js';
import { Transport } from './transport.js';
import { Lab, readURL, wsURL } from './state.js';
import { Charts } from './render/charts.js';
import { newScratch } from './render/stats.js';
import { handleMessage } from './messages.js';
import { startDrawing } from './draw.js';
import { scheduleSubscription } from './onscreen.js';
import { installTooltip } from './tooltip.js';
import { installControls, togglePlay, stepPhase } from './controls.js';
import { installKeyboard, showKeys } from './keyboard.js';
import { installFollow, setFollowing } from './lesson.js';
import { installFocus, openFocus, closeFocus } from './focus/focusview.js';
import { installPanel, closePanel } from './explain/panel.js';
import { installCheck } from './explain/checkpanel.js';
import { installPicking } from './explain/picking.js';
import { installWalk, openWalk, closeWalk } from './explain/convexplainer.js';
import { askExplain } from './explain/requests.js';
import { Announcer } from './announce.js';
import { installModel } from './model.js';
import { installDrawPad } from './drawpad.js';
import { installTimeline, timelineMessage, noteFrame } from './timeline.js';

// afterFirstMaps resolves once the first maps are drawn (draw.js calls
// app.draw.firstDrawn), or two seconds after the load event if no frame
// comes (a hidden tab): what the first screen does not need waits for it.
function afterFirstMaps() {
  let drawn;
  const p = new Promise((resolve) => {
    drawn = resolve;
    addEventListener('load', () => setTimeout(resolve, 2000));
  });
  return { p, drawn };
}

// createApp makes the page's state: every field the modules read and write.
function createApp(config) {
  const firstMaps = afterFirstMaps();
  const wsPath = config.ws || '/ws';
  const { params, view } = readURL(location.search);
  const lab = new Lab(params, view);
  return {
    wsPath,
    // what this page shows, in the words of its messages: a room's lab, a
    // student's fork of a room, or a private lab
    pageKind: wsPath.startsWith('/ws/room/') ? 'the room' : wsPath.startsWith('/ws/fork/') ? 'your fork' : 'the lab',
    lab, // the server's latest state, the view options and the URL (state.js)
    transport: null, // the websocket (transport.js)
    // the maps of the current network (render/layout.js build)
    layout: { views: [], canvases: new Map(), columns: new Map(), links: [] },
    charts: new Charts($('loss-chart'), $('acc-chart'), firstMaps.p),
    draw: { // draw.js
      firstDrawn: firstMaps.drawn, // called once the first maps are drawn
      chartsDrawnAt: 0, // when the charts were last drawn (animation frame time)
      // the step after which the charts start when the session came with no
      // history of its earlier steps (a fork of a room); null otherwise
      chartsFrom: null,
      framesDrawn: 0,
      drawMs: 0, // the smoothed cost of drawing a frame
      scratch: newScratch(), // buffers of the colour scales' statistics
    },
    hover: null, // the map under the pointer: {canvas, ev} (tooltip.js)
    // the phase as a screen reader hears it: at most once a second (draw.js)
    phaseLive: new Announcer((text) => { $('phase-live').textContent = text; }),
    sub: { // onscreen.js
      observer: null,
      onScreen: new Set(), // canvases on (or near) the screen
      sample: lab.params.sample === undefined ? '0' : String(lab.params.sample), // what the page shows
      last: '', // the last subscribe message sent, as JSON
      timer: 0,
      sentAt: -Infinity, // when the last subscribe message was sent (performance.now())
      count: 0, // subscribe messages sent
    },
    focus: { // focus/focusview.js
      open: false,
      target: null, // the layer shown (the number of layers: the loss)
      follow: true, // follow the layer of the phase
      inPage: 0, // the page of input channels shown
      outPage: 0, // the page of output channels (filters, outputs) shown
      part: null, // what it shows (focus/parts.js)
      views: [], // its maps, drawn by draw.js
      index: new Map(), // canvasIndex of its views, for the tooltip and picking
      canvases: new Set(), // its canvases, all on screen while it is open
      returnFocus: null,
    },
    explain: { // explain/requests.js, panel.js, checkpanel.js, picking.js
      pending: new Map(), // id of a question → "explain" | "walk" | "gradcheck"
      query: null, // the cell of the panel: {layer, tensor, index, kind, param}
      id: 0, // the explain question the panel waits for
      t0: 0, // when it was asked (performance.now() time)
      sentAt: 0, gotAt: 0, // when it was sent and answered
      slow: 0, // the timer that says "asking…" when the answer is slow
      msg: null, // the last explanation shown
      filled: 0, // explanations shown
      checkId: 0, // the gradcheck question the panel waits for
      check: { param: null }, // the parameter the gradient check is for
      cursor: null, // the keyboard's cell cursor: {canvas, px}
      returnFocus: null,
    },
    walk: { // explain/convexplainer.js
      open: false,
      layer: null, grad: 'dW', filter: 0, channel: 0,
      chosen: null, // the drill-down's cell it follows (walk.js walkChoice), or null
      id: 0, // the walk question it waits for
      msg: null, // the walkthrough shown
      k: 0, // the step shown
      playing: false,
      timer: 0,
      scale: null, // the colour scale of the finished grid
      returnFocus: null,
    },
    room: { role: '' }, // a room's page: "owner" or "viewer" (messages.js)
    follow: { // lesson.js
      on: true, // scroll to the columns of each phase
      userAt: 0, // the reader's last wheel, touch or scroll key
    },
    pending: { // controls.js and messages.js
      samples: new Map(), // id of a subscribe → the sample it shows
      // the spec field: draft is true while it holds text the user typed that
      // is not the spec in effect; id is the set command that applies it
      spec: { id: 0, draft: false },
      fields: new Map(), // id of a set command → the field it sends
    },
  };
}

const app = createApp(JSON.parse($('lab-config').textContent));

// a reloaded tab (or one come back to) resumes its session from the token
// kept for the tab; a lab URL opened anew starts a new session
const navigation = performance.getEntriesByType('navigation')[0];
const resumeSession = !!navigation && (navigation.type === 'reload' || navigation.type === 'back_forward');
app.transport = new Transport(wsURL(location, app.wsPath, app.lab.params), {
  onJSON: (msg) => timelineMessage(app, msg) || handleMessage(app, msg),
  onFrame: (f) => { noteFrame(app, f); app.lab.setFrame(f); },
  onStatus: (text, ok) => {
    const c = $('conn');
    c.textContent = text;
    c.classList.toggle('down', !ok);
  },
}, { storeKey: `bpv.resume ${app.wsPath}`, resume: resumeSession, frames: !document.hidden });

// a hidden tab receives no trace frames; shown again, it gets a keyframe
document.addEventListener('visibilitychange', () => app.transport.setFrames(!document.hidden));
// leaving the page (for another, or into the back-forward cache) lets its
// session go; coming back from that cache resumes it
addEventListener('pagehide', () => app.transport.suspend());
addEventListener('pageshow', (ev) => { if (ev.persisted) app.transport.wake(); });

addEventListener('resize', () => scheduleSubscription(app));
// the sticky header never covers what focus or a scroll brings into view
new ResizeObserver(() => {
  const h = document.querySelector('.topbar').getBoundingClientRect().height;
  document.documentElement.style.scrollPaddingTop = `${Math.ceil(h) + 8}px`;
}).observe(document.querySelector('.topbar'));
installTooltip(app);
installControls(app);
installPanel(app);
installCheck(app);
installPicking(app);
installWalk(app);
installModel(app);
installDrawPad(app);
installTimeline(app);
installFocus(app, {
  stepPhase: () => stepPhase(app),
  openWalk: () => openWalk(app),
  explainLoss: (tensor) => askExplain(app, { layer: -1, tensor, index: [], kind: tensor }),
});
installFollow(app);
$('keys-open').addEventListener('click', () => showKeys());
installKeyboard({
  togglePlay: () => togglePlay(app),
  stepPhase: () => stepPhase(app),
  toggleFocus: () => (app.focus.open ? closeFocus(app) : openFocus(app)),
  openWalk: () => openWalk(app),
  follow: () => setFollowing(app, true),
  showKeys: () => showKeys(),
  // Escape closes the top one: the drill-down, the conv explainer, the focus view
  closeTop: () => {
    if (!document.getElementById('explain').hidden) closePanel(app);
    else if (app.walk.open) closeWalk(app);
    else if (app.focus.open) closeFocus(app);
    else return false;
    return true;
  },
});

app.transport.connect();
startDrawing(app);
