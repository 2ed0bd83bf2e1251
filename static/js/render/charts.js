// charts.js — training loss and train/test accuracy over optimizer steps,
// drawn with the vendored uPlot (static/vendor/uplot, loaded as a classic
// script that defines the global uPlot).

const FONT = '13px system-ui, sans-serif';

function axes(yLabel) {
  const common = { stroke: '#334', font: FONT, grid: { stroke: '#e3e6ec', width: 1 }, ticks: { stroke: '#c9ced8', width: 1 } };
  return [
    { ...common, label: 'step', labelFont: FONT },
    { ...common, label: yLabel, labelFont: FONT, size: 56 },
  ];
}

// Charts owns the two plots and resizes them with their containers.
export class Charts {
  constructor(lossEl, accEl) {
    const U = globalThis.uPlot;
    this.ok = typeof U === 'function';
    this.lossEl = lossEl;
    this.accEl = accEl;
    if (!this.ok) return;
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
