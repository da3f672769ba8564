import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Builder } from 'flatbuffers';

import { isEarshotError } from '../../src/errors.js';
import { ohwiToHwio, tensorToFloat32, transpose2d } from '../../src/models/tflite/dequantize.js';
import { parseTflite } from '../../src/models/tflite/schema.js';
import { mapYamnetWeights } from '../../src/models/yamnet/weights.js';
import { sharedPath } from '../helpers/shared.js';

const tflitePath = sharedPath('models/yamnet/yamnet.tflite');
const bytes = new Uint8Array(readFileSync(tflitePath));

/**
 * Independent walk over the raw flatbuffer bytes with a DataView (no earshot
 * reader): vtable lookup, uoffset deref. Used to check the reader and the
 * dequantization against values computed by hand from the file.
 */
function rawWalker(b: Uint8Array) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const deref = (p: number) => p + dv.getUint32(p, true);
  const field = (table: number, id: number) => {
    const vt = table - dv.getInt32(table, true);
    const slot = 4 + 2 * id;
    if (slot >= dv.getUint16(vt, true)) return 0;
    const o = dv.getUint16(vt + slot, true);
    return o ? table + o : 0;
  };
  const vec = (table: number, id: number) => {
    const v = deref(field(table, id));
    return { len: dv.getUint32(v, true), at: v + 4 };
  };
  const root = deref(0);
  const sg0 = deref(vec(root, 2).at);
  const tensors = vec(sg0, 0);
  const tensor = (i: number) => {
    const t = deref(tensors.at + 4 * i);
    const name = vec(t, 3);
    const q = deref(field(t, 4));
    const scale = vec(q, 2);
    const zp = vec(q, 3);
    const bufIdx = dv.getUint32(field(t, 2), true);
    const buf = deref(vec(root, 4).at + 4 * bufIdx);
    const data = vec(buf, 0);
    return {
      name: new TextDecoder().decode(b.subarray(name.at, name.at + name.len)),
      scale: (c: number) => dv.getFloat32(scale.at + 4 * c, true),
      zeroPoint: (c: number) => Number(dv.getBigInt64(zp.at + 8 * c, true)),
      int8: (i: number) => dv.getInt8(data.at + i),
      dataLen: data.len,
    };
  };
  return { tensorCount: tensors.len, tensor };
}

test('parses the real yamnet.tflite: subgraph, io tensors, operator kinds and conv options', () => {
  const m = parseTflite(bytes, tflitePath);
  assert.equal(m.version, 3);
  assert.equal(m.subgraphs.length, 1);
  const g = m.subgraphs[0]!;
  assert.equal(g.tensors.length, rawWalker(bytes).tensorCount);
  assert.deepEqual(g.inputs.map((i) => g.tensors[i]!.name), ['waveform']);
  assert.deepEqual(
    g.outputs.map((i) => g.tensors[i]!.shape),
    [
      [1, 521],
      [1, 1024],
      [1, 64],
    ],
  );
  const count = (op: string) => g.operators.filter((o) => o.op === op).length;
  // 1 conv + 13 pointwise; 13 depthwise; mel matrix + logits as FULLY_CONNECTED; the STFT's RFFT2D
  // (code 131 > 127) only decodes through builtin_code, not the deprecated int8 field.
  assert.equal(count('CONV_2D'), 14);
  assert.equal(count('DEPTHWISE_CONV_2D'), 13);
  assert.equal(count('FULLY_CONNECTED'), 2);
  assert.equal(count('RFFT2D'), 1);
  assert.equal(count('LOGISTIC'), 1);
  const convs = g.operators.filter((o) => o.op === 'CONV_2D' || o.op === 'DEPTHWISE_CONV_2D');
  const strides = convs.map((o) => (o.options && 'strideH' in o.options ? o.options.strideH : -1));
  assert.deepEqual(strides.filter((s) => s === 2).length, 5);
  for (const o of convs) {
    assert.ok(o.options && (o.options.kind === 'conv2d' || o.options.kind === 'depthwiseConv2d'));
    assert.equal(o.options.padding, 'SAME');
    assert.equal(o.options.activation, 'RELU');
  }
});

test('int8 per-channel dequantization matches values computed by hand from the file bytes', () => {
  const m = parseTflite(bytes, tflitePath);
  const g = m.subgraphs[0]!;
  const raw = rawWalker(bytes);
  // layer2 pointwise conv: [64,1,1,32] int8, scales along dimension 0 (output channel).
  const t = g.tensors.find((x) => x.type === 'INT8' && x.shape.join() === '64,1,1,32')!;
  assert.ok(t, 'int8 [64,1,1,32] pointwise filter present');
  assert.equal(t.quantization!.quantizedDimension, 0);
  assert.equal(t.quantization!.scale.length, 64);
  const r = raw.tensor(t.index);
  assert.equal(r.name, t.name);
  assert.equal(r.dataLen, 64 * 32);
  const f = tensorToFloat32(m, t);
  for (const [o, i] of [
    [0, 0],
    [0, 31],
    [5, 7],
    [63, 31],
  ] as const) {
    const flat = o * 32 + i;
    const byHand = r.scale(o) * (r.int8(flat) - r.zeroPoint(o));
    assert.equal(f[flat], Math.fround(byHand), `element [${o},0,0,${i}]`);
    assert.notEqual(r.int8(flat), 0);
  }
  // Layout conversion: OHWI [64,1,1,32] -> HWIO [1,1,32,64] puts (o, i) at i * 64 + o.
  const hwio = ohwiToHwio(f, t.shape);
  assert.deepEqual(hwio.shape, [1, 1, 32, 64]);
  assert.equal(hwio.data[7 * 64 + 5], f[5 * 32 + 7]);

  // depthwise [1,3,3,C]: scales along dimension 3 (channel), i.e. the fastest-varying index.
  const dw = g.tensors.find((x) => x.type === 'INT8' && x.shape.join() === '1,3,3,128')!;
  assert.equal(dw.quantization!.quantizedDimension, 3);
  const rd = raw.tensor(dw.index);
  const fd = tensorToFloat32(m, dw);
  const flat = (2 * 3 + 1) * 128 + 77; // [0, 2, 1, 77]
  assert.equal(fd[flat], Math.fround(rd.scale(77) * (rd.int8(flat) - rd.zeroPoint(77))));
});

test('transpose2d turns [out, in] into [in, out]', () => {
  const t = transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(t.shape, [3, 2]);
  assert.deepEqual([...t.data], [1, 4, 2, 5, 3, 6]);
});

test('truncated copies and random bytes fail with MODEL_INVALID naming the problem', () => {
  for (const n of [0, 7, 100, 5000, 200_000, Math.floor(bytes.length / 2), bytes.length - 64]) {
    assert.throws(
      () => parseTflite(bytes.subarray(0, n), 'cut.tflite'),
      (e) => isEarshotError(e, 'MODEL_INVALID') && /cut\.tflite/.test(e.message),
      `truncated to ${n} bytes`,
    );
  }
  let seed = 7;
  const random = new Uint8Array(4096).map(() => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff);
  assert.throws(() => parseTflite(random, 'noise.bin'), (e) => isEarshotError(e, 'MODEL_INVALID') && /file identifier/.test(e.message) && /TFL3/.test(e.message));
  // Right identifier, garbage offsets: still a typed error, never a RangeError or silent garbage.
  random.set([16, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33], 0);
  assert.throws(() => parseTflite(random, 'noise.bin'), (e) => isEarshotError(e, 'MODEL_INVALID'));
});

/** A tiny, valid tflite built with the flatbuffers Builder: one op with int8 per-tensor weights. */
function tinyTflite(opts: { builtinCode: number; weights: { shape: number[]; q: number[]; scale: number; zeroPoint: number } }): Uint8Array {
  const b = new Builder(1024);
  const i32vec = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]!);
    return b.endVector();
  };
  const tables = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]!);
    return b.endVector();
  };
  const data = b.createByteVector(Uint8Array.from(opts.weights.q.map((v) => v & 0xff)));
  b.startObject(1);
  const emptyBuf = b.endObject();
  b.startObject(1);
  b.addFieldOffset(0, data, 0);
  const wBuf = b.endObject();
  b.startVector(4, 1, 4);
  b.addFloat32(opts.weights.scale);
  const scaleVec = b.endVector();
  b.startVector(8, 1, 8);
  b.addInt64(BigInt(opts.weights.zeroPoint));
  const zpVec = b.endVector();
  b.startObject(7);
  b.addFieldOffset(2, scaleVec, 0);
  b.addFieldOffset(3, zpVec, 0);
  const quant = b.endObject();
  const tensor = (name: string, shape: number[], type: number, buffer: number, q?: number) => {
    const n = b.createString(name);
    const s = i32vec(shape);
    b.startObject(5);
    b.addFieldOffset(0, s, 0);
    b.addFieldInt8(1, type, 0);
    b.addFieldInt32(2, buffer, 0);
    b.addFieldOffset(3, n, 0);
    if (q !== undefined) b.addFieldOffset(4, q, 0);
    return b.endObject();
  };
  const tIn = tensor('input', [1, 96, 64, 1], 0, 0);
  const tW = tensor('filter', opts.weights.shape, 9, 1, quant);
  const tOut = tensor('output', [1, 48, 32, opts.weights.shape[0]!], 0, 0);
  b.startObject(4);
  b.addFieldInt8(0, 1, 0); // VALID
  b.addFieldInt32(1, 2, 0);
  b.addFieldInt32(2, 2, 0);
  b.addFieldInt8(3, 3, 0); // RELU6
  const convOpts = b.endObject();
  const ins = i32vec([0, 1, -1]);
  const outs = i32vec([2]);
  b.startObject(5);
  b.addFieldInt32(0, 0, -1);
  b.addFieldOffset(1, ins, 0);
  b.addFieldOffset(2, outs, 0);
  b.addFieldInt8(3, 1, 0);
  b.addFieldOffset(4, convOpts, 0);
  const op = b.endObject();
  const sgName = b.createString('tiny');
  const tensorsVec = tables([tIn, tW, tOut]);
  const opsVec = tables([op]);
  const sgIn = i32vec([0]);
  const sgOut = i32vec([2]);
  b.startObject(5);
  b.addFieldOffset(0, tensorsVec, 0);
  b.addFieldOffset(1, sgIn, 0);
  b.addFieldOffset(2, sgOut, 0);
  b.addFieldOffset(3, opsVec, 0);
  b.addFieldOffset(4, sgName, 0);
  const sg = b.endObject();
  b.startObject(4);
  b.addFieldInt8(0, Math.min(opts.builtinCode, 127), 0);
  b.addFieldInt32(2, 1, 1);
  b.addFieldInt32(3, opts.builtinCode, 0);
  const opcode = b.endObject();
  const opcodes = tables([opcode]);
  const sgs = tables([sg]);
  const bufs = tables([emptyBuf, wBuf]);
  const desc = b.createString('tiny test model');
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, opcodes, 0);
  b.addFieldOffset(2, sgs, 0);
  b.addFieldOffset(3, desc, 0);
  b.addFieldOffset(4, bufs, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array();
}

test('a Builder-made tflite decodes: options, opcode > 127, per-tensor int8 dequantization', () => {
  const q = [-128, -1, 0, 1, 127, 5, 9, -7];
  const file = tinyTflite({ builtinCode: 3, weights: { shape: [8, 1, 1, 1], q, scale: 0.5, zeroPoint: 3 } });
  const m = parseTflite(file, 'tiny.tflite');
  assert.equal(m.description, 'tiny test model');
  const g = m.subgraphs[0]!;
  const op = g.operators[0]!;
  assert.equal(op.op, 'CONV_2D');
  assert.deepEqual(op.inputs, [0, 1, -1]);
  assert.deepEqual(op.options, { kind: 'conv2d', padding: 'VALID', strideH: 2, strideW: 2, activation: 'RELU6', dilationH: 1, dilationW: 1 });
  assert.deepEqual([...tensorToFloat32(m, g.tensors[1]!)], q.map((v) => 0.5 * (v - 3)));
  assert.throws(() => tensorToFloat32(m, g.tensors[0]!), (e) => isEarshotError(e, 'MODEL_INVALID') && /input/.test(e.message));
  const rfft = parseTflite(tinyTflite({ builtinCode: 131, weights: { shape: [1, 1, 1, 1], q: [1], scale: 1, zeroPoint: 0 } }), 'x');
  assert.equal(rfft.subgraphs[0]!.operators[0]!.op, 'RFFT2D');
});

test('valid tflite files of other graphs are rejected as not YAMNet, naming the operator', () => {
  const fc = parseTflite(tinyTflite({ builtinCode: 9, weights: { shape: [8, 1, 1, 1], q: [1, 2, 3, 4, 5, 6, 7, 8], scale: 1, zeroPoint: 0 } }), 'fc.tflite');
  assert.throws(() => mapYamnetWeights(fc), (e) => isEarshotError(e, 'MODEL_INVALID') && /fc\.tflite: no CONV_2D/.test(e.message));
  const conv = parseTflite(tinyTflite({ builtinCode: 3, weights: { shape: [8, 3, 3, 1], q: new Array(72).fill(1), scale: 1, zeroPoint: 0 } }), 'conv.tflite');
  assert.throws(() => mapYamnetWeights(conv), (e) => isEarshotError(e, 'MODEL_INVALID') && /27 conv layers.*has 1/.test(e.message));
});

test('float16 weights convert exactly (normal, negative, subnormal, max)', () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x3555]).buffer);
  const model = { source: 'h.tflite', version: 3, description: '', subgraphs: [], buffers: [new Uint8Array(0), half] };
  const t = { index: 0, name: 'w', shape: [5], type: 'FLOAT16' as const, buffer: 1 };
  assert.deepEqual([...tensorToFloat32(model, t)], [1, -2, Math.fround(2 ** -24), 65504, Math.fround(0.333251953125)]);
});
