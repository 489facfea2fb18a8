// Property tests (fast-check): random plaintexts of random sizes round-trip for every suite,
// KDF and chunk size, across both backends (sealed by one, opened by the other, as files and as
// streams); and changing, removing or adding any byte of an envelope, or cutting it, gives the
// exact status docs/FORMAT.md's step order says, in every mode (decrypt, keyed and passwordless
// verify, the stream decoder): a changed byte by where it lies, the others by the oracle of
// test/helpers/oracle.ts, which walks the steps on the bytes.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, type Backend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, type KdfId, type SuiteId } from '../src/format/constants.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder, type Sealing } from '../src/engine/aenv.js';
import { decryptFile, verifyFile } from '../src/engine/files.js';
import { tempDir, UNDER_MUTATION } from './helpers/cli.js';
import { expectedFor } from './helpers/oracle.js';
import { decryptPieces, pieces } from './helpers/stream.js';

const PW = 'pässwörd ünïcode'; // NFC and NFD forms must give the same key
const node = getBackend('node');
const noble = getBackend('noble');
const tmp = tempDir('aenv-prop-');
afterAll(() => tmp.cleanup());

// The encoder defaults; under mutation testing (stryker.config.mjs) the format's floors instead,
// since every mutant run derives each key again on both backends (seconds each on @noble).
const PARAMS: typeof DEFAULT_PARAMS = UNDER_MUTATION
  ? { [KDF_SCRYPT]: { kdf: KDF_SCRYPT, p1: 14, p2: 8, p3: 1 }, [KDF_ARGON2ID]: { kdf: KDF_ARGON2ID, p1: 19456, p2: 2, p3: 1 }, [KDF_PBKDF2]: { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 } } as typeof DEFAULT_PARAMS
  : DEFAULT_PARAMS;
const masters = new Map<KdfId, { salt: Uint8Array; master: Uint8Array }>();
beforeAll(async () => {
  const keys = new KeyCache(node, passwordBytes(PW));
  for (const kdf of [KDF_SCRYPT, KDF_ARGON2ID, KDF_PBKDF2] as KdfId[]) {
    const salt = randomBytes(32);
    masters.set(kdf, { salt, master: await keys.master(PARAMS[kdf], salt) });
  }
}, 60_000);

function seal(backend: Backend, suite: SuiteId, kdf: KdfId, chunkLog2: number, pt: Uint8Array, pieces: number[]): Uint8Array {
  const m = masters.get(kdf)!;
  const s: Sealing = { suite, chunkLog2, params: PARAMS[kdf], salt: m.salt, master: m.master };
  const { header, encoder } = newEncoder(newContext(backend, null), s);
  const out: Uint8Array[] = [header];
  let pos = 0;
  for (const p of pieces) {
    if (pos >= pt.length) break;
    out.push(...encoder.push(pt.subarray(pos, pos + p)));
    pos += p;
  }
  out.push(...encoder.push(pt.subarray(pos)), ...encoder.end());
  return Buffer.concat(out);
}

/** Opening contexts share one key cache per backend, so each KDF runs once per backend. */
const openKeys = new Map<string, KeyCache>();
function openCtx(backend: Backend) {
  if (!openKeys.has(backend.name)) openKeys.set(backend.name, new KeyCache(backend, passwordBytes(PW.normalize('NFD'))));
  return newContext(backend, openKeys.get(backend.name)!);
}

async function streamOpen(backend: Backend, env: Uint8Array, piece: number): Promise<Buffer> {
  const r = await decryptPieces(pieces(env, piece), openCtx(backend));
  if (r.error) throw r.error;
  return r.out;
}

let n = 0;
async function fileOpen(backend: Backend, env: Uint8Array) {
  const src = path.join(tmp.dir, `p${n++}.aspera-env`);
  writeFileSync(src, env);
  const out = src.slice(0, -'.aspera-env'.length);
  const r = await decryptFile(src, { base: tmp.dir, relDir: '', output: out }, { force: false, skipExisting: false, removeSource: false }, openCtx(backend));
  return { r, out, src };
}

const suiteArb = fc.constantFrom<SuiteId>(1, 2);
const kdfArb = fc.constantFrom<KdfId>(KDF_SCRYPT, KDF_ARGON2ID, KDF_PBKDF2);
const caseArb = fc.integer({ min: 12, max: 16 }).chain((log2) => {
  const C = 2 ** log2;
  return fc.record({
    chunkLog2: fc.constant(log2),
    len: fc.oneof(fc.constantFrom(0, 1, C - 1, C, C + 1, 2 * C, 2 * C + 1), fc.integer({ min: 0, max: 3 * C + 7 })),
    suite: suiteArb,
    kdf: kdfArb,
    pieces: fc.array(fc.integer({ min: 1, max: 3 * C }), { maxLength: 6 }),
    readPiece: fc.integer({ min: 1, max: 2 * C + 100 }),
    sealer: fc.boolean(),
  });
});

describe('round trips', () => {
  it('random plaintexts, every suite, KDF and chunk size 4..64 KiB, across backends', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const pt = randomBytes(c.len);
      const [by, other] = c.sealer ? [node, noble] : [noble, node];
      const env = seal(by, c.suite, c.kdf, c.chunkLog2, pt, c.pieces);
      expect(env.length).toBe(128 + 40 + c.len + 16 * Math.max(1, Math.ceil(c.len / 2 ** c.chunkLog2)));
      for (const b of [other, by]) {
        const { r, out } = await fileOpen(b, env);
        expect(r.status, r.detail).toBe('ok');
        expect(r.warning).toBeUndefined();
        expect(readFileSync(out).equals(pt)).toBe(true);
      }
      expect((await streamOpen(other, env, c.readPiece)).equals(pt)).toBe(true);
    }), { numRuns: 60 });
  }, 120_000);

  it.each([[20, 1], [24, 0], [24, 1]])('chunk size 2^%i at its boundaries (+%i)', async (log2, extra) => {
    const C = 2 ** log2;
    const pt = randomBytes(C + extra);
    const env = seal(node, 1, KDF_SCRYPT, log2, pt, []);
    const { r, out } = await fileOpen(node, env);
    expect(r.status).toBe('ok');
    expect(readFileSync(out).equals(pt)).toBe(true);
    expect((await streamOpen(node, env, 1 << 20)).equals(pt)).toBe(true);
  }, 60_000);
});

describe('damage never passes', () => {
  let env: Buffer = Buffer.alloc(0);
  let plain: Buffer = Buffer.alloc(0);
  let trailerDigest = 0;
  beforeAll(() => {
    plain = randomBytes(2 * 4096 + 1234);
    env = Buffer.from(seal(node, 2, KDF_PBKDF2, 12, plain, []));
    trailerDigest = env.length - 32;
  });

  // Step 1 (magic), step 2 (version), step 4 (header_check covers bytes 0..119 and is itself
  // 120..127: nothing in the header can change without it, so the keyed check of step 6 is
  // never reached), steps 10/9 (payload: a tag, or the digest without a password), step 8
  // (trailer magic), step 11 (trailer digest: decrypt ok with a warning, verify corrupt).
  const statusAt = (pos: number): { decrypt: string; warning: boolean; keyed: string; nopw: string } => {
    if (pos < 8) return { decrypt: 'not-envelope', warning: false, keyed: 'not-envelope', nopw: 'not-envelope' };
    if (pos === 8) return { decrypt: 'unsupported', warning: false, keyed: 'unsupported', nopw: 'unsupported' };
    if (pos >= trailerDigest) return { decrypt: 'ok', warning: true, keyed: 'corrupt', nopw: 'corrupt' };
    return { decrypt: 'corrupt', warning: false, keyed: 'corrupt', nopw: 'corrupt' };
  };

  it('the undamaged envelope opens (so the properties below are not vacuous)', async () => {
    const { r, src } = await fileOpen(node, env);
    expect(r.status).toBe('ok');
    expect((await verifyFile(src, openCtx(node))).status).toBe('ok');
    expect((await verifyFile(src, newContext(node, null))).status).toBe('ok');
  });

  it('any changed byte: the status its position gives, in every mode', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: env.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, x) => {
      const bad = Buffer.from(env);
      bad[pos]! ^= x;
      const want = statusAt(pos);
      const { r, src, out } = await fileOpen(node, bad);
      expect(r.status, r.detail).toBe(want.decrypt);
      expect(r.warning !== undefined).toBe(want.warning);
      if (r.status === 'ok') expect(readFileSync(out).equals(plain)).toBe(true); // authentic plaintext, damaged trailer
      expect((await verifyFile(src, openCtx(node))).status).toBe(want.keyed);
      expect((await verifyFile(src, newContext(node, null))).status).toBe(want.nopw);
    }), { numRuns: 150 });
  }, 120_000);

  // The property's 150 random positions over 9,642 bytes may miss the small regions (the 8-byte
  // magic, the version byte, the digest); so each region's edges once more, exactly.
  const T = 128 + 3 * 16 + 2 * 4096 + 1234; // where the trailer starts
  it.each([0, 7, 8, 9, 87, 88, 119, 120, 127, 128, 4096 + 200, T - 1, T, T + 7, T + 8, T + 39])('a changed byte at %i, exactly', async (pos) => {
    expect(env.length).toBe(T + 40);
    const bad = Buffer.from(env);
    bad[pos]! ^= 0x80;
    const want = statusAt(pos);
    const { r, src, out } = await fileOpen(node, bad);
    expect(r.status, r.detail).toBe(want.decrypt);
    expect(r.warning !== undefined).toBe(want.warning);
    if (r.status === 'ok') expect(readFileSync(out).equals(plain)).toBe(true);
    expect((await verifyFile(src, openCtx(node))).status).toBe(want.keyed);
    expect((await verifyFile(src, newContext(node, null))).status).toBe(want.nopw);
  });

  it('any removed or inserted byte, or a cut anywhere: the status FORMAT.md\'s steps give, file and stream alike', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: env.length - 1 }), fc.constantFrom('remove', 'insert', 'cut'), fc.integer({ min: 0, max: 255 }), async (pos, how, v) => {
      const bad = how === 'remove' ? Buffer.concat([env.subarray(0, pos), env.subarray(pos + 1)])
        : how === 'insert' ? Buffer.concat([env.subarray(0, pos), Buffer.of(v), env.subarray(pos)])
          : env.subarray(0, pos);
      const want = expectedFor(env, bad);
      expect(want.decrypt).not.toBe('ok'); // the oracle agrees that none of these can pass
      const { r, src } = await fileOpen(node, bad);
      expect(r.status, r.detail).toBe(want.decrypt);
      expect((await verifyFile(src, openCtx(node))).status).toBe(want.keyed);
      expect((await verifyFile(src, newContext(node, null))).status).toBe(want.nopw);
      // A stream of the same bytes ends with the same status (steps 1-6 alike; later, corrupt).
      await expect(streamOpen(node, bad, 1000)).rejects.toMatchObject({ status: want.decrypt });
    }), { numRuns: 150 });
  }, 120_000);

  it('the statuses a removed or inserted byte must give, at the places where they differ', async () => {
    // Worked out by hand from the step order, for the bytes where the outcome is not simply corrupt:
    // the magic's bytes are all distinct, so any removal in it breaks it (not-envelope); removing
    // the version byte brings the suite byte (2) there (unsupported); inserting 0x0A at 7 keeps
    // the magic and pushes its last byte 0x0A into the version (unsupported); inserting a 1 at 8
    // keeps the version and breaks header_check (corrupt); anything in the payload is corrupt.
    const cases: [string, Buffer, string][] = [
      ['remove 0', Buffer.concat([env.subarray(0, 0), env.subarray(1)]), 'not-envelope'],
      ['remove 7', Buffer.concat([env.subarray(0, 7), env.subarray(8)]), 'not-envelope'],
      ['remove 8', Buffer.concat([env.subarray(0, 8), env.subarray(9)]), 'unsupported'],
      ['insert 0x0A at 7', Buffer.concat([env.subarray(0, 7), Buffer.of(0x0a), env.subarray(7)]), 'unsupported'],
      ['insert 0x0B at 7', Buffer.concat([env.subarray(0, 7), Buffer.of(0x0b), env.subarray(7)]), 'not-envelope'],
      ['insert 0x01 at 8', Buffer.concat([env.subarray(0, 8), Buffer.of(0x01), env.subarray(8)]), 'corrupt'],
      ['insert 0x02 at 8', Buffer.concat([env.subarray(0, 8), Buffer.of(0x02), env.subarray(8)]), 'unsupported'],
      ['cut to 7', env.subarray(0, 7), 'not-envelope'],
      ['cut to 8', env.subarray(0, 8), 'corrupt'],
      ['cut to 183', env.subarray(0, 183), 'corrupt'],
      ['remove in the payload', Buffer.concat([env.subarray(0, 300), env.subarray(301)]), 'corrupt'],
    ];
    for (const [what, bad, want] of cases) {
      expect(expectedFor(env, bad).decrypt, `oracle: ${what}`).toBe(want);
      const { r, src } = await fileOpen(node, bad);
      expect(r.status, `${what}: ${r.detail}`).toBe(want);
      expect((await verifyFile(src, openCtx(node))).status, what).toBe(want);
      expect((await verifyFile(src, newContext(node, null))).status, what).toBe(want);
      await expect(streamOpen(node, bad, 1000), what).rejects.toMatchObject({ status: want });
    }
  }, 60_000);
});
