// `aenv selftest`: proves on the machine at hand, with no network and no other file, that this
// build and this platform's crypto open and seal AENV/1 correctly: known answers from an
// independent implementation (vectors.ts: both suites, all three KDFs), the decoder's refusals
// (a damaged header, a wrong password, a damaged chunk), sealing and opening round trips through
// the worker threads, and the pure-JS backend agreeing with the default one. Every file it
// writes lives in a private temporary folder (mode 0700) that is removed at the end.

import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadBackend, type Backend } from '../crypto/load.js';
import { KeyCache, passwordBytes } from '../crypto/keys.js';
import { KDF_PBKDF2, type SuiteId } from '../format/constants.js';
import { parseHeader } from '../format/header.js';
import { newContext, type RunContext } from '../engine/context.js';
import type { Sealing } from '../engine/aenv.js';
import { decryptFile, encryptFile, verifyFile } from '../engine/files.js';
import { KNOWN_ANSWERS, VECTOR_PASSWORD, type KnownAnswer } from './vectors.js';

export interface SelftestCheck {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const WRITE = { force: false, skipExisting: false, removeSource: false };

class Failed extends Error {}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Failed(what);
}

/** Runs every check; `progress` gets each result as it is known. */
export async function selftest(progress: (c: SelftestCheck) => void = () => {}): Promise<SelftestCheck[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aenv-selftest-'));
  chmodSync(dir, 0o700);
  const node = await loadBackend('node');
  const runs: RunContext[] = [];
  const run = (backend: Backend, password: string): RunContext => {
    const r = newContext(backend, new KeyCache(backend, passwordBytes(password)));
    runs.push(r);
    return r;
  };
  const put = (name: string, bytes: Uint8Array): string => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes, { mode: 0o600 });
    return p;
  };
  const target = (src: string) => ({ base: dir, relDir: '', output: src.replace(/\.aspera-env$/, ''), within: null, baseId: null });
  const results: SelftestCheck[] = [];
  const check = async (name: string, body: () => Promise<string>): Promise<void> => {
    const t0 = performance.now();
    let c: SelftestCheck;
    try {
      c = { name, ok: true, ms: 0, detail: await body() };
    } catch (e) {
      c = { name, ok: false, ms: 0, detail: e instanceof Failed ? e.message : `unexpected: ${(e as Error)?.message ?? String(e)}` };
    }
    c.ms = performance.now() - t0;
    results.push(c);
    progress(c);
  };
  const envelope = (k: KnownAnswer): Buffer => Buffer.from(k.envelope, 'base64');
  const vectorRun = run(node, VECTOR_PASSWORD); // one key cache: each vector's KDF runs once
  const tripRun = run(node, 'selftest round trip'); // one worker pool for both round trips

  try {
    for (const k of KNOWN_ANSWERS) {
      await check(`known answer: ${k.what} (${k.file.replace(/\.aspera-env$/, '')})`, async () => {
        const src = put(k.file, envelope(k));
        const r = vectorRun;
        const h = parseHeader(envelope(k), envelope(k).length);
        expect(hex(await r.keys!.master(h.params, h.salt)) === k.master, 'the KDF gives another master key than the independent implementation');
        const res = await decryptFile(src, target(src), WRITE, r);
        expect(res.status === 'ok', `decrypt: ${res.status}: ${res.detail}`);
        const plain = readFileSync(target(src).output);
        expect(plain.length === k.plaintextLength && sha256(plain) === k.plaintextSha256, 'the plaintext differs from the known answer');
        return `master key and plaintext as expected (${plain.length} bytes)`;
      });
    }
    const [scrypt, argon, pbkdf] = KNOWN_ANSWERS as [KnownAnswer, KnownAnswer, KnownAnswer];
    await check('a damaged header is corrupt (header_check, no key needed)', async () => {
      const bad = envelope(scrypt);
      bad[10]! ^= 0x01;
      const res = await verifyFile(put('damaged-header.aspera-env', bad), newContext(node, null));
      expect(res.status === 'corrupt' && /header_check/.test(res.detail), `got ${res.status}: ${res.detail}`);
      return res.detail;
    });
    await check('a wrong password is wrong-password (header MAC)', async () => {
      const src = put('wrong-password.aspera-env', envelope(pbkdf));
      const res = await decryptFile(src, target(src), WRITE, run(node, 'not the password'));
      expect(res.status === 'wrong-password', `got ${res.status}: ${res.detail}`);
      return 'refused before any plaintext';
    });
    await check('a damaged chunk is corrupt and leaves no output', async () => {
      const bad = envelope(argon);
      bad[128 + 5]! ^= 0x01;
      const src = put('damaged-chunk.aspera-env', bad);
      const res = await decryptFile(src, target(src), WRITE, vectorRun);
      expect(res.status === 'corrupt' && res.chunk === 0, `got ${res.status}: ${res.detail}`);
      expect(!readdirSync(dir).some((n) => n === 'damaged-chunk' || n.endsWith('.partial')), 'something was left behind');
      return res.detail;
    });
    for (const [suite, name] of [[1, 'AES-256-GCM'], [2, 'ChaCha20-Poly1305']] as const) {
      await check(`round trip, ${name}, 3 MiB through the worker threads`, async () => {
        const plain = randomBytes(3 * 1024 * 1024 + 123);
        const src = put(`plain-${suite}`, plain);
        const r = tripRun;
        const sealing = await cheapSealing(r, suite);
        const enc = await encryptFile(src, { base: dir, relDir: '', output: `${src}.aspera-env`, within: null, baseId: null }, WRITE, r, sealing);
        expect(enc.status === 'ok', `encrypt: ${enc.status}: ${enc.detail}`);
        rmSync(src);
        const dec = await decryptFile(`${src}.aspera-env`, target(`${src}.aspera-env`), WRITE, r);
        expect(dec.status === 'ok', `decrypt: ${dec.status}: ${dec.detail}`);
        expect(readFileSync(src).equals(plain), 'the round trip changed the bytes');
        return `${enc.detail}; opened again`;
      });
    }
    await check('the pure-JS backend (@noble) agrees with OpenSSL', async () => {
      const noble = await loadBackend('noble');
      const k = pbkdf;
      const src = put(`noble-${k.file}`, envelope(k));
      const res = await decryptFile(src, target(src), WRITE, run(noble, VECTOR_PASSWORD));
      expect(res.status === 'ok', `decrypt: ${res.status}: ${res.detail}`);
      expect(sha256(readFileSync(target(src).output)) === k.plaintextSha256, 'the plaintext differs from the known answer');
      return 'the PBKDF2 and AES-256-GCM vector opens the same';
    });
  } finally {
    await Promise.all(runs.map((r) => r.pool?.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** An encrypt run's sealing at the format's cheapest PBKDF2 cost (the checks are about the cipher, not the KDF). */
async function cheapSealing(r: RunContext, suite: SuiteId): Promise<Sealing> {
  const params = { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 } as const;
  const salt = randomBytes(32);
  return { suite, chunkLog2: 16, params, salt, master: await r.keys!.master(params, salt) };
}
