// Interop with an independent implementation of AENV/1: test/interop/aenv_ref.py, a small Python
// encoder/decoder written from the AENV/1 specification alone (docs/FORMAT.md; on Python's
// `cryptography` and argon2-cffi), so that
// a bug aenv shares with its own vectors or tests is unlikely to be shared with it too.
//  (a) the reference gives every vector of test/vectors its expected statuses, plaintext and keys;
//  (b) envelopes `aenv encrypt` makes (both suites x chunk sizes 4 KiB, 64 KiB, 1 MiB x plaintext
//      sizes 0, 1, C-1, C, C+1, 3C+5 under PBKDF2, and both suites under scrypt and Argon2id at
//      one chunk size each) open in the reference with the same bytes, and their headers carry
//      what was asked, the default KDF costs of docs/FORMAT.md and a fresh file_nonce per file;
//  (c) envelopes the reference makes over the full matrix (both suites x three KDFs x the three
//      chunk sizes x the six plaintext sizes, non-default in-limit KDF parameters, p > 1
//      included) decrypt, verify with a password and verify without one in aenv;
//  (d) damaged reference-made envelopes get the same status from both, in all three modes, and a
//      failed aenv decrypt leaves nothing behind;
//  (e) a password typed in NFD opens what was sealed with its NFC form, both ways.
// One KDF derivation per run and batch wherever the CLI allows it. Skipped with a reason when the
// interpreter (AENV_PYTHON, else /usr/bin/python3) lacks `cryptography` or an Argon2id; CI
// (.ci/run) installs both and fails on that skip.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenvAsync, jsonLines, passwordFile, ROOT, tempDir, VECTORS } from './helpers/cli.js';

// The interpreter is fixed, not whichever python3 comes first on PATH (a developer's pyenv
// shim, say), so that what CI tests does not depend on the machine: AENV_PYTHON when set (.ci/run
// sets it), else Debian's /usr/bin/python3. This workplace cannot reach PyPI, so CI uses Debian's
// python3-cryptography (38: AES-GCM, ChaCha20-Poly1305, HKDF) and python3-argon2 (argon2-cffi,
// the Argon2 reference C code) for Argon2id; aenv_ref.py takes cryptography's own Argon2id when
// it is 44 or newer. Either way the reference shares no crypto code with aenv.
const PY = process.env['AENV_PYTHON'] || '/usr/bin/python3';
const REF = path.join(ROOT, 'test/interop/aenv_ref.py');

/** null when PY runs aenv_ref.py with every primitive it needs (Argon2id included), else why not. */
function probePython(): string | null {
  const r = spawnSync(PY, [REF, 'impl'], { encoding: 'utf8' });
  if (r.error) return `${PY} not runnable (${r.error.message})`;
  if (r.status === 1 && /"argon2id": null/.test(r.stdout)) {
    return `${PY}: no Argon2id (needs cryptography 44+ or argon2-cffi, Debian python3-argon2)`;
  }
  if (r.status !== 0) return `${PY} ${path.relative(ROOT, REF)} impl failed: ${r.stderr.trim().split('\n').pop()}`;
  console.info(`interop reference: ${r.stdout.trim()}`);
  return null;
}
const skipReason = probePython();
const TITLE = skipReason === null
  ? 'interop with an independent Python AENV/1 implementation'
  : `interop with an independent Python AENV/1 implementation (skipped: ${skipReason})`;

const SUITES = [
  { name: 'aes-256-gcm', id: 1 },
  { name: 'chacha20-poly1305', id: 2 },
] as const;
const KDFS = [
  { name: 'scrypt', id: 1, defaults: [17, 8, 1] },
  { name: 'argon2id', id: 2, defaults: [65536, 3, 1] },
  { name: 'pbkdf2', id: 3, defaults: [600000, 0, 0] },
] as const;
const CHUNKS = [4096, 65536, 1 << 20];
const sizesFor = (c: number): number[] => [0, 1, c - 1, c, c + 1, 3 * c + 5];
const COMBOS = SUITES.flatMap((s) => KDFS.map((k) => ({ suite: s, kdf: k, tag: `s${s.id}/${k.name}` })));
// aenv encrypt takes one chunk size per run and derives a fresh salt (one KDF derivation) per
// run, so (b) runs every suite x chunk size under the cheap PBKDF2 and scrypt / Argon2id (each
// ~1 s per derivation and per implementation) once per suite, at different chunk sizes.
const B_CHUNKS: Record<string, number[]> = {
  's1/scrypt': [65536], 's2/scrypt': [1 << 20], 's1/argon2id': [1 << 20], 's2/argon2id': [4096],
  's1/pbkdf2': CHUNKS, 's2/pbkdf2': CHUNKS,
};
/** plain/c<C>/n<size>.bin for an output path ending in c<C>/n<size>.bin */
const plainOf = (rel: string): string => rel.split(path.sep).slice(-2).join(path.sep);
const B_RUNS = COMBOS.flatMap((c) => B_CHUNKS[c.tag]!.map((chunk) => ({ ...c, chunk })));

const TIMEOUT = 240_000; // generous: other suites may share the CPUs
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------- child processes, two at a time

interface Run { code: number | null; stdout: string; stderr: string }

const LIMIT = 2;
let active = 0;
const waiting: (() => void)[] = [];
async function limited<T>(f: () => Promise<T>): Promise<T> {
  while (active >= LIMIT) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await f();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

function collect(child: ReturnType<typeof spawn>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({
      code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
    }));
    child.stdin?.end();
  });
}

const runAenv = (args: string[]): Promise<Run> => limited(() => collect(aenvAsync(args)));
const runPy = (args: string[]): Promise<Run> =>
  limited(() => collect(spawn(PY, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })));
const runRef = (args: string[]): Promise<Run> => runPy([REF, ...args]);

function parse(r: Run): Record<string, unknown>[] {
  try {
    return jsonLines(r.stdout);
  } catch {
    throw new Error(`not JSON lines: ${r.stdout}\n${r.stderr}`);
  }
}
/** Per-file records keyed by path relative to `base`, without the summary line. */
function byFile(r: Run, key: 'path' | 'file', base: string): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>();
  for (const rec of parse(r)) {
    if (typeof rec[key] === 'string') m.set(path.relative(base, path.resolve(ROOT, rec[key] as string)), rec);
  }
  return m;
}
const why = (r: Run): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out.sort();
}

// ---------------------------------------------------------------- envelope surgery (node:crypto only)

const HEADER = 128;
const TRAILER = 40;
/** header_check recomputed over the first 120 bytes (a "consistent" damaged header). */
function fixCheck(b: Buffer): Buffer {
  createHash('sha256').update(b.subarray(0, 120)).digest().copy(b, 120, 0, 8);
  return b;
}
/** content_digest recomputed (a forger's trailer). */
function fixDigest(b: Buffer): Buffer {
  createHash('sha256').update(b.subarray(0, b.length - TRAILER)).digest().copy(b, b.length - 32);
  return b;
}
const flip = (b: Buffer, at: number): Buffer => { b[at]! ^= 0x01; return b; };

// ---------------------------------------------------------------- the tests

describe.skipIf(skipReason !== null)(TITLE, () => {
  // (a skipped describe is still collected: touch the disk only when it runs)
  const tmp = skipReason === null ? tempDir('aenv-interop-') : { dir: '/nonexistent', cleanup: () => undefined };
  const plain = path.join(tmp.dir, 'plain'); // plain/c<C>/n<size>.bin
  const pw = skipReason === null ? passwordFile(tmp.dir) : '/nonexistent';
  afterAll(() => tmp.cleanup());

  beforeAll(() => {
    for (const c of CHUNKS) {
      mkdirSync(path.join(plain, `c${c}`), { recursive: true });
      for (const n of sizesFor(c)) writeFileSync(path.join(plain, `c${c}`, `n${n}.bin`), randomBytes(n));
    }
  });

  it('(a) the reference gives every vector its expected statuses, plaintext and keys', async () => {
    const r = await runRef(['vectors', VECTORS]);
    const recs = parse(r);
    const vectorCount = (JSON.parse(readFileSync(path.join(VECTORS, 'vectors.json'), 'utf8')) as { vectors: unknown[] }).vectors.length;
    expect(recs.length).toBe(vectorCount);
    expect(recs.filter((x) => x['ok'] !== true)).toEqual([]);
    expect(r.code, why(r)).toBe(0);
  }, TIMEOUT);

  describe('(b) aenv encrypts, the reference decrypts', () => {
    const enc = path.join(tmp.dir, 'aenv-enc'); // aenv-enc/s<suite>/<kdf>/c<C>/n<size>.bin.aspera-env
    const dec = path.join(tmp.dir, 'ref-dec');
    const made = B_RUNS.flatMap(({ tag, chunk }) => sizesFor(chunk).map((n) => path.join(tag, `c${chunk}`, `n${n}.bin`)));

    it(`aenv encrypt: ${B_RUNS.length} runs (one derivation each), headers as asked, default costs, fresh nonces`, async () => {
      const runs = await Promise.all(B_RUNS.map(({ suite, kdf, tag, chunk }) => runAenv([
        'encrypt', path.join(plain, `c${chunk}`), '-o', path.join(enc, tag, `c${chunk}`), '--json',
        '--suite', suite.name, '--kdf', kdf.name, '--chunk-size', String(chunk), '--password-file', pw,
        // the smallest chunk size on the pure-JS backend, the others on OpenSSL
        '--backend', chunk === 4096 ? 'noble' : 'node',
      ])));
      for (const r of runs) expect(r.code, why(r)).toBe(0);
      const nonces = new Set<string>();
      for (const { suite, kdf, tag, chunk: c } of B_RUNS) {
        for (const n of sizesFor(c)) {
          const env = readFileSync(path.join(enc, tag, `c${c}`, `n${n}.bin.aspera-env`));
          const what = `${tag}/c${c}/n${n}`;
          expect(env.length, what).toBe(n + HEADER + 16 * Math.max(1, Math.ceil(n / c)) + TRAILER);
          expect([...env.subarray(8, 12)], what).toEqual([1, suite.id, kdf.id, Math.log2(c)]);
          expect([env.readUInt32LE(12), env.readUInt32LE(16), env.readUInt32LE(20)], what).toEqual([...kdf.defaults]);
          const nonce = env.subarray(56, 88).toString('hex');
          expect(nonces.has(nonce), `file_nonce reused: ${what}`).toBe(false);
          nonces.add(nonce);
        }
      }
    }, TIMEOUT);

    it('the reference decrypts every one (one run per suite) to the same bytes, no digest warning', async () => {
      const runs = await Promise.all(SUITES.map((s) => runRef(['decrypt', path.join(enc, `s${s.id}`), pw, path.join(dec, `s${s.id}`)])));
      const recs = new Map<string, Record<string, unknown>>();
      for (const r of runs) for (const [k, v] of byFile(r, 'file', enc)) recs.set(k, v);
      expect([...recs.values()].filter((x) => x['status'] !== 'ok' || x['digest_warning'] !== false)).toEqual([]);
      expect([...recs.keys()].sort()).toEqual(made.map((p) => `${p}.aspera-env`).sort());
      for (const r of runs) expect(r.code, why(r)).toBe(0);
      const bad = made.filter((p) => !readFileSync(path.join(dec, p)).equals(readFileSync(path.join(plain, plainOf(p)))));
      expect(bad).toEqual([]);
    }, TIMEOUT);
  });

  describe('(c) the reference encrypts, aenv decrypts and verifies', () => {
    const enc = path.join(tmp.dir, 'ref-enc'); // ref-enc/s<suite>/<kdf>/c<C>/n<size>.bin.aspera-env
    const dec = path.join(tmp.dir, 'aenv-dec');
    // Any in-limit parameters, not only the encoder defaults ((b) covers those): suite 1 at the
    // floors, suite 2 with p > 1 and an odd PBKDF2 count. Cheap, so each run derives quickly.
    const PARAMS: Record<number, Record<number, [number, number, number]>> = {
      1: { 1: [14, 8, 1], 2: [19456, 2, 1], 3: [100000, 0, 0] },
      2: { 1: [14, 8, 2], 2: [19456, 2, 2], 3: [123457, 0, 0] },
    };
    const GEN = `
import json, os, sys
sys.path.insert(0, ${JSON.stringify(path.dirname(REF))})
import aenv_ref as a
plain, out, pwfile, suite = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
params_by_kdf = {int(k): tuple(v) for k, v in json.loads(sys.argv[5]).items()}
names = {1: 'scrypt', 2: 'argon2id', 3: 'pbkdf2'}
pw = a.read_password_file(pwfile)
for kdf in (1, 2, 3):
    salt = os.urandom(32)  # one salt, so one derivation, per suite/kdf batch
    params = params_by_kdf[kdf]
    for cdir in sorted(os.listdir(plain)):
        log2 = int(cdir[1:]).bit_length() - 1
        od = os.path.join(out, 's%d' % suite, names[kdf], cdir)
        os.makedirs(od, exist_ok=True)
        for name in sorted(os.listdir(os.path.join(plain, cdir))):
            with open(os.path.join(plain, cdir, name), 'rb') as f:
                data = f.read()
            with open(os.path.join(od, name + '.aspera-env'), 'wb') as f:
                f.write(a.encode(data, pw, suite, kdf, log2, params=params, salt=salt))
`;
    const expected = COMBOS.flatMap(({ tag }) => CHUNKS.flatMap((c) => sizesFor(c).map((n) => path.join(tag, `c${c}`, `n${n}.bin`))));

    beforeAll(async () => {
      const runs = await Promise.all(SUITES.map((s) => runPy(['-c', GEN, plain, enc, pw, String(s.id), JSON.stringify(PARAMS[s.id])])));
      for (const r of runs) if (r.code !== 0) throw new Error(`reference encoder failed: ${why(r)}`);
    }, TIMEOUT);

    it('the reference wrote what the matrix asks, with the parameters asked', () => {
      expect(filesUnder(enc)).toEqual(expected.map((p) => `${p}.aspera-env`).sort());
      for (const { suite, kdf, tag } of COMBOS) {
        const env = readFileSync(path.join(enc, tag, 'c4096', 'n1.bin.aspera-env'));
        expect([...env.subarray(8, 12)]).toEqual([1, suite.id, kdf.id, 12]);
        expect([env.readUInt32LE(12), env.readUInt32LE(16), env.readUInt32LE(20)]).toEqual(PARAMS[suite.id]![kdf.id]);
      }
    });

    it('aenv decrypt (one run over every batch) gives the same bytes', async () => {
      const r = await runAenv(['decrypt', enc, '-o', dec, '--password-file', pw, '--json']);
      const recs = byFile(r, 'path', enc);
      expect([...recs.values()].filter((x) => x['status'] !== 'ok')).toEqual([]);
      expect(recs.size).toBe(expected.length);
      expect(r.code, why(r)).toBe(0);
      const bad = expected.filter((p) => {
        const got = readFileSync(path.join(dec, p));
        return !got.equals(readFileSync(path.join(plain, plainOf(p))));
      });
      expect(bad).toEqual([]);
    }, TIMEOUT);

    it('aenv verify with the password (pure-JS backend) says ok for every one', async () => {
      const r = await runAenv(['verify', enc, '--password-file', pw, '--json', '--backend', 'noble']);
      const recs = byFile(r, 'path', enc);
      expect([...recs.values()].filter((x) => x['status'] !== 'ok')).toEqual([]);
      expect(recs.size).toBe(expected.length);
      expect(r.code, why(r)).toBe(0);
    }, TIMEOUT);

    it('aenv verify without a password says ok for every one', async () => {
      const r = await runAenv(['verify', enc, '--json']);
      const recs = byFile(r, 'path', enc);
      expect([...recs.values()].filter((x) => x['status'] !== 'ok')).toEqual([]);
      expect(recs.size).toBe(expected.length);
      expect(r.code, why(r)).toBe(0);
    }, TIMEOUT);

    describe('(d) damaged reference-made envelopes get the same status from both', () => {
      const dmg = path.join(tmp.dir, 'damaged');
      const src = (n: number): Buffer =>
        readFileSync(path.join(enc, 's1', 'pbkdf2', 'c4096', `n${n}.bin.aspera-env`));
      const B = 4096 + 16;
      // name -> [decrypt, verify with password, verify without]
      const cases: Record<string, [string, string, string]> = {};

      beforeAll(async () => {
        mkdirSync(dmg, { recursive: true });
        const put = (name: string, b: Buffer, expect3: [string, string, string]) => {
          writeFileSync(path.join(dmg, `${name}.aspera-env`), b);
          cases[name] = expect3;
        };
        const full = src(3 * 4096 + 5); // chunks: 3 full + 5 bytes
        put('intact', Buffer.from(full), ['ok', 'ok', 'ok']);
        put('chunk1-flip', flip(Buffer.from(full), HEADER + B + 100), ['corrupt', 'corrupt', 'corrupt']);
        put('chunk1-flip-digest-forged', fixDigest(flip(Buffer.from(full), HEADER + B + 100)), ['corrupt', 'corrupt', 'ok']);
        put('last-tag-flip-digest-forged', fixDigest(flip(Buffer.from(full), full.length - TRAILER - 1)), ['corrupt', 'corrupt', 'ok']);
        put('trailer-digest-flip', flip(Buffer.from(full), full.length - 1), ['ok', 'corrupt', 'corrupt']);
        put('trailer-magic-flip', flip(Buffer.from(full), full.length - TRAILER), ['corrupt', 'corrupt', 'corrupt']);
        const body = full.subarray(0, full.length - TRAILER);
        const trailer = (b: Buffer) => fixDigest(Buffer.concat([b, Buffer.from('AENVEND\n'), Buffer.alloc(32)]));
        // last chunk dropped at a chunk boundary, trailer forged: only the final flag catches it
        put('last-chunk-dropped-forged', trailer(body.subarray(0, HEADER + 3 * B)), ['corrupt', 'corrupt', 'ok']);
        // chunks 0 and 1 swapped, trailer forged
        put('chunks-swapped-forged', trailer(Buffer.concat([body.subarray(0, HEADER), body.subarray(HEADER + B, HEADER + 2 * B),
          body.subarray(HEADER, HEADER + B), body.subarray(HEADER + 2 * B)])), ['corrupt', 'corrupt', 'ok']);
        // last chunk cut inside its tag (L mod B = 9), trailer forged: step 7
        put('cut-in-last-tag-forged', trailer(body.subarray(0, body.length - 12)), ['corrupt', 'corrupt', 'corrupt']);
        // an empty chunk after full ones (L mod B = 16), trailer forged: step 7
        const exact = src(4096); // one full chunk
        put('empty-chunk-appended-forged', trailer(Buffer.concat([exact.subarray(0, exact.length - TRAILER), randomBytes(16)])),
          ['corrupt', 'corrupt', 'corrupt']);
        put('cut-mid-chunk', Buffer.from(full.subarray(0, HEADER + B + 1000)), ['corrupt', 'corrupt', 'corrupt']);
        put('cut-in-header', Buffer.from(full.subarray(0, 100)), ['corrupt', 'corrupt', 'corrupt']);
        put('magic-only', Buffer.from(full.subarray(0, 8)), ['corrupt', 'corrupt', 'corrupt']);
        put('salt-flip', flip(Buffer.from(full), 30), ['corrupt', 'corrupt', 'corrupt']);
        put('mac-flip', flip(Buffer.from(full), 100), ['corrupt', 'corrupt', 'corrupt']);
        put('version-2', Buffer.from(full).fill(2, 8, 9), ['unsupported', 'unsupported', 'unsupported']);
        put('kdf-4-consistent', fixCheck(Buffer.from(full).fill(4, 10, 11)), ['unsupported', 'unsupported', 'unsupported']);
        put('chunk-log2-25-consistent', fixCheck(Buffer.from(full).fill(25, 11, 12)), ['unsupported', 'unsupported', 'unsupported']);
        const p2 = Buffer.from(full);
        p2.writeUInt32LE(1, 16);
        put('pbkdf2-p2-nonzero-consistent', fixCheck(p2), ['unsupported', 'unsupported', 'unsupported']);
        const forged = Buffer.from(full);
        forged.writeUInt32LE(forged.readUInt32LE(12) + 1, 12); // cost changed, header_check recomputed: the MAC cannot match
        put('params-forged', fixCheck(forged), ['wrong-password', 'wrong-password', 'corrupt']);
        put('not-envelope', randomBytes(5000), ['not-envelope', 'not-envelope', 'not-envelope']);
        put('empty-file', Buffer.alloc(0), ['not-envelope', 'not-envelope', 'not-envelope']);
        // sealed by the reference under another password, same salt as the batch above
        const other = tempDir('aenv-interop-pw-');
        try {
          const otherPw = passwordFile(other.dir, 'not the password');
          const r = await runRef(['encrypt', path.join(plain, 'c4096', 'n4097.bin'), otherPw, path.join(dmg, 'wrong-password.aspera-env'),
            '--suite', '1', '--kdf', '3', '--chunk-log2', '12', '--salt', full.subarray(24, 56).toString('hex'),
            '--params', [12, 16, 20].map((o) => full.readUInt32LE(o)).join(',')]);
          if (r.code !== 0) throw new Error(why(r));
          cases['wrong-password'] = ['wrong-password', 'wrong-password', 'ok'];
        } finally {
          other.cleanup();
        }
      }, TIMEOUT);

      const MODES = ['decrypt', 'verify with the password', 'verify without a password'] as const;

      it.each(MODES.map((mode, m) => ({ mode, m })))('$mode: both give the expected status for every damaged file', async ({ mode, m }) => {
        const out = path.join(tmp.dir, `damaged-out-${m}`);
        const refOut = path.join(tmp.dir, `damaged-ref-out-${m}`);
        const [ra, rr] = await Promise.all([
          runAenv(m === 0 ? ['decrypt', dmg, '-o', out, '--password-file', pw, '--json']
            : m === 1 ? ['verify', dmg, '--password-file', pw, '--json'] : ['verify', dmg, '--json']),
          runRef(m === 0 ? ['decrypt', dmg, pw, refOut] : m === 1 ? ['verify', dmg, pw] : ['verify', dmg]),
        ]);
        const a = byFile(ra, 'path', dmg);
        const p = byFile(rr, 'file', dmg);
        const table = Object.keys(cases).sort().map((name) => {
          const f = `${name}.aspera-env`;
          return { name, expected: cases[name]![m], ref: p.get(f)?.['status'], aenv: a.get(f)?.['status'] };
        });
        expect(table, mode).toEqual(table.map((t) => ({ ...t, ref: t.expected, aenv: t.expected })));
        const anyFailed = table.some((t) => t.expected !== 'ok');
        expect(ra.code, why(ra)).toBe(anyFailed ? 1 : 0);
        expect(rr.code, why(rr)).toBe(anyFailed ? 1 : 0);
        if (m === 0) {
          // Only what opened is in the output folder (step 12), with the authentic bytes.
          const want = readFileSync(path.join(plain, 'c4096', `n${3 * 4096 + 5}.bin`));
          const opened = table.filter((t) => t.expected === 'ok').map((t) => t.name).sort();
          const left = existsSync(out) ? filesUnder(out).map((f) => `${f} (${statSync(path.join(out, f)).size} bytes)`) : [];
          expect(left, 'what aenv decrypt left in its output folder').toEqual(opened.map((n) => `${n} (${want.length} bytes)`));
          for (const name of opened) expect(readFileSync(path.join(out, name)).equals(want), name).toBe(true);
          // The reference reports the trailer-digest case as a warning, the plaintext intact.
          expect(p.get('trailer-digest-flip.aspera-env')?.['digest_warning']).toBe(true);
        }
      }, TIMEOUT);
    });
  });

  it('(e) NFD and NFC spellings of a password open each other\'s envelopes, both ways', async () => {
    const nfc = 'Caf\u00e9 \u00c5ngstr\u00f6m \u2603';
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const d = tempDir('aenv-interop-nfc-');
    try {
      const dirs = { nfc: path.join(d.dir, 'nfc'), nfd: path.join(d.dir, 'nfd') };
      mkdirSync(dirs.nfc);
      mkdirSync(dirs.nfd);
      const pwNfc = passwordFile(dirs.nfc, nfc);
      const pwNfd = passwordFile(dirs.nfd, nfd);
      const input = path.join(plain, 'c4096', 'n4097.bin');
      const want = readFileSync(input);
      const [a1, r1] = await Promise.all([
        runAenv(['encrypt', input, '-o', path.join(d.dir, 'by-aenv'), '--kdf', 'pbkdf2', '--password-file', pwNfd]),
        runRef(['encrypt', input, pwNfd, path.join(d.dir, 'by-ref.aspera-env'), '--suite', '2', '--kdf', '3', '--chunk-log2', '16', '--params', '100000,0,0']),
      ]);
      expect(a1.code, why(a1)).toBe(0);
      expect(r1.code, why(r1)).toBe(0);
      const [a2, r2] = await Promise.all([
        runAenv(['decrypt', path.join(d.dir, 'by-ref.aspera-env'), '-o', path.join(d.dir, 'out-aenv'), '--password-file', pwNfc]),
        runRef(['decrypt', path.join(d.dir, 'by-aenv', 'n4097.bin.aspera-env'), pwNfc, path.join(d.dir, 'out-ref')]),
      ]);
      expect(a2.code, why(a2)).toBe(0);
      expect(r2.code, why(r2)).toBe(0);
      expect(sha(readFileSync(path.join(d.dir, 'out-aenv', 'by-ref')))).toBe(sha(want));
      expect(sha(readFileSync(path.join(d.dir, 'out-ref')))).toBe(sha(want));
    } finally {
      d.cleanup();
    }
  }, TIMEOUT);
});
