import { EarshotError } from '../../errors.js';

/**
 * A pickle virtual machine for checkpoint files. It never imports or runs
 * anything: GLOBAL resolves only through the caller's allow-list of symbolic
 * constructors, so a malicious pickle can at most fail to load.
 */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyList {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly entries = new Map<string | number, PyValue>();
  /** BUILD state (e.g. an OrderedDict's `_metadata`): kept, not interpreted. */
  state: PyValue = null;
}
/** A global the caller's resolver chose not to call directly (e.g. a storage class). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** An object whose class is known; BUILD fills `state`. */
export class PyObject {
  state: PyValue = null;
  constructor(readonly cls: string, readonly args: PyValue[]) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyTuple | PyList | PyDict | PyGlobal | PyObject | { readonly [custom: symbol]: unknown } | object;

export interface PickleHooks {
  /** Resolves GLOBAL module.name to a callable or a marker; throw to reject. */
  global(module: string, name: string): PyValue;
  /** REDUCE/NEWOBJ on a resolved global. */
  call(fn: PyValue, args: PyValue[]): PyValue;
  persistentLoad?(pid: PyValue): PyValue;
}

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

export interface PickleResult {
  readonly value: PyValue;
  /** Offset just past STOP: legacy torch files hold several pickles back to back. */
  readonly end: number;
}

export function unpickle(buf: Uint8Array, start: number, hooks: PickleHooks, what: string): PickleResult {
  const fail = (msg: string): EarshotError => new EarshotError('MODEL_INVALID', `${what}: bad pickle (${msg})`, { what });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const stack: Slot[] = [];
  const memo = new Map<number, PyValue>();
  let pos = start;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw fail(`truncated at offset ${pos}`);
  };
  const u8 = (): number => (need(1), buf[pos++]!);
  const u32 = (): number => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const bytes = (n: number): Uint8Array => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const utf8 = (n: number): string => new TextDecoder().decode(bytes(n));
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw fail('unterminated GLOBAL line');
    const s = new TextDecoder().decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw fail('stack underflow');
    const v = stack.pop()!;
    if (v === MARK) throw fail('unexpected MARK');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw fail('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw fail('no MARK on the stack');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const key = (k: PyValue): string | number => {
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (typeof k === 'bigint') return Number(k);
    throw fail('dict key is not a string or int');
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof PyDict)) throw fail('SETITEM on a non-dict');
    if (kv.length % 2 !== 0) throw fail('odd SETITEMS');
    for (let i = 0; i < kv.length; i += 2) d.entries.set(key(kv[i]!), kv[i + 1]!);
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    if (!(l instanceof PyList)) throw fail('APPEND on a non-list');
    l.items.push(...items);
  };
  const long = (b: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME: framing is advisory
      case 0x2e: return { value: pop(), end: pos }; // STOP
      case 0x28: stack.push(MARK); break;
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: need(4); stack.push(dv.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: need(2); stack.push(dv.getUint16(pos, true)); pos += 2; break; // BININT2
      case 0x8a: stack.push(long(bytes(u8()))); break; // LONG1
      case 0x8b: stack.push(long(bytes(u32()))); break; // LONG4
      case 0x47: need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; // BINFLOAT
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(dv.getBigUint64(pos, true)); pos += 8; stack.push(utf8(n)); break; }
      case 0x55: stack.push(new TextDecoder('latin1').decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x54: stack.push(new TextDecoder('latin1').decode(bytes(u32()))); break; // BINSTRING
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x8e: { need(8); const n = Number(dv.getBigUint64(pos, true)); pos += 8; stack.push(bytes(n)); break; }
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break;
      case 0x86: { const b = pop(); stack.push(new PyTuple([pop(), b])); break; }
      case 0x87: { const c = pop(); const b = pop(); stack.push(new PyTuple([pop(), b, c])); break; }
      case 0x5d: stack.push(new PyList([])); break; // EMPTY_LIST
      case 0x6c: stack.push(new PyList(popMark())); break; // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) throw fail(`memo ${i} missing`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x63: { const module = line(); stack.push(hooks.global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs strings');
        stack.push(hooks.global(module, name));
        break;
      }
      case 0x52: case 0x81: { // REDUCE, NEWOBJ
        const args = pop();
        const fn = pop();
        if (!(args instanceof PyTuple)) throw fail('REDUCE arguments are not a tuple');
        stack.push(hooks.call(fn, args.items));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict || obj instanceof PyObject) obj.state = state;
        else throw fail('BUILD on an object that takes no state');
        break;
      }
      case 0x51: { // BINPERSID
        if (!hooks.persistentLoad) throw fail('persistent id without a loader');
        stack.push(hooks.persistentLoad(pop()));
        break;
      }
      default:
        throw fail(`unsupported opcode 0x${op.toString(16)} at offset ${pos - 1}`);
    }
  }
}
