// Chunk forgeries on every code path that opens chunks (docs/FORMAT.md "Decoding a file", step 10): the payload of a small file is
// opened in one piece on the calling thread (inline), a large file's blocks on the worker
// threads, and a stream's blocks as the stream framer hands them out (with and without the
// workers). On each path, for both suites: the last chunk dropped (the one before it is then
// opened as the last and its tag fails, final flag 0 against 1), two chunks swapped, a chunk of
// another position copied in, and a chunk inserted before the last; each with the trailer's
// digest recomputed, so only the chunk nonces (counter and final flag) can catch it. Every one
// must be `corrupt` naming the right chunk, with no output left; the untouched envelope opens.
// Also the worker's job function called in process, so its mapping of results is tested where
// a mutant can be seen (a worker thread runs the built code).

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { newContext, type RunContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { decryptFile } from '../src/engine/files.js';
import { INLINE_MAX } from '../src/engine/pipeline.js';
import { HEADER_LEN, TAG_LEN } from '../src/format/constants.js';
import { chunkOffset } from '../src/format/layout.js';
import { answer, runChunkJob as runJob } from '../src/stream/worker.js';
import { getBackend } from './helpers/backends.js';
import { PASSWORD, tempDir } from './helpers/cli.js';
import { decryptPieces } from './helpers/stream.js';

const backend = getBackend('node');
const PARAMS = { kdf: 3, p1: 100_000, p2: 0, p3: 0 } as const;
const C = 65536;
const B = C + TAG_LEN;
const tmp = tempDir('aenv-forgery-paths-');
let run: RunContext;
const salt = randomBytes(32);
let master: Uint8Array;
/** Payloads: well below INLINE_MAX (inline), and several blocks past it (worker threads). */
const SIZES = { inline: 5 * C + 1234, workers: 3 * INLINE_MAX + 7 * C + 4321 };
const sealed = new Map<string, { plain: Buffer; env: Buffer }>();

beforeAll(async () => {
  run = newContext(backend, new KeyCache(backend, passwordBytes(PASSWORD)));
  master = await run.keys!.master(PARAMS, salt);
  for (const suite of [1, 2] as const) {
    for (const [name, size] of Object.entries(SIZES)) {
      const plain = randomBytes(size);
      const { header, encoder } = newEncoder(run, { suite, chunkLog2: 16, params: PARAMS, salt, master });
      sealed.set(`${suite}-${name}`, { plain, env: Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]) });
    }
  }
}, 60_000);
afterAll(async () => {
  await run.pool?.close();
  tmp.cleanup();
});

const chunksOf = (env: Buffer): Buffer[] => {
  const payload = env.subarray(HEADER_LEN, env.length - 40);
  const out: Buffer[] = [];
  for (let p = 0; p < payload.length; p += B) out.push(payload.subarray(p, Math.min(p + B, payload.length)));
  return out;
};
/** Header, the given chunks, and a trailer whose digest is recomputed (the forger's touch-up). */
function rebuild(env: Buffer, chunks: Buffer[]): Buffer {
  const body = Buffer.concat([env.subarray(0, HEADER_LEN), ...chunks]);
  return Buffer.concat([body, env.subarray(env.length - 40, env.length - 32), createHash('sha256').update(body).digest()]);
}

/** The forgeries, each with the chunk that must fail. */
function forgeries(env: Buffer): [string, Buffer, number][] {
  const c = chunksOf(env);
  const n = c.length;
  const full = c.slice(0, n - 1); // all full chunks
  return [
    ['last chunk dropped (the one before it opened as the last)', rebuild(env, full), n - 2],
    ['chunks 1 and 2 swapped', rebuild(env, [c[0]!, c[2]!, c[1]!, ...c.slice(3)]), 1],
    ['chunk 0 copied into place 3', rebuild(env, [...c.slice(0, 3), c[0]!, ...c.slice(4)]), 3],
    ['a copy of chunk 0 inserted before the last one', rebuild(env, [...full, c[0]!, c[n - 1]!]), n - 1],
  ];
}

let k = 0;
async function viaFile(bytes: Buffer) {
  const dir = path.join(tmp.dir, `f${k++}`);
  mkdirSync(dir);
  const src = path.join(dir, 'x.aspera-env');
  writeFileSync(src, bytes);
  const r = await decryptFile(src, { base: dir, relDir: '', output: path.join(dir, 'x'), within: null, baseId: null }, { force: false, skipExisting: false, removeSource: false }, run);
  return { r, left: readdirSync(dir).filter((x) => x !== 'x.aspera-env') };
}

async function viaStream(bytes: Buffer, ctx: RunContext) {
  const { out, error } = await decryptPieces([bytes.subarray(0, 777), bytes.subarray(777)], ctx);
  return { status: error ? error.status ?? 'error' : 'ok', out, chunk: error?.chunk };
}

describe.each([1, 2] as const)('suite %i', (suite) => {
  for (const name of Object.keys(SIZES)) {
    it(`file, ${name}: the envelope opens; every chunk forgery is corrupt at the right chunk, nothing left`, async () => {
      const { plain, env } = sealed.get(`${suite}-${name}`)!;
      const ok = await viaFile(env);
      expect(ok.r.status, ok.r.detail).toBe('ok');
      expect(ok.left).toEqual(['x']);
      for (const [what, bytes, chunk] of forgeries(env)) {
        const { r, left } = await viaFile(bytes);
        expect([what, r.status, r.chunk, r.offset]).toEqual([what, 'corrupt', chunk, chunkOffset(chunk, C)]);
        expect(left, what).toEqual([]);
      }
      expect(plain.length).toBe(SIZES[name as keyof typeof SIZES]);
    }, 60_000);

    for (const workers of [true, false]) {
      it(`stream, ${name}, ${workers ? 'worker threads' : 'calling thread'}: a verified prefix at most; every forgery corrupt at the right chunk`, async () => {
        const ctx = workers ? run : { ...run, pool: null };
        const { plain, env } = sealed.get(`${suite}-${name}`)!;
        const copy = Buffer.from(env);
        const ok = await viaStream(env, ctx);
        expect(ok.status).toBe('ok');
        expect(ok.out.equals(plain)).toBe(true);
        expect(env.equals(copy), 'the stream\'s own buffers are never written').toBe(true);
        for (const [what, bytes, chunk] of forgeries(env)) {
          const r = await viaStream(bytes, ctx);
          expect([what, r.status, r.chunk]).toEqual([what, 'corrupt', chunk]);
          // whatever came out is whole chunks of the true plaintext, from its start, before the bad one
          expect(r.out.length % C, what).toBe(0);
          expect(r.out.length, what).toBeLessThanOrEqual(chunk * C);
          expect(r.out.equals(plain.subarray(0, r.out.length)), what).toBe(true);
        }
      }, 60_000);
    }
  }
});

describe('the worker job, in process', () => {
  const key = randomBytes(32);
  const job = (op: 'open' | 'seal', buf: Uint8Array, first: number, final: number, plainLength = 0) =>
    runJob({ id: 1, op, suite: 1, key, buf: buf.buffer as ArrayBuffer, offset: buf.byteOffset, length: buf.byteLength, first, final, chunkSize: 4096, plainLength });

  it('seals and opens a block in place; a wrong final flag or counter is -1 - the failing chunk, and nothing is left in the block', () => {
    const plain = randomBytes(3 * 4096 - 5);
    const lay = (): Uint8Array => {
      const b = new Uint8Array(plain.length + 3 * 16);
      for (let j = 0; j < 3; j++) b.set(plain.subarray(j * 4096, (j + 1) * 4096), j * 4112);
      return b;
    };
    const block = lay();
    expect(job('seal', block, 7, 9, plain.length)).toBe(plain.length + 48);
    const sealedBlock = Uint8Array.from(block);
    expect(job('open', block, 7, 9)).toBe(plain.length);
    expect(Buffer.from(block.subarray(0, plain.length)).equals(plain)).toBe(true);
    for (const [first, final, bad] of [[7, -1, 9], [7, 8, 8], [8, 10, 8], [6, 8, 6]] as const) {
      const b = Uint8Array.from(sealedBlock);
      expect([first, final, job('open', b, first, final)]).toEqual([first, final, -1 - bad]);
      expect(b.subarray(0, (bad - first) * 4096).every((x) => x === 0)).toBe(true);
    }
  });

  it('seals with the key and suite of each job (the AEAD kept from the last job is not reused for another key or suite)', () => {
    const plain = randomBytes(100);
    const sealedBy = (suite: 1 | 2, k: Uint8Array): string => {
      const b = new Uint8Array(116);
      b.set(plain);
      runJob({ id: 1, op: 'seal', suite, key: k, buf: b.buffer as ArrayBuffer, offset: 0, length: 116, first: 0, final: 0, chunkSize: 4096, plainLength: 100 });
      return Buffer.from(b).toString('hex');
    };
    const other = randomBytes(32);
    const want = (suite: 1 | 2, k: Uint8Array): string => {
      const out = new Uint8Array(116);
      backend.aead(suite, k).sealInto(new Uint8Array(12).fill(0).map((_, i) => (i === 11 ? 1 : 0)), plain, out);
      return Buffer.from(out).toString('hex');
    };
    for (const [suite, k] of [[1, key], [1, other], [2, other], [2, key], [1, key]] as const) expect(sealedBy(suite, k)).toBe(want(suite, k));
  });

  it('answer(): the reply names the job and brings its block back, with the result or the error', () => {
    const buf = new ArrayBuffer(4112 + 16);
    const ok = answer({ id: 41, op: 'seal', suite: 2, key, buf, offset: 0, length: 4112, first: 0, final: 0, chunkSize: 4096, plainLength: 4096 });
    expect(ok).toEqual({ id: 41, buf, result: 4112 });
    const bad = answer({ id: 42, op: 'open', suite: 1, key: new Uint8Array(7), buf, offset: 0, length: 4112, first: 0, final: 0, chunkSize: 4096, plainLength: 0 });
    expect(bad.id).toBe(42);
    expect(bad.buf).toBe(buf);
    expect(bad.result).toBe(0);
    expect(bad.error).toMatch(/key/i);
  });
});
