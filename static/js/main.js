// main.js — wires the lab: it creates the one object that holds the page's
// state (app, below) and hands it to the modules that do the work:
// messages.js takes the server's messages, draw.js draws in one
// requestAnimationFrame loop, onscreen.js follows what is on screen and
// subscribes to it, tooltip.js, controls.js and keyboard.js take the user's
// input. The websocket is transport.js's; the lab's state and URL state.js's.

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
import { installKeyboard } from './keyboard.js';

// createApp makes the page's state: every field the modules read and write.
function createApp(config) {
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
    charts: new Charts($('loss-chart'), $('acc-chart')),
    draw: { // draw.js
      chartsDrawnAt: 0, // when the charts were last drawn (animation frame time)
      // the step after which the charts start when the session came with no
      // history of its earlier steps (a fork of a room); null otherwise
      chartsFrom: null,
      framesDrawn: 0,
      drawMs: 0, // the smoothed cost of drawing a frame
      scratch: newScratch(), // buffers of the colour scales' statistics
    },
    hover: null, // the map under the pointer: {canvas, ev} (tooltip.js)
    sub: { // onscreen.js
      observer: null,
      onScreen: new Set(), // canvases on (or near) the screen
      sample: lab.params.sample === undefined ? '0' : String(lab.params.sample), // what the page shows
      last: '', // the last subscribe message sent, as JSON
      timer: 0,
      count: 0, // subscribe messages sent
    },
    pending: { // controls.js and messages.js
      samples: new Map(), // id of a subscribe → the sample it shows
      // the spec field: draft is true while it holds text the user typed that
      // is not the spec in effect; id is the set command that applies it
      spec: { id: 0, draft: false },
    },
  };
}

const app = createApp(JSON.parse($('lab-config').textContent));

// a reloaded tab (or one come back to) resumes its session from the token
// kept for the tab; a lab URL opened anew starts a new session
const navigation = performance.getEntriesByType('navigation')[0];
const resumeSession = !!navigation && (navigation.type === 'reload' || navigation.type === 'back_forward');
app.transport = new Transport(wsURL(location, app.wsPath, app.lab.params), {
  onJSON: (msg) => handleMessage(app, msg),
  onFrame: (f) => app.lab.setFrame(f),
  onStatus: (text, ok) => {
    const c = $('conn');
    c.textContent = text;
    c.classList.toggle('down', !ok);
  },
}, { storeKey: `bpv.resume ${app.wsPath}`, resume: resumeSession });

addEventListener('resize', () => scheduleSubscription(app));
installTooltip(app);
installControls(app);
installKeyboard({ togglePlay: () => togglePlay(app), stepPhase: () => stepPhase(app) });

app.transport.connect();
startDrawing(app);
