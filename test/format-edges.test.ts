// Edges of the pure format code (src/format) that the end-to-end tests cannot reach, found by
// mutation testing (stryker.config.mjs): the byte comparison every check uses refuses arrays of
// different lengths (a cut MAC or digest must never compare equal to a prefix); step 3 (too short)
// is judged before steps 4-5 at exactly 183 and 184 bytes; the encoder refuses to write a header
// outside the limits, saying which; every KDF limit at both edges of every parameter, with the
// reason a user reads; the detail of each header and layout status; the last chunk's size; nonces
// written into a reused buffer; the names and KDF descriptions the CLI shows (docs/CLI.md
// "Options", "inspect"); which statuses count as failures (exit status 1).

import { describe, expect, it } from 'vitest';
import { HEADER_LEN, KDF_ARGON2ID, KDF_NAMES, KDF_PBKDF2, KDF_SCRYPT, MAGIC, MIN_ENVELOPE_LEN, SUITE_NAMES, TRAILER_MAGIC } from '../src/format/constants.js';
import { constantTimeEqual, encodeMacInput, finishHeader, parseHeader } from '../src/format/header.js';
import { checkKdfParams, DEFAULT_PARAMS, describeKdf, type KdfParams } from '../src/format/kdf-params.js';
import { chunkNonce, envelopeSize, layoutForSize, parseTrailer } from '../src/format/layout.js';
import { HINTS, isFailure, STATUSES } from '../src/engine/statuses.js';
import { EnvelopeError } from '../src/format/status.js';
import { statusOf } from './helpers/status.js';


/** `status: detail` of what `f` throws (an EnvelopeError), or 'ok'. */
function verdict(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof EnvelopeError) return `${e.status}: ${e.message}`;
    throw e;
  }
}

/** A header of `fields`, changed by `edit`, its header_check recomputed. */
function headerWith(edit: (h: Uint8Array) => void): Uint8Array {
  const h = finishHeader(encodeMacInput(fields), new Uint8Array(32).fill(1));
  edit(h);
  return finishHeader(h.subarray(0, 88), h.subarray(88, 120));
}

const fields = { suite: 1 as const, chunkLog2: 16, params: DEFAULT_PARAMS[KDF_SCRYPT], salt: new Uint8Array(32).fill(7), fileNonce: new Uint8Array(32).fill(9) };

describe('constantTimeEqual', () => {
  it('equal only for the same length and the same bytes', () => {
    const a = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(constantTimeEqual(a, Uint8Array.from(a))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    for (const i of [0, 1, 15, 16, 30, 31]) {
      const b = Uint8Array.from(a);
      b[i]! ^= 0x01;
      expect(constantTimeEqual(a, b), `byte ${i}`).toBe(false);
    }
  });

  it('a prefix, or a longer array, is never equal (a cut MAC or digest must not match)', () => {
    const a = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    for (const n of [0, 1, 16, 31]) {
      expect(constantTimeEqual(a.subarray(0, n), a), `first ${n} bytes`).toBe(false);
      expect(constantTimeEqual(a, a.subarray(0, n)), `against the first ${n} bytes`).toBe(false);
    }
    expect(constantTimeEqual(new Uint8Array(0), a)).toBe(false);
  });
});

describe('step 3 comes before steps 4-5', () => {
  // A header that is consistent (header_check recomputed) but names an unknown suite: that is
  // unsupported (step 5) only in a file long enough to be an envelope at all.
  const h = finishHeader(encodeMacInput(fields), new Uint8Array(32).fill(1));
  h[9] = 9;
  const consistent = finishHeader(h.subarray(0, 88), h.subarray(88, 120));
  it.each([
    [HEADER_LEN, 'corrupt'], [MIN_ENVELOPE_LEN - 1, 'corrupt'], [MIN_ENVELOPE_LEN, 'unsupported'], [MIN_ENVELOPE_LEN + 1, 'unsupported'],
  ])('a file of %i bytes with an unknown suite: %s', (size, want) => {
    expect(MIN_ENVELOPE_LEN).toBe(128 + 16 + 40);
    expect(statusOf(() => parseHeader(consistent, size))).toBe(want);
  });

  it('and a damaged header_check in a file of 183 bytes is corrupt for being short, of 184 for the check', () => {
    const bad = finishHeader(encodeMacInput(fields), new Uint8Array(32));
    bad[127]! ^= 1;
    const e183 = (() => { try { parseHeader(bad, 183); } catch (e) { return e as EnvelopeError; } return null; })();
    const e184 = (() => { try { parseHeader(bad, 184); } catch (e) { return e as EnvelopeError; } return null; })();
    expect([e183?.status, e184?.status]).toEqual(['corrupt', 'corrupt']);
    expect(e183?.message).toMatch(/truncated/);
    expect(e184?.message).toMatch(/header_check/);
  });
});

describe('the encoder never writes a header outside the limits', () => {
  it.each([
    ['a 31-byte salt', { ...fields, salt: new Uint8Array(31) }, /salt and file_nonce are 32 bytes/],
    ['a 33-byte file_nonce', { ...fields, fileNonce: new Uint8Array(33) }, /salt and file_nonce are 32 bytes/],
    ['scrypt log2 N = 21', { ...fields, params: { kdf: KDF_SCRYPT, p1: 21, p2: 8, p3: 1 } }, /beyond the limits: scrypt log2 N = 21/],
    ['chunk_log2 11', { ...fields, chunkLog2: 11 }, /chunk size outside/],
    ['chunk_log2 25', { ...fields, chunkLog2: 25 }, /chunk size outside/],
  ] as const)('%s: RangeError', (_what, f, why) => {
    expect(() => encodeMacInput(f as Parameters<typeof encodeMacInput>[0])).toThrow(RangeError);
    expect(() => encodeMacInput(f as Parameters<typeof encodeMacInput>[0])).toThrow(why);
  });

  it.each([12, 24])('chunk_log2 %i is written as it is', (log2) => {
    expect(encodeMacInput({ ...fields, chunkLog2: log2 })[11]).toBe(log2);
  });
});

describe('what the CLI shows', () => {
  it('suite and KDF names as the flags spell them (docs/CLI.md)', () => {
    expect(SUITE_NAMES).toEqual({ 1: 'aes-256-gcm', 2: 'chacha20-poly1305' });
    expect(KDF_NAMES).toEqual({ 1: 'scrypt', 2: 'argon2id', 3: 'pbkdf2' });
  });

  it('KDF parameters described as inspect prints them (docs/CLI.md "inspect")', () => {
    expect(describeKdf(DEFAULT_PARAMS[KDF_SCRYPT])).toBe('scrypt(log2N=17, r=8, p=1)');
    expect(describeKdf(DEFAULT_PARAMS[KDF_ARGON2ID])).toBe('argon2id(m=65536 KiB, t=3, p=1)');
    expect(describeKdf(DEFAULT_PARAMS[KDF_PBKDF2])).toBe('pbkdf2-sha256(iterations=600000)');
  });

  it('every status but ok and skipped is a failure (exit status 1), and each failure has a hint', () => {
    expect(STATUSES.filter((s) => isFailure(s))).toEqual(['not-envelope', 'unsupported', 'corrupt', 'wrong-password', 'exists', 'io-error', 'tool-error', 'missing', 'batch-mismatch', 'bad-name', 'name-conflict', 'too-large']);
    for (const s of STATUSES) expect(HINTS[s] !== '', s).toBe(isFailure(s));
  });
});

describe('KDF limits at both edges of every parameter (FORMAT.md table), with the reason', () => {
  const S = (p1: number, p2: number, p3: number): KdfParams => ({ kdf: KDF_SCRYPT, p1, p2, p3 });
  const A = (p1: number, p2: number, p3: number): KdfParams => ({ kdf: KDF_ARGON2ID, p1, p2, p3 });
  const P = (p1: number, p2: number, p3: number): KdfParams => ({ kdf: KDF_PBKDF2, p1, p2, p3 });
  it.each([
    [S(14, 8, 1), null], [S(13, 8, 1), 'scrypt log2 N = 13 is outside 14..20'], [S(21, 8, 1), 'scrypt log2 N = 21 is outside 14..20'],
    [S(14, 7, 1), 'scrypt r = 7 is outside 8..32'], [S(14, 32, 1), null], [S(14, 33, 1), 'scrypt r = 33 is outside 8..32'],
    [S(14, 8, 0), 'scrypt p = 0 is outside 1..16'], [S(14, 8, 16), null], [S(14, 8, 17), 'scrypt p = 17 is outside 1..16'],
    // 128·r·N·p <= 2^30, exactly at the edge and one step beyond it in each factor
    [S(20, 8, 1), null], [S(20, 9, 1), 'scrypt 128·r·N·p = 1207959552 exceeds 2^30'], [S(20, 8, 2), 'scrypt 128·r·N·p = 2147483648 exceeds 2^30'],
    [S(19, 16, 1), null], [S(19, 16, 2), 'scrypt 128·r·N·p = 2147483648 exceeds 2^30'], [S(14, 32, 16), null],
    [A(19456, 2, 1), null], [A(19455, 2, 1), 'argon2id m = 19455 KiB is outside 19456..1048576'],
    [A(1048576, 4, 1), null], [A(1048577, 2, 1), 'argon2id m = 1048577 KiB is outside 19456..1048576'],
    [A(19456, 1, 1), 'argon2id t = 1 is outside 2..16'], [A(19456, 16, 1), null], [A(19456, 17, 1), 'argon2id t = 17 is outside 2..16'],
    [A(19456, 2, 0), 'argon2id p = 0 is outside 1..16'], [A(19456, 2, 16), null], [A(19456, 2, 17), 'argon2id p = 17 is outside 1..16'],
    [A(262144, 16, 1), null], [A(262145, 16, 1), 'argon2id m·t = 4194320 exceeds 4194304'], [A(1048576, 5, 1), 'argon2id m·t = 5242880 exceeds 4194304'],
    [P(100000, 0, 0), null], [P(99999, 0, 0), 'pbkdf2 iterations 99999 outside 100000..10000000'],
    [P(10000000, 0, 0), null], [P(10000001, 0, 0), 'pbkdf2 iterations 10000001 outside 100000..10000000'],
    [P(100000, 1, 0), 'pbkdf2 kdf_p2 and kdf_p3 must be 0 (got 1, 0)'], [P(100000, 0, 1), 'pbkdf2 kdf_p2 and kdf_p3 must be 0 (got 0, 1)'],
    [{ kdf: 4, p1: 0, p2: 0, p3: 0 } as unknown as KdfParams, 'unknown kdf 4'],
  ] as [KdfParams, string | null][])('%o: %s', (p, why) => {
    expect(checkKdfParams(p)).toBe(why);
  });
});

describe('the detail of each header status', () => {
  const env = (h: Uint8Array, size = 1000): Uint8Array => Uint8Array.from([...h, ...new Uint8Array(Math.max(0, size - h.length))]).subarray(0, size);
  it.each([
    ['an empty file', new Uint8Array(0), 0, 'not-envelope: empty file, no AENV magic'],
    ['5 bytes of something else', Uint8Array.of(1, 2, 3, 4, 5), 5, 'not-envelope: no AENV magic at the start'],
    ['the magic alone', MAGIC, 8, 'corrupt: truncated: 8 bytes, cut right after the magic'],
    ['the magic and version 2, nothing more', Uint8Array.of(...MAGIC, 2), 9, 'unsupported: envelope version 2; this aenv reads version 1'],
    ['the magic and version 1, nothing more', Uint8Array.of(...MAGIC, 1), 9, 'corrupt: truncated: 9 bytes, shorter than the smallest envelope (184)'],
    ['suite 3', env(headerWith((h) => { h[9] = 3; })), 1000, 'unsupported: unknown cipher suite 3'],
    ['kdf 4', env(headerWith((h) => { h[10] = 4; })), 1000, 'unsupported: unknown kdf 4'],
    ['chunk_log2 25', env(headerWith((h) => { h[11] = 25; })), 1000, 'unsupported: chunk size 2^25 is outside 2^12..2^24'],
    ['scrypt log2 N 21', env(headerWith((h) => { h[12] = 21; })), 1000, 'unsupported: KDF parameters beyond the limits: scrypt log2 N = 21 is outside 14..20'],
  ] as const)('%s', (_what, prefix, size, want) => {
    expect(verdict(() => parseHeader(prefix.subarray(0, Math.min(128, size)), size))).toBe(want);
  });
});

describe('payload layout (step 7) and trailer (step 8)', () => {
  const C = 4096;
  const B = C + 16;
  it.each([[0, 1, 16], [1, 1, 17], [C, 1, B], [C + 1, 2, 17], [3 * C + 5, 4, 21]])('a plaintext of %i bytes: %i chunks, the last sealed in %i bytes', (n, chunks, last) => {
    const lay = layoutForSize(envelopeSize(n, C), C);
    expect(lay).toEqual({ chunks, sealedChunk: B, lastSealed: last, plaintextLen: n, payloadLen: (chunks - 1) * B + last });
  });

  it('an impossible length says what it is', () => {
    expect(verdict(() => layoutForSize(128 + 40 + B + 1, C))).toBe(`corrupt: impossible payload length ${B + 1} for 4096-byte chunks (truncated or extended)`);
  });

  it('a trailer must be 40 bytes and start with its magic', () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect([...parseTrailer(Uint8Array.of(...TRAILER_MAGIC, ...digest))]).toEqual([...digest]);
    for (const bad of [Uint8Array.of(...TRAILER_MAGIC, ...digest.subarray(1)), Uint8Array.of(...TRAILER_MAGIC, ...digest, 0), Uint8Array.of(...MAGIC, ...digest)]) {
      expect(verdict(() => parseTrailer(bad))).toBe('corrupt: no trailer (the envelope is truncated or its end is damaged)');
    }
  });

  it('a nonce written into a reused buffer is the same as a fresh one', () => {
    const out = new Uint8Array(12).fill(0xff);
    expect(Buffer.from(chunkNonce(0x0102030405, true, out)).toString('hex')).toBe('000000000000010203040501'); // 11-byte big-endian index, then the last flag
    expect(Buffer.from(chunkNonce(7, false, out)).toString('hex')).toBe(Buffer.from(chunkNonce(7, false)).toString('hex'));
  });
});

describe('errors', () => {
  it('an EnvelopeError says what it is in logs', () => {
    const e = new EnvelopeError('corrupt', 'chunk 3 failed', { chunk: 3, offset: 196784 });
    expect(String(e)).toBe('EnvelopeError: chunk 3 failed');
    expect([e.status, e.chunk, e.offset]).toEqual(['corrupt', 3, 196784]);
  });
});
