// HalfSipHash-2-4 with a 32-bit result: the 32-bit-word variant of SipHash (J.-P. Aumasson and
// D. J. Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012; HalfSipHash as published
// with the reference code, github.com/veorq/SipHash), a keyed hash for hash tables whose keys an
// attacker chooses: without the 64-bit key, names cannot be picked to collide. The vectors of
// the reference (key 00..07, message 00..len-1) are checked in test/batch-checksum-table.test.ts.

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));

/** HalfSipHash-2-4 of `m` under the 8-byte `key`, as an unsigned 32-bit integer (little-endian, as the reference's output bytes). */
export function halfSipHash(m: Uint8Array, key: Uint8Array): number {
  const k0 = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
  const k1 = (key[4]! | (key[5]! << 8) | (key[6]! << 16) | (key[7]! << 24)) >>> 0;
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const n = m.length;
  const whole = n - (n & 3);
  // Each 4-byte word (little-endian), then the last 0-3 bytes with the length (mod 256) in the
  // top byte, is taken in with 2 rounds; then 4 rounds. (One round's code, not a closure: this
  // runs for every name of a list.)
  for (let i = 0; i <= whole; i += 4) {
    let w: number;
    if (i < whole) {
      w = m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24);
    } else {
      w = (n & 0xff) << 24;
      for (let j = n - 1; j >= whole; j--) w |= m[j]! << (8 * (j - whole));
    }
    v3 ^= w;
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    }
    v0 ^= w;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
  }
  return (v1 ^ v3) >>> 0;
}
