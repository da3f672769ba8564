import { EarshotError } from '../../errors.js';
import { listZip, readZipEntry } from '../vggish/npz.js';
import { readFileWithProgress } from './ckpt-v1.js';
import { type PickleHooks, PyDict, PyGlobal, PyList, PyObject, PyTuple, type PyValue,unpickle } from './pickle.js';
import { halfToFloat, numel, type ProgressFn, type RawTensor, type ReadResult,shapeStr } from './tensors.js';

/**
 * PyTorch checkpoints: the zip format (torch >= 1.6: `<dir>/data.pkl` + one
 * `<dir>/data/<key>` file per storage) and the legacy format (pickles back to
 * back, then raw storages), as used by torchvggish's released .pth files.
 * Tensors are materialised honoring storage offset and strides, so views and
 * transposed (non-contiguous) tensors come out exactly as torch sees them.
 */
const ELEMENT: Record<string, { bytes: number; float: boolean }> = {
  FloatStorage: { bytes: 4, float: true },
  DoubleStorage: { bytes: 8, float: true },
  HalfStorage: { bytes: 2, float: true },
  BFloat16Storage: { bytes: 2, float: true },
  LongStorage: { bytes: 8, float: false },
  IntStorage: { bytes: 4, float: false },
  ShortStorage: { bytes: 2, float: false },
  CharStorage: { bytes: 1, float: false },
  ByteStorage: { bytes: 1, float: false },
  BoolStorage: { bytes: 1, float: false },
};

class StorageRef {
  bytes: Uint8Array | null = null;
  constructor(readonly key: string, readonly type: string, readonly numel: number, readonly viewOffset = 0) {}
}

class TorchTensor {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function ints(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) throw new EarshotError('MODEL_INVALID', `${what}: expected a tuple of non-negative ints`, { what });
  return v.items as number[];
}

function hooks(file: string, storages: Map<string, StorageRef>): PickleHooks {
  const bad = (msg: string): EarshotError => new EarshotError('MODEL_INVALID', `${file}: ${msg}`, { file });
  return {
    global(module, name) {
      const q = `${module}.${name}`;
      if (module === 'torch' && name in ELEMENT) return new PyGlobal(module, name);
      const known = [
        'collections.OrderedDict', 'builtins.dict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_parameter',
        'torch._utils._rebuild_parameter_with_state', 'torch._tensor._rebuild_from_type_v2', 'torch.Tensor', 'torch.nn.parameter.Parameter',
        'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype', '_codecs.encode',
      ];
      if (!known.includes(q)) throw new EarshotError('DATA_UNSUPPORTED', `${file}: pickle references ${q}, which a weights file should not need`, { file, global: q });
      return new PyGlobal(module, name);
    },
    call(fn, args) {
      if (!(fn instanceof PyGlobal)) throw bad('REDUCE on a non-callable');
      switch (fn.qualified) {
        case 'collections.OrderedDict':
        case 'builtins.dict':
          return new PyDict();
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor': {
          const [storage, offset, size, stride] = args;
          if (!(storage instanceof StorageRef) || typeof offset !== 'number') throw bad('tensor rebuild without a storage');
          const sz = ints(size ?? null, `${file}: tensor size`);
          const st = ints(stride ?? null, `${file}: tensor stride`);
          if (sz.length !== st.length) throw bad(`tensor size ${shapeStr(sz)} and stride ${shapeStr(st)} differ in rank`);
          return new TorchTensor(storage, offset, sz, st);
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return args[0] ?? null;
        case 'torch._tensor._rebuild_from_type_v2': {
          const [f, , a] = args;
          if (!(a instanceof PyTuple)) throw bad('_rebuild_from_type_v2 without args');
          return this.call(f ?? null, a.items);
        }
        case 'numpy.core.multiarray._reconstruct':
        case 'numpy._core.multiarray._reconstruct':
          return new PyObject('ndarray', args);
        case 'numpy.dtype':
          return new PyObject('dtype', args);
        case '_codecs.encode': {
          const [s] = args;
          if (typeof s !== 'string') throw bad('_codecs.encode of a non-string');
          return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
        }
        default:
          throw bad(`cannot call ${fn.qualified}`);
      }
    },
    persistentLoad(pid) {
      if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') throw bad('unknown persistent id');
      const [, type, key, , count, view] = pid.items;
      if (!(type instanceof PyGlobal) || !(type.name in ELEMENT) || typeof key !== 'string' || typeof count !== 'number') throw bad('malformed storage persistent id');
      let root = storages.get(key);
      if (!root) {
        root = new StorageRef(key, type.name, count);
        storages.set(key, root);
      }
      if (view instanceof PyTuple) {
        const [, off, n] = view.items;
        if (typeof off !== 'number' || typeof n !== 'number') throw bad('malformed storage view');
        const v = new StorageRef(key, type.name, n, off);
        return Object.assign(v, { root });
      }
      return root;
    },
  };
}

function elementsOf(s: StorageRef, file: string): Float32Array {
  const root = (s as StorageRef & { root?: StorageRef }).root ?? s;
  const el = ELEMENT[s.type]!;
  if (!root.bytes) throw new EarshotError('MODEL_INVALID', `${file}: storage ${s.key} has no data`, { file });
  if (root.bytes.length !== root.numel * el.bytes) throw new EarshotError('DATA_CORRUPT', `${file}: storage ${s.key} is ${root.bytes.length} bytes, expected ${root.numel} x ${el.bytes}`, { file });
  const b = root.bytes.subarray(s.viewOffset * el.bytes, (s.viewOffset + s.numel) * el.bytes);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const n = b.length / el.bytes;
  const out = new Float32Array(n);
  if (s.type === 'FloatStorage') new Uint8Array(out.buffer).set(b);
  else if (s.type === 'DoubleStorage') for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  else if (s.type === 'HalfStorage') for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  else for (let i = 0; i < n; i++) out[i] = new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!;
  return out;
}

/** Gathers a strided view into a fresh row-major Float32Array. */
export function gather(src: Float32Array, offset: number, size: readonly number[], stride: readonly number[], what: string): Float32Array {
  const n = numel(size);
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) if (size[d]! > 0) maxIndex += (size[d]! - 1) * stride[d]!;
  if (n > 0 && (offset < 0 || maxIndex >= src.length)) throw new EarshotError('DATA_CORRUPT', `${what}: view (offset ${offset}, size ${shapeStr(size)}, stride ${shapeStr(stride)}) reaches element ${maxIndex} of a ${src.length}-element storage`, { what });
  const rank = size.length;
  const contiguous = stride.every((s, d) => s === size.slice(d + 1).reduce((a, b) => a * b, 1) || size[d] === 1);
  if (contiguous) return src.slice(offset, offset + n);
  const out = new Float32Array(n);
  const idx = new Array<number>(rank).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    out[i] = src[p]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      p += stride[d]!;
      if (idx[d]! < size[d]!) break;
      p -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function ndarrayToTensor(name: string, o: PyObject, file: string): RawTensor | { skip: string } {
  const st = o.state;
  const bad = (msg: string): EarshotError => new EarshotError('MODEL_INVALID', `${file}: numpy array ${name}: ${msg}`, { file, tensor: name });
  if (!(st instanceof PyTuple) || st.items.length < 5) throw bad('missing state');
  const [, shapeV, dtype, fortran, raw] = st.items;
  const shape = ints(shapeV ?? null, `${file}: ${name} shape`);
  if (!(dtype instanceof PyObject) || typeof dtype.args[0] !== 'string') throw bad('missing dtype');
  const code = dtype.args[0].replace(/^[<=|]/, '');
  const order = dtype.state instanceof PyTuple ? dtype.state.items[1] : '<';
  if (order === '>') throw bad('big-endian arrays are not supported');
  if (code !== 'f4' && code !== 'f8') return { skip: `numpy ${code}` };
  let bytes: Uint8Array;
  if (raw instanceof Uint8Array) bytes = raw;
  else if (typeof raw === 'string') bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0) & 0xff);
  else throw bad('data is not a byte string');
  const width = code === 'f4' ? 4 : 8;
  if (bytes.length !== numel(shape) * width) throw bad(`${bytes.length} data bytes for shape ${shapeStr(shape)} ${code}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const flat = new Float32Array(numel(shape));
  for (let i = 0; i < flat.length; i++) flat[i] = width === 4 ? dv.getFloat32(4 * i, true) : dv.getFloat64(8 * i, true);
  if (fortran !== true) return { name, shape, data: flat };
  const stride = shape.map((_, d) => shape.slice(0, d).reduce((a, b) => a * b, 1));
  return { name, shape, data: gather(flat, 0, shape, stride, `${file}: ${name}`) };
}

/** State dicts nest a few levels (module.sub.layer); a crafted pickle can nest 200k deep and overflow the stack. */
const MAX_NESTING = 64;

function collect(v: PyValue, prefix: string, file: string, out: RawTensor[], skipped: Array<{ name: string; dtype: string }>, depth = 0): void {
  if (depth > MAX_NESTING) throw new EarshotError('MODEL_INVALID', `${file}: containers nest deeper than ${MAX_NESTING} levels (at ${prefix.slice(0, 80)}…); not a state dict`, { file });
  if (v instanceof PyDict) {
    for (const [k, x] of v.entries) collect(x, prefix ? `${prefix}.${k}` : String(k), file, out, skipped, depth + 1);
  } else if (v instanceof TorchTensor) {
    const el = ELEMENT[v.storage.type]!;
    if (!el.float) skipped.push({ name: prefix, dtype: v.storage.type });
    else out.push({ name: prefix, shape: v.size, data: gather(elementsOf(v.storage, file), v.offset, v.size, v.stride, `${file}: tensor ${prefix}`) });
  } else if (v instanceof PyObject && v.cls === 'ndarray') {
    const t = ndarrayToTensor(prefix, v, file);
    if ('skip' in t) skipped.push({ name: prefix, dtype: t.skip });
    else out.push(t);
  } else if (v instanceof PyList || v instanceof PyTuple) {
    v.items.forEach((x, i) => collect(x, `${prefix}.${i}`, file, out, skipped, depth + 1));
  }
}

export function readPthBuffer(buf: Uint8Array, file: string): ReadResult {
  const storages = new Map<string, StorageRef>();
  const h = hooks(file, storages);
  let root: PyValue;
  if (isZip(buf)) {
    const entries = listZip(buf, file);
    const pkl = entries.find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl');
    if (!pkl) throw new EarshotError('MODEL_INVALID', `${file}: zip archive has no data.pkl (not a torch.save file)`, { file });
    const dir = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
    const order = entries.find((e) => e.name === `${dir}byteorder`);
    if (order && new TextDecoder().decode(readZipEntry(buf, order, file)) !== 'little') throw new EarshotError('DATA_UNSUPPORTED', `${file}: big-endian torch archives are not supported`, { file });
    root = unpickle(readZipEntry(buf, pkl, file), 0, h, `${file} data.pkl`).value;
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const s of storages.values()) {
      const e = byName.get(`${dir}data/${s.key}`);
      if (!e) throw new EarshotError('DATA_CORRUPT', `${file}: storage data/${s.key} is missing from the archive`, { file });
      s.bytes = readZipEntry(buf, e, file);
    }
  } else {
    const magic = unpickle(buf, 0, h, `${file} header`);
    if (magic.value !== LEGACY_MAGIC) throw new EarshotError('MODEL_INVALID', `${file}: not a PyTorch file (neither a zip archive nor legacy torch.save magic)`, { file });
    const proto = unpickle(buf, magic.end, h, `${file} header`);
    if (proto.value !== 1001) throw new EarshotError('DATA_UNSUPPORTED', `${file}: legacy torch.save protocol ${String(proto.value)} (expected 1001)`, { file });
    const sys = unpickle(buf, proto.end, h, `${file} sys_info`);
    if (sys.value instanceof PyDict && sys.value.entries.get('little_endian') === false) throw new EarshotError('DATA_UNSUPPORTED', `${file}: big-endian torch file`, { file });
    const main = unpickle(buf, sys.end, h, `${file} data`);
    root = main.value;
    const keys = unpickle(buf, main.end, h, `${file} storage keys`);
    if (!(keys.value instanceof PyList)) throw new EarshotError('MODEL_INVALID', `${file}: storage key list missing`, { file });
    let pos = keys.end;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (const k of keys.value.items) {
      const s = storages.get(String(k));
      if (!s) throw new EarshotError('MODEL_INVALID', `${file}: storage ${String(k)} listed but never referenced`, { file });
      if (pos + 8 > buf.length) throw new EarshotError('DATA_CORRUPT', `${file}: truncated before storage ${s.key}`, { file });
      const n = Number(dv.getBigInt64(pos, true));
      const bytes = n * ELEMENT[s.type]!.bytes;
      if (n !== s.numel || pos + 8 + bytes > buf.length) throw new EarshotError('DATA_CORRUPT', `${file}: storage ${s.key} header says ${n} elements (expected ${s.numel}) or runs past the end (truncated?)`, { file });
      s.bytes = buf.subarray(pos + 8, pos + 8 + bytes);
      pos += 8 + bytes;
    }
  }
  const tensors: RawTensor[] = [];
  const skipped: Array<{ name: string; dtype: string }> = [];
  collect(root, '', file, tensors, skipped);
  return { tensors, skipped };
}

export function readPth(path: string, onProgress?: ProgressFn): ReadResult {
  return readPthBuffer(readFileWithProgress(path, onProgress), path);
}
