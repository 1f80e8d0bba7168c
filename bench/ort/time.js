#!/usr/bin/env node
'use strict';
// Time inference of an ONNX model with onnxruntime-node on CPU.
//
//   node time.js MODEL.onnx [--batch B] [--threads N] [--iters K] [--warmup W]
//                [--input NAME=FILE.npy]
//
// The feed: --input FILE.npy (its first B rows, repeated if it has fewer),
// otherwise a seeded uniform-random float32 batch shaped from the model's
// input with the dynamic (symbolic) dimensions set to B; the other dims come
// from the graph (needs a static [*,C,H,W] after the batch; pass --shape
// 1,28,28 otherwise). Session: intraOpNumThreads N (default 2),
// interOpNumThreads 1, graphOptimizationLevel 'all'. After W warm-up runs
// (default 5), runs K times (default 50) and prints one JSON line with the
// median, min, mean and p90 milliseconds per run.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const npy = require('./npy');

function usage(msg) {
  if (msg) console.error(`time.js: ${msg}`);
  console.error('usage: node time.js MODEL.onnx [--batch B] [--threads N] [--iters K] [--warmup W] ' +
    '[--input NAME=FILE.npy] [--shape C,H,W]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { model: null, batch: 1, threads: 2, iters: 50, warmup: 5, input: null, shape: null };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${s} needs a value`));
    if (s === '--batch') a.batch = parseInt(next(), 10);
    else if (s === '--threads') a.threads = parseInt(next(), 10);
    else if (s === '--iters') a.iters = parseInt(next(), 10);
    else if (s === '--warmup') a.warmup = parseInt(next(), 10);
    else if (s === '--input') {
      const v = next(); const eq = v.indexOf('=');
      a.input = eq > 0 ? [v.slice(0, eq), v.slice(eq + 1)] : [null, v];
    } else if (s === '--shape') a.shape = next().split(',').map(Number);
    else if (s === '-h' || s === '--help') usage();
    else if (s.startsWith('--')) usage(`unknown flag ${s}`);
    else if (!a.model) a.model = s;
    else usage(`extra argument ${s}`);
  }
  if (!a.model) usage('no model');
  for (const k of ['batch', 'threads', 'iters']) if (!(a[k] >= 1)) usage(`bad --${k}`);
  if (!(a.warmup >= 0)) usage('bad --warmup');
  return a;
}

// mulberry32: a small seeded PRNG so random batches are reproducible.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inputDims(session, name) {
  // onnxruntime-node >= 1.19 exposes inputMetadata with shapes.
  const md = session.inputMetadata;
  if (!md) return null;
  const m = Array.isArray(md) ? md.find(x => x.name === name) : md[name];
  return m && m.shape ? m.shape : null;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const name = (a.input && a.input[0]) || session.inputNames[0];
  let tensor;
  if (a.input) {
    const arr = npy.read(a.input[1]);
    let src = arr.data;
    if (arr.dtype === 'float64') src = Float32Array.from(src);
    const per = arr.shape.slice(1).reduce((x, y) => x * y, 1);
    const rows = arr.shape[0];
    const data = new src.constructor(a.batch * per);
    for (let b = 0; b < a.batch; b++) data.set(src.subarray((b % rows) * per, (b % rows + 1) * per), b * per);
    tensor = new ort.Tensor(arr.dtype === 'float64' ? 'float32' : arr.dtype, data, [a.batch, ...arr.shape.slice(1)]);
  } else {
    let dims = a.shape ? [a.batch, ...a.shape] : null;
    if (!dims) {
      const d = inputDims(session, name);
      if (!d) usage('cannot read the input shape from the model: pass --shape or --input');
      dims = d.map((x, i) => (typeof x === 'number' && x > 0 ? x : (i === 0 ? a.batch : usage(`dynamic dim ${i}: pass --shape`))));
      dims[0] = a.batch;
    }
    const n = dims.reduce((x, y) => x * y, 1);
    const r = rng(12345);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = r() * 2 - 1;
    tensor = new ort.Tensor('float32', data, dims);
  }
  const feeds = { [name]: tensor };
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < a.iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const pkg = JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8'));
  const p90 = [...ms].sort((x, y) => x - y)[Math.min(ms.length - 1, Math.floor(0.9 * ms.length))];
  console.log(JSON.stringify({
    runtime: `onnxruntime-node ${pkg.version}`,
    model: path.basename(a.model),
    batch: a.batch, input_shape: tensor.dims, threads: a.threads, inter_op_threads: 1,
    warmup: a.warmup, iters: a.iters,
    median_ms: +median(ms).toFixed(4),
    min_ms: +Math.min(...ms).toFixed(4),
    mean_ms: +(ms.reduce((x, y) => x + y, 0) / ms.length).toFixed(4),
    p90_ms: +p90.toFixed(4),
    median_ms_per_image: +(median(ms) / a.batch).toFixed(5),
  }));
}

main().catch(e => { console.error(`time.js: ${e.message || e}`); process.exit(1); });
