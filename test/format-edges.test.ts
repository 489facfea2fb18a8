// Edges of the pure format code (src/format) that the end-to-end tests cannot reach, found by
// mutation testing (stryker.config.mjs): the byte comparison every check uses refuses arrays of
// different lengths (a cut MAC or digest must never compare equal to a prefix); step 3 (too short)
// is judged before steps 4-5 at exactly 183 and 184 bytes; the encoder refuses to write a header
// outside the limits, saying which; the names and KDF descriptions the CLI shows (shared/CLI.md,
// README "inspect"); which statuses count as failures (exit status 1).

import { describe, expect, it } from 'vitest';
import { HEADER_LEN, KDF_ARGON2ID, KDF_NAMES, KDF_PBKDF2, KDF_SCRYPT, MIN_ENVELOPE_LEN, SUITE_NAMES } from '../src/format/constants.js';
import { constantTimeEqual, encodeMacInput, finishHeader, parseHeader } from '../src/format/header.js';
import { DEFAULT_PARAMS, describeKdf } from '../src/format/kdf-params.js';
import { EnvelopeError, HINTS, isFailure, STATUSES } from '../src/format/status.js';

function statusOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof EnvelopeError) return e.status;
    throw e;
  }
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
  it('suite and KDF names as the flags spell them (shared/CLI.md)', () => {
    expect(SUITE_NAMES).toEqual({ 1: 'aes-256-gcm', 2: 'chacha20-poly1305' });
    expect(KDF_NAMES).toEqual({ 1: 'scrypt', 2: 'argon2id', 3: 'pbkdf2' });
  });

  it('KDF parameters described as inspect prints them (README)', () => {
    expect(describeKdf(DEFAULT_PARAMS[KDF_SCRYPT])).toBe('scrypt(log2N=17, r=8, p=1)');
    expect(describeKdf(DEFAULT_PARAMS[KDF_ARGON2ID])).toBe('argon2id(m=65536 KiB, t=3, p=1)');
    expect(describeKdf(DEFAULT_PARAMS[KDF_PBKDF2])).toBe('pbkdf2-sha256(iterations=600000)');
  });

  it('every status but ok and skipped is a failure (exit status 1), and each failure has a hint', () => {
    expect(STATUSES.filter((s) => isFailure(s))).toEqual(['not-envelope', 'unsupported', 'corrupt', 'wrong-password', 'exists', 'io-error']);
    for (const s of STATUSES) expect(HINTS[s] !== '', s).toBe(isFailure(s));
  });
});
