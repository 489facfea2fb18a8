// The pure format code (src/format): header steps 1-5 in their order, the payload-length rule
// of step 7, nonces, KDF limits at their edges, and header encoding round trips.

import { describe, expect, it } from 'vitest';
import { HEADER_LEN, KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, MAGIC } from '../src/format/constants.js';
import { encodeMacInput, finishHeader, parseHeader } from '../src/format/header.js';
import { checkKdfParams, DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { chunkNonce, envelopeSize, layoutForSize } from '../src/format/layout.js';
import { EnvelopeError } from '../src/format/status.js';
import { statusOf } from './helpers/status.js';


const fields = { suite: 1 as const, chunkLog2: 16, params: DEFAULT_PARAMS[KDF_SCRYPT], salt: new Uint8Array(32).fill(7), fileNonce: new Uint8Array(32).fill(9) };
const good = finishHeader(encodeMacInput(fields), new Uint8Array(32).fill(1));

describe('header steps 1-5', () => {
  it('round-trips the fields', () => {
    const h = parseHeader(good, 10_000);
    expect(h.suite).toBe(1);
    expect(h.chunkLog2).toBe(16);
    expect(h.params).toEqual(DEFAULT_PARAMS[KDF_SCRYPT]);
    expect(h.salt).toEqual(fields.salt);
    expect(h.fileNonce).toEqual(fields.fileNonce);
    expect(h.headerMac).toEqual(new Uint8Array(32).fill(1));
  });
  it('judges size and version in FORMAT.md\'s order', () => {
    expect(statusOf(() => parseHeader(new Uint8Array(0), 0))).toBe('not-envelope');
    expect(statusOf(() => parseHeader(MAGIC.subarray(0, 7), 7))).toBe('not-envelope');
    expect(statusOf(() => parseHeader(MAGIC, 8))).toBe('corrupt');
    const v2 = Uint8Array.from(good);
    v2[8] = 2;
    expect(statusOf(() => parseHeader(v2.subarray(0, 12), 12))).toBe('unsupported'); // before size
    expect(statusOf(() => parseHeader(good, 183))).toBe('corrupt');
    expect(statusOf(() => parseHeader(good, 184))).toBe('ok');
  });
  it('reads any accidental flip of bytes 9..127 as damage (header_check first)', () => {
    for (let i = 9; i < HEADER_LEN; i++) {
      const b = Uint8Array.from(good);
      b[i]! ^= 0x10;
      expect(statusOf(() => parseHeader(b, 10_000)), `byte ${i}`).toBe('corrupt');
    }
  });
  it('refuses unknown algorithms and out-of-range chunk sizes with a consistent check', () => {
    const forge = (i: number, v: number): Uint8Array => {
      const b = Uint8Array.from(good);
      b[i] = v;
      return finishHeader(b.subarray(0, 88), b.subarray(88, 120));
    };
    expect(statusOf(() => parseHeader(forge(9, 3), 10_000))).toBe('unsupported');
    expect(statusOf(() => parseHeader(forge(10, 4), 10_000))).toBe('unsupported');
    expect(statusOf(() => parseHeader(forge(11, 11), 10_000))).toBe('unsupported');
    expect(statusOf(() => parseHeader(forge(11, 25), 10_000))).toBe('unsupported');
    expect(statusOf(() => parseHeader(forge(11, 12), 10_000))).toBe('ok');
    expect(statusOf(() => parseHeader(forge(11, 24), 10_000))).toBe('ok');
  });
});

describe('KDF limits', () => {
  it.each([
    [KDF_SCRYPT, 14, 8, 1, true], [KDF_SCRYPT, 13, 8, 1, false], [KDF_SCRYPT, 20, 8, 1, true], [KDF_SCRYPT, 21, 8, 1, false],
    [KDF_SCRYPT, 20, 8, 2, false], [KDF_SCRYPT, 17, 7, 1, false], [KDF_SCRYPT, 17, 32, 1, true], [KDF_SCRYPT, 17, 33, 1, false],
    [KDF_SCRYPT, 14, 8, 16, true], [KDF_SCRYPT, 14, 8, 17, false], [KDF_SCRYPT, 18, 32, 1, true], [KDF_SCRYPT, 19, 32, 1, false],
    [KDF_SCRYPT, 30, 8, 1, false],
    [KDF_ARGON2ID, 19456, 2, 1, true], [KDF_ARGON2ID, 19455, 2, 1, false], [KDF_ARGON2ID, 1048576, 4, 1, true],
    [KDF_ARGON2ID, 1048576, 5, 1, false], [KDF_ARGON2ID, 65536, 1, 1, false], [KDF_ARGON2ID, 65536, 16, 1, true],
    [KDF_ARGON2ID, 65536, 17, 1, false], [KDF_ARGON2ID, 65536, 3, 16, true], [KDF_ARGON2ID, 65536, 3, 17, false],
    [KDF_ARGON2ID, 65536, 3, 0, false],
    [KDF_PBKDF2, 100000, 0, 0, true], [KDF_PBKDF2, 99999, 0, 0, false], [KDF_PBKDF2, 10000000, 0, 0, true],
    [KDF_PBKDF2, 10000001, 0, 0, false], [KDF_PBKDF2, 600000, 1, 0, false], [KDF_PBKDF2, 600000, 0, 1, false],
  ] as const)('kdf %i (%i, %i, %i) allowed: %s', (kdf, p1, p2, p3, ok) => {
    expect(checkKdfParams({ kdf, p1, p2, p3 }) === null).toBe(ok);
  });
  it('the encoder defaults are within the limits', () => {
    for (const p of Object.values(DEFAULT_PARAMS)) expect(checkKdfParams(p)).toBeNull();
  });
  it('the encoder refuses to write parameters beyond the limits', () => {
    expect(() => encodeMacInput({ ...fields, params: { kdf: KDF_SCRYPT, p1: 21, p2: 8, p3: 1 } })).toThrow(RangeError);
  });
});

describe('payload layout (step 7)', () => {
  const C = 4096;
  const B = C + 16;
  const size = (L: number): number => 128 + L + 40;
  it('accepts every length an encoder produces', () => {
    for (const n of [0, 1, 4095, 4096, 4097, 8192, 8193, 3 * 4096]) {
      const lay = layoutForSize(envelopeSize(n, C), C);
      expect(lay.plaintextLen).toBe(n);
      expect(lay.chunks).toBe(Math.max(1, Math.ceil(n / C)));
    }
  });
  it('rejects impossible lengths', () => {
    expect(statusOf(() => layoutForSize(size(15), C))).toBe('corrupt');
    expect(statusOf(() => layoutForSize(size(B + 16), C))).toBe('corrupt'); // empty last chunk after a full one
    expect(statusOf(() => layoutForSize(size(B + 1), C))).toBe('corrupt'); // cut inside a tag
    expect(statusOf(() => layoutForSize(size(B + 17), C))).toBe('ok');
    expect(statusOf(() => layoutForSize(size(16), C))).toBe('ok');
    expect(statusOf(() => layoutForSize(size(B), C))).toBe('ok');
  });
});

it('chunk nonces are the 11-byte big-endian index and the last flag', () => {
  expect(Buffer.from(chunkNonce(0, false)).toString('hex')).toBe('000000000000000000000000');
  expect(Buffer.from(chunkNonce(1, true)).toString('hex')).toBe('000000000000000000000101');
  expect(Buffer.from(chunkNonce(0x010203040506, false)).toString('hex')).toBe('0000000000' + '010203040506' + '00');
  expect(Buffer.from(chunkNonce(2 ** 40 + 258, true)).toString('hex')).toBe('0000000000' + '010000000102' + '01');
});
