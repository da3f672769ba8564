import assert from 'node:assert/strict';
import { test } from 'node:test';

import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from '../../src/util/crc32c.js';
import { rng } from '../features/util.js';

/** Bit-at-a-time reference CRC32C, independent of the table code under test. */
function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('crc32c matches the RFC 3720 test vectors and a bitwise reference', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  // RFC 3720 B.4.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  const r = rng(7);
  const big = Uint8Array.from({ length: 4099 }, () => Math.floor(r() * 256));
  for (let i = 0; i < 200; i++) {
    const a = Math.floor(r() * big.length);
    const b = a + Math.floor(r() * (big.length - a));
    assert.equal(crc32c(big, a, b), crc32cBitwise(big.subarray(a, b)), `range [${a}, ${b})`);
  }
  // Continuing a CRC over a split gives the CRC of the whole.
  assert.equal(crc32c(big, 1000, big.length, crc32c(big, 0, 1000)), crc32c(big));
});

test('TensorFlow masking: rotate right 15, add 0xa282ead8; unmask round-trips', () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(0x00008000), (1 + 0xa282ead8) >>> 0);
  const c = crc32c(enc('earshot'));
  assert.notEqual(maskCrc(c), c);
  assert.equal(unmaskCrc(maskCrc(c)), c);
  const b = enc('the quick brown fox');
  assert.equal(maskedCrc32c(b, 4, 9), maskCrc(crc32c(b.subarray(4, 9))));
});
