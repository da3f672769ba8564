import { rng } from '../helpers/rng.js';

/** Cases per parser: small in the normal test run, `npm run fuzz` sets EARSHOT_FUZZ_CASES=10000. */
export const FUZZ_CASES = Number(process.env.EARSHOT_FUZZ_CASES ?? 200);

/** Seeded byte-level mutations of a real input: flips, overwrites with boundary bytes, truncation, duplication. */
export function mutateBytes(src: Uint8Array, seed: number): Uint8Array {
  const r = rng(seed);
  let b = Uint8Array.from(src);
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * b.length);
    switch (Math.floor(r() * 5)) {
      case 0:
        b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
        break;
      case 1:
        b[at] = [0, 0xff, 0x7f, 0x80, 0x2a, 0x26, 0x5b, 0x7b][Math.floor(r() * 8)]!;
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3: {
        const n = Math.min(64, b.length - at);
        const dup = b.subarray(at, at + n);
        const out = new Uint8Array(b.length + n);
        out.set(b.subarray(0, at + n));
        out.set(dup, at + n);
        out.set(b.subarray(at + n), at + 2 * n);
        b = out;
        break;
      }
      default:
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 8)))]);
    }
  }
  return b;
}

/** Structure-aware edit of a JSON-like value: replace one leaf with a hostile value. */
export function mutateValue(v: unknown, seed: number): unknown {
  const r = rng(seed);
  const hostile: unknown[] = [-1, -8, 0, 1e308, -1e308, 2 ** 53, 0.5, '', '../../../../etc/passwd', '/etc/passwd', null, true, [], {}, 'x'.repeat(10_000), [[[[[[[[1]]]]]]]], NaN];
  const clone = JSON.parse(JSON.stringify(v)) as unknown;
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x))
      x.forEach((c, i) => {
        leaves.push({ parent: x, key: i });
        walk(c);
      });
    else if (typeof x === 'object' && x !== null)
      for (const [k, c] of Object.entries(x)) {
        leaves.push({ parent: x as Record<string, unknown>, key: k });
        walk(c);
      }
  };
  walk(clone);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n && leaves.length > 0; i++) {
    const { parent, key } = leaves[Math.floor(r() * leaves.length)]!;
    (parent as Record<string | number, unknown>)[key] = hostile[Math.floor(r() * hostile.length)];
  }
  return clone;
}
