// charts.js — training loss and train/test accuracy over optimizer steps,
// drawn with the vendored uPlot (static/vendor/uplot, a classic script that
// defines the global uPlot). uPlot is a third of what a first load would
// fetch and a new lab has no point to plot, so it is loaded only once the
// page has drawn its first maps (whenDrawn) and the charts come near the
// screen; until then the charts keep their place, empty. The page names
// the script and its styles in the charts' data-uplot-js and data-uplot-css.

const FONT = '13px system-ui, sans-serif';
const STEP_INCRS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6].map((p) => m * p)).sort((a, b) => a - b);

function axes(yLabel) {
  const common = { stroke: '#334', font: FONT, grid: { stroke: '#e3e6ec', width: 1 }, ticks: { stroke: '#c9ced8', width: 1 } };
  return [
    // steps are whole: no tick between two of them (0, 0.25 … at step 1)
    { ...common, label: 'step', labelFont: FONT, incrs: STEP_INCRS },
    { ...common, label: yLabel, labelFont: FONT, size: 56 },
  ];
}

// loadUPlot adds uPlot's styles and script (once) and resolves when the
// global uPlot is defined.
let loading = null;
function loadUPlot(js, css) {
  if (typeof globalThis.uPlot === 'function') return Promise.resolve();
  if (loading) return loading;
  if (css) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = css;
    document.head.append(link);
  }
  loading = new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = js;
    s.onload = () => resolve();
    s.onerror = () => { loading = null; reject(new Error(`load ${js}`)); };
    document.head.append(s);
  });
  return loading;
}

// Charts owns the two plots and resizes them with their containers. The
// plots are made once uPlot is loaded (see above); update keeps the latest
// metrics to show them then.
export class Charts {
  constructor(lossEl, accEl, whenDrawn = Promise.resolve()) {
    this.ok = false;
    this.lossEl = lossEl;
    this.accEl = accEl;
    this.metrics = null;
    const box = lossEl.closest('[data-uplot-js]');
    if (typeof globalThis.uPlot === 'function') {
      this.make();
      return;
    }
    if (!box) return;
    const near = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      near.disconnect();
      whenDrawn
        .then(() => loadUPlot(box.dataset.uplotJs, box.dataset.uplotCss))
        .then(() => { this.make(); if (this.metrics) this.update(this.metrics); })
        .catch(() => {}); // no charts: the maps and counters still work
    }, { rootMargin: '25%' });
    near.observe(box);
  }

  // make makes the plots with the loaded uPlot.
  make() {
    const U = globalThis.uPlot;
    this.ok = true;
    const { lossEl, accEl } = this;
    const w = Math.max(260, lossEl.clientWidth || 420);
    this.loss = new U({
      width: w, height: 200,
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(0.5, hi * 1.05)] } },
      axes: axes('loss'),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'step' },
        { label: 'batch loss', stroke: '#2b6cb0', width: 1.5, spanGaps: true },
      ],
    }, [[], []], lossEl);
    this.acc = new U({
      width: w, height: 200,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: axes('accuracy'),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'step' },
        { label: 'train accuracy', stroke: '#d4661c', width: 1.5, spanGaps: true },
        { label: 'test accuracy', stroke: '#542788', width: 2, spanGaps: true, points: { show: true, size: 6 } },
      ],
    }, [[], [], []], accEl);
    this.resize = new ResizeObserver(() => {
      const ww = Math.max(260, this.lossEl.clientWidth);
      this.loss.setSize({ width: ww, height: 200 });
      this.acc.setSize({ width: ww, height: 200 });
    });
    this.resize.observe(lossEl);
  }

  // update sets the series from the lab's metrics (arrays of equal length).
  update(m) {
    this.metrics = m;
    if (!this.ok) return;
    this.loss.setData([m.step, m.loss]);
    // merge the test points onto the training steps (null elsewhere)
    const steps = m.step.slice();
    const train = m.train.slice();
    const test = new Array(steps.length).fill(null);
    const at = new Map(steps.map((s, i) => [s, i]));
    m.testStep.forEach((s, j) => {
      let i = at.get(s);
      if (i === undefined) {
        // a test measured at a step without a training point: insert it in order
        let k = steps.findIndex((x) => x > s);
        if (k < 0) k = steps.length;
        steps.splice(k, 0, s);
        train.splice(k, 0, null);
        test.splice(k, 0, null);
        at.clear();
        steps.forEach((x, q) => at.set(x, q));
        i = k;
      }
      test[i] = m.test[j];
    });
    this.acc.setData([steps, train, test]);
  }
}
