'use strict';
// Minimal .npy (format v1.0/v2.0 read, v1.0 write) for float32, float64,
// int64, int32 and uint8 little-endian C-order arrays.
const fs = require('fs');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DTYPES = {
  '<f4': { type: 'float32', Array: Float32Array, size: 4 },
  '<f8': { type: 'float64', Array: Float64Array, size: 8 },
  '<i8': { type: 'int64', Array: BigInt64Array, size: 8 },
  '<i4': { type: 'int32', Array: Int32Array, size: 4 },
  '|u1': { type: 'uint8', Array: Uint8Array, size: 1 },
  '<u1': { type: 'uint8', Array: Uint8Array, size: 1 },
  '|b1': { type: 'bool', Array: Uint8Array, size: 1 },
};
const DESCR = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1', bool: '|b1' };

// parse returns {dtype, shape, data} where data is a typed array.
function parse(buf) {
  if (!buf.subarray(0, 6).equals(MAGIC)) throw new Error('not a .npy file');
  const major = buf[6];
  let hlen, off;
  if (major === 1) { hlen = buf.readUInt16LE(8); off = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); off = 12; }
  else throw new Error(`unsupported .npy version ${major}`);
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`bad .npy header: ${header}`);
  if (fortran[1] === 'True') throw new Error('fortran-order .npy not supported');
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`unsupported dtype ${descr[1]}`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  if (buf.length - start < count * dt.size) throw new Error('truncated .npy data');
  // Copy into an aligned buffer.
  const bytes = new Uint8Array(count * dt.size);
  bytes.set(buf.subarray(start, start + count * dt.size));
  return { dtype: dt.type, shape: dims, data: new dt.Array(bytes.buffer, 0, count) };
}

function read(path) { return parse(fs.readFileSync(path)); }

// format builds a v1.0 .npy for a typed array (dtype inferred or given).
function format(data, shape, dtype) {
  dtype = dtype || (data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64'
    : data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32'
    : data instanceof Uint8Array ? 'uint8' : null);
  const descr = DESCR[dtype];
  if (!descr) throw new Error(`unsupported dtype ${dtype}`);
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  // Pad with spaces so that magic(6)+version(2)+len(2)+header+'\n' is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  if (header.length > 65535) throw new Error('header too long for v1.0');
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

function write(path, data, shape, dtype) { fs.writeFileSync(path, format(data, shape, dtype)); }

module.exports = { parse, read, format, write };
