// Envelopes large enough for the overlapped path (several read blocks, the content digest on
// the hash worker thread): round trip, a damaged trailer digest (decrypt ok with a warning,
// verify corrupt), a damaged chunk deep inside (corrupt, right chunk and offset, nothing left),
// and several large files at once sharing the one hash worker.

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { chunkOffset } from '../src/format/layout.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { decryptFile, encryptFile, verifyFile } from '../src/engine/files.js';
import { INLINE_MAX } from '../src/engine/pipeline.js';
import { InputFile } from '../src/fsops/input.js';

/** Well past the inline threshold: the payload goes through the worker threads in several blocks. */
const OFF_THREAD_MIN = 8 * INLINE_MAX;
import { tempDir } from './helpers/cli.js';

const node = getBackend('node');
const tmp = tempDir('aenv-large-');
afterAll(() => tmp.cleanup());
const PW = 'large files';
const plain = randomBytes(OFF_THREAD_MIN * 2 + 12345); // 16 MiB and a bit: four read blocks
let env: Buffer;
let keys: KeyCache;

beforeAll(async () => {
  keys = new KeyCache(node, passwordBytes(PW));
  const salt = randomBytes(32);
  const params = DEFAULT_PARAMS[KDF_PBKDF2];
  const { header, encoder } = newEncoder(newContext(node, null), { suite: 1, chunkLog2: 16, params, salt, master: await keys.master(params, salt) });
  env = Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]);
}, 30_000);

function put(name: string, bytes: Buffer): string {
  const p = path.join(tmp.dir, name);
  writeFileSync(p, bytes);
  return p;
}

const opts = { force: false, skipExisting: false, removeSource: false };
const decrypt = (src: string, ctx = newContext(node, keys)) =>
  decryptFile(src, { base: tmp.dir, relDir: '', output: src.replace(/\.aspera-env$/, '') }, opts, ctx);

describe.each(['node', 'noble'] as const)('large envelopes on the %s backend', (name) => {
  const ctx = () => newContext(getBackend(name), name === 'node' ? keys : new KeyCache(getBackend(name), passwordBytes(PW)));

  it('round trip', async () => {
    const r = await decrypt(put(`${name}-ok.aspera-env`, env), ctx());
    expect(r.status, r.detail).toBe('ok');
    expect(r.warning).toBeUndefined();
    expect(readFileSync(path.join(tmp.dir, `${name}-ok`)).equals(plain)).toBe(true);
  }, 60_000);

  it('a damaged trailer digest: decrypt (--check-digest) keeps the authentic plaintext with a warning, verify says corrupt', async () => {
    const bad = Buffer.from(env);
    bad[bad.length - 1]! ^= 1;
    const src = put(`${name}-digest.aspera-env`, bad);
    const always = ctx();
    always.checkDigest = 'always'; // as --check-digest: a large file's digest is otherwise checked only with a core to spare
    const r = await decrypt(src, always);
    expect(r.status).toBe('ok');
    expect(r.warning).toMatch(/digest/);
    expect(readFileSync(path.join(tmp.dir, `${name}-digest`)).equals(plain)).toBe(true);
    expect((await verifyFile(src, ctx())).status).toBe('corrupt');
    expect((await verifyFile(src, newContext(getBackend(name), null))).status).toBe('corrupt');
  }, 60_000);

  it('without --check-digest a large file\'s digest is checked only when a core is spare, and the row says so', async () => {
    const bad = Buffer.from(env);
    bad[bad.length - 1]! ^= 1;
    const src = put(`${name}-digest2.aspera-env`, bad);
    const c = ctx();
    const spare = c.cores >= (c.pool?.usable ? c.pool.size : 0) + 2;
    const r = await decrypt(src, c);
    expect(r.status).toBe('ok');
    expect(readFileSync(path.join(tmp.dir, `${name}-digest2`)).equals(plain)).toBe(true);
    if (spare) {
      expect(r.warning).toMatch(/digest/);
    } else {
      expect(r.warning).toBeUndefined();
      expect(r.detail).toMatch(/content digest not checked: every chunk authenticated; verify checks it/);
    }
    for (const cores of [2, 64]) { // the rule itself, whatever this machine has
      const d = ctx();
      d.cores = cores;
      const r2 = await decrypt(put(`${name}-digest-${cores}.aspera-env`, bad), d);
      const checked = cores >= (d.pool?.usable ? d.pool.size : 0) + 2;
      expect([cores, Boolean(r2.warning)]).toEqual([cores, checked]);
    }
  }, 60_000);

  it('a damaged chunk deep inside: corrupt, naming the chunk and its offset, nothing left', async () => {
    const bad = Buffer.from(env);
    const at = chunkOffset(200, 65536) + 77;
    bad[at]! ^= 0x40;
    const r = await decrypt(put(`${name}-chunk.aspera-env`, bad), ctx());
    expect(r.status).toBe('corrupt');
    expect(r.chunk).toBe(200);
    expect(r.offset).toBe(chunkOffset(200, 65536));
    expect(readdirSync(tmp.dir).filter((n) => n === `${name}-chunk` || n.endsWith('.partial'))).toEqual([]);
  }, 60_000);
});

it('four large files at once share the hash worker and all come out right', async () => {
  const srcs = [0, 1, 2, 3].map((k) => put(`par${k}.aspera-env`, env));
  const ctx = newContext(node, keys);
  const rs = await Promise.all(srcs.map((s) => decrypt(s, ctx)));
  for (const [k, r] of rs.entries()) {
    expect(r.status, r.detail).toBe('ok');
    expect(readFileSync(path.join(tmp.dir, `par${k}`)).equals(plain)).toBe(true);
  }
}, 60_000);

it('encrypt with 4 KiB chunks (255 per read block, 256 in a file read whole): every chunk lands in its place', async () => {
  const big = randomBytes(OFF_THREAD_MIN + 4096 * 3 + 17); // several read blocks, a short last chunk
  const small = randomBytes(INLINE_MAX - 5); // read whole: 256 chunks
  for (const [name, bytes] of [['iov-big', big], ['iov-small', small]] as const) {
    const src = put(name, bytes);
    const ctx = newContext(node, keys);
    const params = DEFAULT_PARAMS[KDF_PBKDF2];
    const salt = randomBytes(32);
    const sealing = { suite: 1 as const, chunkLog2: 12, params, salt, master: await keys.master(params, salt) };
    const e = await encryptFile(src, { base: tmp.dir, relDir: '', output: `${src}.aspera-env` }, opts, ctx, sealing);
    expect(e.status, e.detail).toBe('ok');
    const sealed = readFileSync(`${src}.aspera-env`);
    const chunks = Math.ceil(bytes.length / 4096);
    expect(sealed.length).toBe(128 + bytes.length + 16 * chunks + 40);
    const out = path.join(tmp.dir, `${name}.out`);
    const d = await decryptFile(`${src}.aspera-env`, { base: tmp.dir, relDir: '', output: out }, opts, newContext(node, keys));
    expect(d.status, d.detail).toBe('ok');
    expect(readFileSync(out).equals(bytes)).toBe(true);
    expect((await verifyFile(`${src}.aspera-env`, newContext(getBackend('noble'), null))).status).toBe('ok');
  }
}, 60_000);

it('a scattered read of more places than one system call takes (IOV_MAX 1024) fills them all, and a file that ends early is an error', async () => {
  const bytes = randomBytes(9000);
  const src = InputFile.open(put('iov-raw', bytes));
  try {
    const sizes = Array.from({ length: 2500 }, (_, i) => 1 + (i % 5)); // 7,500 bytes in 2,500 places
    const views = sizes.map((n) => new Uint8Array(n));
    await src.readvExactly(views, 100);
    expect(Buffer.concat(views).equals(bytes.subarray(100, 7600))).toBe(true);
    const again = sizes.map((n) => new Uint8Array(n));
    src.readvExactlySync(again, 1500);
    expect(Buffer.concat(again).equals(bytes.subarray(1500, 9000))).toBe(true);
    await expect(src.readvExactly(sizes.map((n) => new Uint8Array(n)), 1501)).rejects.toThrow(/shrank/);
    expect(() => src.readvExactlySync(sizes.map((n) => new Uint8Array(n)), 1501)).toThrow(/shrank/);
  } finally {
    src.close();
  }
});
