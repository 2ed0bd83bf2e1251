// Training speed of the default backpropviz network in ConvNetJS (node, one thread).
//
// The network and data match engine/bench_test.go (BenchmarkTrainStep): input
// 28×28×1, conv 5×5 8 filters stride 1 pad 2 + relu, pool 2 stride 2, conv 5×5
// 16 filters stride 1 pad 2 + relu, pool 3 stride 3, softmax over 10 classes
// (ConvNetJS puts a fully connected layer of 10 before it), on the first
// --images MNIST training images, normalised x/255, read from the files the
// engine embeds. The trainer is ConvNetJS's default: sgd, learning rate 0.01,
// momentum 0.9, no weight decay, with --batch samples per update.
// Prints one line of JSON per run:
// {"peer": "convnetjs", "batch": 20, "img_per_s": ..., "steps": ...}.
//
// Usage: node convnetjs_bench.js --batch 20 [--images 2000] [--seconds 3]
//        [--warmup 100 (samples)] [--runs 1]
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const convnetjs = require('convnetjs');

const mnistDir = path.join(__dirname, '..', '..', 'engine', 'dataset', 'mnist');

function args() {
  const a = { batch: 20, images: 2000, seconds: 3, warmup: 100, runs: 1 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete flag ${argv[i]}; flags: ${Object.keys(a).join(', ')}`);
    }
    a[key] = Number(argv[i + 1]);
  }
  return a;
}

// loadMNIST returns the first n training images as ConvNetJS volumes
// (28×28×1, x/255) and their labels.
function loadMNIST(n) {
  const img = zlib.gunzipSync(fs.readFileSync(path.join(mnistDir, 'train-images-idx3-ubyte.gz')));
  const lab = zlib.gunzipSync(fs.readFileSync(path.join(mnistDir, 'train-labels-idx1-ubyte.gz')));
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) {
    throw new Error('MNIST files: bad IDX magic numbers');
  }
  const rows = img.readUInt32BE(8), cols = img.readUInt32BE(12);
  n = Math.min(n, img.readUInt32BE(4));
  const xs = [], ys = [];
  for (let i = 0; i < n; i++) {
    const v = new convnetjs.Vol(cols, rows, 1, 0.0);
    const off = 16 + i * rows * cols;
    for (let j = 0; j < rows * cols; j++) {
      v.w[j] = img[off + j] / 255; // depth 1: index (y·W + x), row-major like the engine
    }
    xs.push(v);
    ys.push(lab[8 + i]);
  }
  return { xs, ys };
}

function network() {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 8, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 3, stride: 3 },
    { type: 'softmax', num_classes: 10 },
  ]);
  return net;
}

function measure(data, a) {
  const net = network();
  const trainer = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: a.batch });
  const n = data.xs.length;
  let pos = 0;
  const sample = () => {
    trainer.train(data.xs[pos], data.ys[pos]);
    pos = (pos + 1) % n;
  };
  // warm-up: at least --warmup samples, in whole optimizer steps
  for (let i = 0; i < Math.ceil(a.warmup / a.batch) * a.batch; i++) sample();
  let samples = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    for (let i = 0; i < a.batch; i++) sample(); // whole optimizer steps
    samples += a.batch;
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed >= a.seconds) {
      return { ips: samples / elapsed, steps: samples / a.batch };
    }
  }
}

function main() {
  const a = args();
  const data = loadMNIST(a.images);
  for (let r = 0; r < a.runs; r++) {
    const { ips, steps } = measure(data, a);
    console.log(JSON.stringify({ peer: 'convnetjs', batch: a.batch, img_per_s: Math.round(ips * 10) / 10, steps, node: process.version }));
  }
}

main();
