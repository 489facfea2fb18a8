// Header forgeries that pass every unkeyed check: a forger without the password changes the
// header (each of the 32 header_mac bytes in turn, each file_nonce byte, the suite, the chunk
// size), recomputes header_check and the trailer's content digest, and so gets past steps 1-5,
// 7-9. Only the keyed check of step 6 (header_mac, compared over all 32 bytes) can stop it:
// decrypt, keyed verify and the stream decoder all say wrong-password and write nothing, while
// passwordless verify, which cannot tell, says ok (docs/FORMAT.md "Trailer": the digest proves nothing against
// a forger). Both suites. The controls: the untouched envelope opens, so the keyed check is
// reached and is what rejects the forgeries.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { newContext, type RunContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { decryptFile, verifyFile } from '../src/engine/files.js';
import { PASSWORD, tempDir } from './helpers/cli.js';
import { decryptPieces } from './helpers/stream.js';

const backend = getBackend('node');
const PARAMS = { kdf: 3, p1: 100_000, p2: 0, p3: 0 } as const; // the cheapest KDF the format allows
const tmp = tempDir('aenv-forgery-');
afterAll(() => tmp.cleanup());
let ctx: RunContext;
const plain = randomBytes(2 * 4096 + 777); // three chunks of 4 KiB
const sealed = new Map<number, Buffer>();

beforeAll(async () => {
  ctx = newContext(backend, new KeyCache(backend, passwordBytes(PASSWORD)));
  const salt = new Uint8Array(32).fill(5);
  for (const suite of [1, 2] as const) {
    const { header, encoder } = newEncoder(ctx, { suite, chunkLog2: 12, params: PARAMS, salt, master: await ctx.keys!.master(PARAMS, salt) });
    sealed.set(suite, Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]));
  }
});

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** The forger's touch-up: header_check over the first 120 bytes, content digest over all before the trailer. */
function consistent(b: Buffer): Buffer {
  sha256(b.subarray(0, 120)).copy(b, 120, 0, 8);
  sha256(b.subarray(0, b.length - 40)).copy(b, b.length - 32);
  return b;
}

let n = 0;
/** Every mode's status for `bytes`, and what decrypt left in its folder. */
async function judge(bytes: Buffer) {
  const dir = path.join(tmp.dir, `f${n++}`);
  mkdirSync(dir);
  const src = path.join(dir, 'x.bin.aspera-env');
  writeFileSync(src, bytes);
  const out = path.join(dir, 'x.bin');
  const d = await decryptFile(src, { base: dir, relDir: '', output: out }, { force: false, skipExisting: false, removeSource: false }, ctx);
  const keyed = await verifyFile(src, ctx);
  const nopw = await verifyFile(src, { ...ctx, keys: null });
  const s = await decryptPieces([bytes], ctx);
  const stream = s.error ? s.error.status ?? String(s.error) : 'ok';
  return {
    statuses: { decrypt: d.status, keyed: keyed.status, nopw: nopw.status, stream },
    left: readdirSync(dir).filter((f) => f !== 'x.bin.aspera-env'),
    decrypted: existsSync(out),
    streamed: s.out.length,
  };
}

const FORGED = { decrypt: 'wrong-password', keyed: 'wrong-password', nopw: 'ok', stream: 'wrong-password' };

describe.each([1, 2] as const)('suite %i', (suite) => {
  it('control: the untouched envelope, and one only touched up, open in every mode', async () => {
    for (const bytes of [Buffer.from(sealed.get(suite)!), consistent(Buffer.from(sealed.get(suite)!))]) {
      const r = await judge(bytes);
      expect(r.statuses).toEqual({ decrypt: 'ok', keyed: 'ok', nopw: 'ok', stream: 'ok' });
      expect(r.streamed).toBe(plain.length);
    }
  });

  it.each(Array.from({ length: 32 }, (_, i) => i))('header_mac byte %i flipped, the rest made consistent: wrong-password', async (i) => {
    const bytes = consistent(Buffer.from(sealed.get(suite)!));
    bytes[88 + i]! ^= 0x01; // the lowest bit: the smallest change a comparison can miss
    const r = await judge(consistent(bytes));
    expect(r.statuses).toEqual(FORGED);
    expect(r.left).toEqual([]);
    expect(r.streamed).toBe(0);
  });

  it('every header_mac byte replaced by any other value (each bit, and its complement): wrong-password', async () => {
    for (const i of [0, 15, 16, 31]) {
      for (const x of [0x80, 0xff]) {
        const bytes = Buffer.from(sealed.get(suite)!);
        bytes[88 + i]! ^= x;
        expect((await judge(consistent(bytes))).statuses, `byte ${i} ^ ${x}`).toEqual(FORGED);
      }
    }
  });

  it.each([0, 1, 15, 16, 30, 31])('file_nonce byte %i flipped (other keys derived), made consistent: wrong-password', async (i) => {
    const bytes = Buffer.from(sealed.get(suite)!);
    bytes[56 + i]! ^= 0x01;
    const r = await judge(consistent(bytes));
    expect(r.statuses).toEqual(FORGED);
    expect(r.left).toEqual([]);
  });

  it('the other suite, or another chunk size, made consistent: wrong-password', async () => {
    const other = Buffer.from(sealed.get(suite)!);
    other[9] = suite === 1 ? 2 : 1;
    expect((await judge(consistent(other))).statuses).toEqual(FORGED);
    const bigger = Buffer.from(sealed.get(suite)!);
    bigger[11] = 13;
    expect((await judge(consistent(bigger))).statuses).toEqual(FORGED);
  });

  it('a forged header on a payload of impossible length: step 6 comes before step 7', async () => {
    // The last chunk cut inside its tag (L mod B = 8), the trailer rebuilt: without a password
    // that is corrupt (step 7); with one, the forged header is found first (wrong-password).
    const env = sealed.get(suite)!;
    const body = Buffer.from(env.subarray(0, env.length - 40 - (777 + 16 - 8)));
    body[88]! ^= 0x01;
    const bytes = consistent(Buffer.concat([body, Buffer.from('AENVEND\n'), Buffer.alloc(32)]));
    expect((bytes.length - 168) % (4096 + 16)).toBe(8);
    expect((await judge(bytes)).statuses).toEqual({ ...FORGED, nopw: 'corrupt' });
  });
});
