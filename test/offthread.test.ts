// The worker-thread path (node backend, payloads past INLINE_MAX): both suites round trip,
// and a failed chunk is reported exactly as on the main-thread path (noble backend), whether
// it is the first chunk, one in the middle of a read block, or the last chunk.

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { chunkOffset } from '../src/format/layout.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { decryptFile } from '../src/engine/files.js';
import { INLINE_MAX } from '../src/engine/pipeline.js';
import { IDLE_MS } from '../src/stream/pool.js';

/** Well past the inline threshold: the payload goes through the worker threads in several blocks. */
const OFF_THREAD_MIN = 8 * INLINE_MAX;
import { tempDir } from './helpers/cli.js';

const node = getBackend('node');
const tmp = tempDir('aenv-offthread-');
afterAll(() => tmp.cleanup());
const PW = 'off thread';
const plain = randomBytes(OFF_THREAD_MIN + 3 * 65536 + 999);
const opts = { force: false, skipExisting: false, removeSource: false };

async function seal(suite: 1 | 2, keys: KeyCache): Promise<Buffer> {
  const salt = randomBytes(32);
  const params = DEFAULT_PARAMS[KDF_PBKDF2];
  const { header, encoder } = newEncoder(newContext(node, null), { suite, chunkLog2: 16, params, salt, master: await keys.master(params, salt) });
  return Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]);
}

describe.each([1, 2] as const)('suite %i', (suite) => {
  it('round trip, and damaged chunks reported as on the main thread', async () => {
    const keys = new KeyCache(node, passwordBytes(PW));
    const env = await seal(suite, keys);
    const n = Math.ceil(plain.length / 65536);
    const run = async (name: string, bytes: Buffer, backend: 'node' | 'noble') => {
      const src = path.join(tmp.dir, `${suite}-${name}-${backend}.aspera-env`);
      writeFileSync(src, bytes);
      const ctx = newContext(getBackend(backend), backend === 'node' ? keys : new KeyCache(getBackend(backend), passwordBytes(PW)));
      return decryptFile(src, { base: tmp.dir, relDir: '', output: src.replace(/\.aspera-env$/, '') }, opts, ctx);
    };
    const ok = await run('ok', env, 'node');
    expect(ok.status, ok.detail).toBe('ok');
    expect(readFileSync(path.join(tmp.dir, `${suite}-ok-node`)).equals(plain)).toBe(true);
    for (const i of [0, 70, n - 1]) {
      const bad = Buffer.from(env);
      bad[chunkOffset(i, 65536) + 5]! ^= 1;
      const a = await run(`c${i}`, bad, 'node');
      const b = await run(`c${i}`, bad, 'noble');
      expect(a.status).toBe('corrupt');
      expect(a.chunk).toBe(i);
      expect(a.offset).toBe(chunkOffset(i, 65536));
      expect([a.status, a.chunk, a.offset, a.detail]).toEqual([b.status, b.chunk, b.offset, b.detail]);
    }
    expect(readdirSync(tmp.dir).filter((x) => !x.endsWith('.aspera-env') && !x.endsWith('-ok-node'))).toEqual([]);
  }, 60_000);
});

it('the worker module answers jobs only in a thread the pool started: imported in another worker thread it leaves that thread\'s port alone', async () => {
  // Found by the mutation run: vitest's thread pool imports worker.ts (to call runChunkJob) in its own
  // worker thread, and the module answered the test runner's messages with DataCloneError.
  const module = new URL('../dist/js/stream/worker.js', import.meta.url).href;
  const host = path.join(tmp.dir, 'host.mjs');
  writeFileSync(host, `import { parentPort } from 'node:worker_threads';
await import(${JSON.stringify(module)});
parentPort.on('message', (m) => parentPort.postMessage({ echo: m }));
parentPort.postMessage('ready');\n`);
  const w = new Worker(host);
  const errors: unknown[] = [];
  const replies: unknown[] = [];
  w.on('error', (e) => errors.push(e));
  w.on('message', (m) => replies.push(m));
  try {
    while (!replies.includes('ready')) await once(w, 'message');
    w.postMessage({ id: 1, hello: 'not a job' });
    while (replies.length < 2 && errors.length === 0) await Promise.race([once(w, 'message'), once(w, 'error')]);
    await new Promise((r) => setTimeout(r, 50)); // a second reply, or an error, would land by now
    expect(errors).toEqual([]);
    expect(replies).toEqual(['ready', { echo: { id: 1, hello: 'not a job' } }]);
  } finally {
    await w.terminate();
  }
});

it('an idle worker stops after IDLE_MS, and the pool starts another for the next large file', async () => {
  const keys = new KeyCache(node, passwordBytes(PW));
  const salt = randomBytes(32);
  const params = DEFAULT_PARAMS[KDF_PBKDF2];
  const plain = randomBytes(OFF_THREAD_MIN + 99);
  const { header, encoder } = newEncoder(newContext(node, null), { suite: 2, chunkLog2: 16, params, salt, master: await keys.master(params, salt) });
  const src = path.join(tmp.dir, 'idle.aspera-env');
  writeFileSync(src, Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]));
  const ctx = newContext(node, keys, () => {}, 1);
  const pool = ctx.pool!;
  pool.warm();
  expect(pool.running).toBe(1);
  const deadline = Date.now() + IDLE_MS + 3000;
  while (pool.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(pool.running).toBe(0);
  expect(pool.usable).toBe(true); // stopping on purpose is not a failure
  for (const k of [1, 2]) {
    const r = await decryptFile(src, { base: tmp.dir, relDir: '', output: path.join(tmp.dir, `idle-${k}`) }, { force: false, skipExisting: false, removeSource: false }, ctx);
    expect(r.status, r.detail).toBe('ok');
    expect(readFileSync(path.join(tmp.dir, `idle-${k}`)).equals(plain)).toBe(true);
  }
  expect(pool.running).toBe(1);
  await pool.close();
  expect(pool.running).toBe(0);
}, 30_000);
