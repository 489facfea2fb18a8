// Property tests (fast-check): random plaintexts of random sizes round-trip for every suite,
// KDF and chunk size, across both backends (sealed by one, opened by the other, as files and as
// streams); and changing, removing or adding any byte of an envelope never yields a clean `ok`.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, type Backend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, type KdfId, type SuiteId } from '../src/format/constants.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { newContext } from '../src/engine/context.js';
import { decryptFile, newEncoder, verifyFile, type Sealing } from '../src/engine/files.js';
import { decryptStream } from '../src/engine/stdio.js';
import { tempDir } from './helpers/cli.js';

const PW = 'pässwörd ünïcode'; // NFC and NFD forms must give the same key
const node = getBackend('node');
const noble = getBackend('noble');
const tmp = tempDir('aenv-prop-');
afterAll(() => tmp.cleanup());

const masters = new Map<KdfId, { salt: Uint8Array; master: Uint8Array }>();
beforeAll(async () => {
  const keys = new KeyCache(node, passwordBytes(PW));
  for (const kdf of [KDF_SCRYPT, KDF_ARGON2ID, KDF_PBKDF2] as KdfId[]) {
    const salt = randomBytes(32);
    masters.set(kdf, { salt, master: await keys.master(DEFAULT_PARAMS[kdf], salt) });
  }
}, 60_000);

function seal(backend: Backend, suite: SuiteId, kdf: KdfId, chunkLog2: number, pt: Uint8Array, pieces: number[]): Uint8Array {
  const m = masters.get(kdf)!;
  const s: Sealing = { suite, chunkLog2, params: DEFAULT_PARAMS[kdf], salt: m.salt, master: m.master };
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
  const parts: Buffer[] = [];
  for (let i = 0; i < env.length; i += piece) parts.push(Buffer.from(env.subarray(i, i + piece)));
  const got: Buffer[] = [];
  await decryptStream(Readable.from(parts), new Writable({ write(c: Buffer, _e, cb) { got.push(c); cb(); } }), openCtx(backend));
  return Buffer.concat(got);
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
  let trailerDigest = 0;
  beforeAll(() => {
    env = Buffer.from(seal(node, 2, KDF_PBKDF2, 12, randomBytes(2 * 4096 + 1234), []));
    trailerDigest = env.length - 32;
  });

  it('the undamaged envelope opens (so the properties below are not vacuous)', async () => {
    const { r, src } = await fileOpen(node, env);
    expect(r.status).toBe('ok');
    expect((await verifyFile(src, openCtx(node))).status).toBe('ok');
    expect((await verifyFile(src, newContext(node, null))).status).toBe('ok');
  });

  it('any changed byte: verify fails with and without the password; decrypt fails or warns', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: env.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, x) => {
      const bad = Buffer.from(env);
      bad[pos]! ^= x;
      const { r, src } = await fileOpen(node, bad);
      if (pos >= trailerDigest) {
        expect(r.status).toBe('ok'); // step 11: authentic plaintext, damaged trailer
        expect(r.warning).toBeDefined();
      } else {
        expect(r.status).not.toBe('ok');
      }
      expect((await verifyFile(src, openCtx(node))).status).not.toBe('ok');
      expect((await verifyFile(src, newContext(node, null))).status).not.toBe('ok');
    }), { numRuns: 150 });
  }, 120_000);

  it('any removed or inserted byte, or a cut anywhere: never ok', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: env.length - 1 }), fc.constantFrom('remove', 'insert', 'cut'), fc.integer({ min: 0, max: 255 }), async (pos, how, v) => {
      const bad = how === 'remove' ? Buffer.concat([env.subarray(0, pos), env.subarray(pos + 1)])
        : how === 'insert' ? Buffer.concat([env.subarray(0, pos), Buffer.of(v), env.subarray(pos)])
          : env.subarray(0, pos);
      const { r, src } = await fileOpen(node, bad);
      expect(r.status).not.toBe('ok');
      expect((await verifyFile(src, openCtx(node))).status).not.toBe('ok');
      expect((await verifyFile(src, newContext(node, null))).status).not.toBe('ok');
      await expect(streamOpen(node, bad, 1000)).rejects.toThrow();
    }), { numRuns: 150 });
  }, 120_000);
});
