#!/usr/bin/env node
'use strict';
// Run an ONNX model with onnxruntime-node on CPU and write every output as .npy.
//
//   node run.js MODEL.onnx --input NAME=FILE.npy [--input ...] --out DIR [--threads N]
//
// Session: executionProviders ['cpu'], intraOpNumThreads N (default 2),
// interOpNumThreads 1, graphOptimizationLevel 'all'. Outputs are written as
// DIR/<outputname>.npy (numpy .npy v1.0, the output's own dtype: float32 for
// float outputs). Inputs may be float32, float64 (converted to float32 when
// the model wants float), int64, int32, uint8 or bool .npy files.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const npy = require('./npy');

function usage(msg) {
  if (msg) console.error(`run.js: ${msg}`);
  console.error('usage: node run.js MODEL.onnx --input NAME=FILE.npy [...] --out DIR [--threads N]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], out: null, threads: 2 };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (s === '--input') {
      const v = argv[++i] || usage('--input needs NAME=FILE.npy');
      const eq = v.indexOf('=');
      if (eq < 1) usage(`bad --input ${v}`);
      a.inputs.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else if (s === '--out') a.out = argv[++i];
    else if (s === '--threads') a.threads = parseInt(argv[++i], 10);
    else if (s === '-h' || s === '--help') usage();
    else if (s.startsWith('--')) usage(`unknown flag ${s}`);
    else if (!a.model) a.model = s;
    else usage(`extra argument ${s}`);
  }
  if (!a.model) usage('no model');
  if (!a.out) usage('no --out');
  if (!(a.threads >= 1)) usage('bad --threads');
  return a;
}

function toTensor(arr) {
  let { dtype, data } = arr;
  if (dtype === 'float64') { data = Float32Array.from(data); dtype = 'float32'; }
  return new ort.Tensor(dtype, data, arr.shape);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [name, file] of a.inputs) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`model has no input ${name} (inputs: ${session.inputNames.join(', ')})`);
    }
    feeds[name] = toTensor(npy.read(file));
  }
  for (const n of session.inputNames) if (!(n in feeds)) throw new Error(`missing --input ${n}`);
  const results = await session.run(feeds);
  fs.mkdirSync(a.out, { recursive: true });
  for (const name of session.outputNames) {
    const t = results[name];
    const file = path.join(a.out, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`);
    npy.write(file, t.data, t.dims, t.type);
    console.log(`${name}: ${t.type} [${t.dims.join(',')}] -> ${file}`);
  }
}

main().catch(e => { console.error(`run.js: ${e.message || e}`); process.exit(1); });
