// `decrypt -` under awkward timing (issue 22: once, a 2 GiB envelope on standard input, written
// to a terminal, ended after ~3 s with "no trailer"; never again). In three parts:
//
// In process: decryptStream fed by a source of random piece sizes and pauses, written to a sink
// that calls back late, on the worker threads past the first MiB: no input buffer is ever
// changed (the framer keeps views of them, the trailer among them), and no output buffer is
// reused before the sink has called back (aenv's buffer pool takes it back only then).
//
// The race the stress harness found: a source that fails (a stream cut short) while opened blocks
// wait for a slow writer left a rejection unhandled, and the process died with a stack trace.
//
// From the outside: the built binary and `node bin/aenv.js` with standard input a regular file,
// a pipe fed fast and one fed in irregular pieces with pauses, and standard output a file, a pipe
// read slowly with stops, and a real pseudo-terminal (cooked with standard error on it as in a
// terminal, raw, read with stops and resized); every output equals the plaintext, and on two runs
// strace sees one reader of fd 0, no seek, every byte of the file read once and one read of 0 at
// its very end. The harness is bench/stdin-stress.mjs (run it by hand for as long as you like);
// its controls show that it catches the symptom: a file cut short while read ends as in the
// issue, one still being written says so, a second reader of the same open file fails a chunk.

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module, shared with the hand-run harness
import { BINARY, describeCase, makeEnvelope, rngOf, runCase, runControls } from '../bench/stdin-stress.mjs';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { openBlocks } from '../src/engine/pipeline.js';
import { decryptStream } from '../src/engine/stdio.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { getBackend } from './helpers/backends.js';
import { CLI_ONLY, passwordFile, tempDir, UNDER_MUTATION } from './helpers/cli.js';

const MiB = 1024 * 1024;
const node = getBackend('node');
const keys = new KeyCache(node, passwordBytes('stress'));

/** An envelope of `size` random bytes (pbkdf2, cheap to open with `keys`), and its plaintext. */
async function seal(size: number, chunkLog2: number, suite: 1 | 2): Promise<{ env: Buffer; plain: Buffer }> {
  const salt = randomBytes(32);
  const params = DEFAULT_PARAMS[KDF_PBKDF2];
  const plain = randomBytes(size);
  const { header, encoder } = newEncoder(newContext(node, null), { suite, chunkLog2, params, salt, master: await keys.master(params, salt) });
  return { env: Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]), plain };
}

function pieceBuffers(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  return out;
}

describe('decryptStream under random pieces, pauses and late write callbacks', () => {
  /**
   * Decrypts `env` fed in pieces of 1 B .. 256 KiB with pauses, to a sink that checks, when it
   * calls back (late, at random), that the bytes it was given are still those it was given.
   */
  async function run(env: Buffer, seed: number) {
    const rng = rngOf(seed);
    const given: { piece: Buffer; sha: string }[] = [];
    async function* source() {
      for (let pos = 0; pos < env.length;) {
        const n = Math.min(env.length - pos, Math.floor(2 ** (rng() * 18)));
        const piece = Buffer.from(env.subarray(pos, pos + n)); // a buffer of its own, as a stream's
        pos += n;
        given.push({ piece, sha: createHash('sha256').update(piece).digest('hex') });
        const u = rng();
        if (u < 0.1) await sleep(rng() * 3);
        else if (u < 0.4) await new Promise((r) => setImmediate(r));
        yield piece;
      }
    }
    const out: Buffer[] = [];
    let reusedEarly = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        const copy = Buffer.from(chunk);
        out.push(copy);
        const later = (): void => {
          if (!chunk.equals(copy)) reusedEarly++;
          cb();
        };
        const u = rng();
        if (u < 0.3) later();
        else if (u < 0.6) setImmediate(later);
        else setTimeout(later, rng() * 4);
      },
    });
    const ctx = newContext(node, keys);
    let error: Error | null = null;
    try {
      await decryptStream(Readable.from(source()), sink, ctx);
    } catch (e) {
      error = e as Error;
    } finally {
      await ctx.pool?.close();
    }
    const changed = given.filter((g) => createHash('sha256').update(g.piece).digest('hex') !== g.sha).length;
    return { out: Buffer.concat(out), error, changed, reusedEarly, pieces: given.length };
  }

  it.each([
    [0, 12, 1], [70_000, 12, 2], [3 * MiB + 13, 16, 1], [6 * MiB + 5, 14, 2], [5 * MiB, 20, 1], [20 * MiB + 1, 24, 2],
  ] as const)('%i bytes, 2^%i-byte chunks, suite %i: the plaintext exactly; no input changed, no output reused before its callback', async (size, chunkLog2, suite) => {
    const { env, plain } = await seal(size, chunkLog2, suite);
    for (const seed of size > 8 * MiB ? [1] : [1, 2, 3]) {
      const r = await run(env, seed * 1000 + size);
      expect(r.error, `seed ${seed}`).toBeNull();
      expect(r.out.equals(plain), `seed ${seed}: ${r.out.length} of ${plain.length} bytes`).toBe(true);
      expect(r.changed, `seed ${seed}: input pieces changed (of ${r.pieces})`).toBe(0);
      expect(r.reusedEarly, `seed ${seed}: output buffers changed before the write's callback`).toBe(0);
    }
  }, 60_000);
});

/**
 * Rejections that nothing handled while `fn` ran (and a few turns after): each one would have
 * ended the CLI with a stack trace (Node's default), not with aenv's one-line error.
 */
async function unhandledDuring(fn: () => Promise<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const note = (e: unknown): void => void seen.push(e);
  const others = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', note);
  try {
    await fn().catch(() => undefined);
    await sleep(50);
  } finally {
    process.off('unhandledRejection', note);
    for (const l of others) process.on('unhandledRejection', l);
  }
  return seen;
}

describe('a source that fails while opened blocks wait for a slow writer (found by bench/stdin-stress.mjs)', () => {
  // Bug guarded: openBlocks asked its source for the next block and, with `depth` blocks in
  // flight, went on to hand out the oldest one with no handler on that request; when the source
  // failed meanwhile (a stream that ended early: "no trailer"; a read error), the rejection was
  // unhandled and the process died with a stack trace: about one run in two of
  // `aenv decrypt - < FILE` for a FILE cut short.
  it('openBlocks: the failure reaches the consumer, nothing is left unhandled (every depth, every point of failure)', async () => {
    const run = newContext(node, null);
    for (const depth of [1, 2, 3, 4]) {
      for (const n of [0, 1, 2, 3, 4, 5]) {
        for (const slowWork of [false, true]) {
          async function* source() {
            for (let i = 0; i < n; i++) yield { bytes: new Uint8Array(16), first: i, final: -1, owned: false };
            throw new Error('the source failed');
          }
          const work = async (_op: 'open' | 'seal', block: { bytes: Uint8Array }) => {
            if (slowWork) await sleep(1);
            return { bytes: block.bytes, result: 16 };
          };
          let caught: Error | null = null;
          let handed = 0;
          const unhandled = await unhandledDuring(async () => {
            try {
              for await (const p of openBlocks(source(), work, depth, 16, run)) {
                handed++;
                await sleep(3); // a write that takes a while
                p.release();
              }
            } catch (e) {
              caught = e as Error;
            }
          });
          const what = `depth ${depth}, failing after ${n} blocks, ${slowWork ? 'slow' : 'quick'} work`;
          expect(unhandled, what).toEqual([]);
          expect(caught, what).toMatchObject({ message: 'the source failed' });
          expect(handed, what).toBeLessThanOrEqual(n);
        }
      }
    }
  }, 30_000);

  it('decryptStream of a stream cut short, to a slow writer: corrupt "no trailer", nothing unhandled', async () => {
    const { env } = await seal(6 * MiB, 16, 1);
    const cut = env.subarray(0, env.length - 3000); // in the middle of the last chunk
    for (let round = 0; round < 3; round++) {
      const ctx = newContext(node, keys);
      const sink = new Writable({ write(_c, _e, cb) { setTimeout(cb, 3); } });
      let caught: Error | null = null;
      const unhandled = await unhandledDuring(async () => {
        try {
          await decryptStream(Readable.from(pieceBuffers(cut, 65536)), sink, ctx);
        } catch (e) {
          caught = e as Error;
        } finally {
          await ctx.pool?.close();
        }
      });
      expect(unhandled.map(String), `round ${round}`).toEqual([]);
      expect(caught).toMatchObject({ status: 'corrupt', message: expect.stringMatching(/no trailer/) });
    }
  }, 60_000);
});

const canStrace = existsSync('/usr/bin/strace') && spawnSync('/usr/bin/strace', ['-f', '-o', '/dev/null', '/bin/true']).status === 0;
const python = spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import pty, termios, fcntl']).status === 0;
const built = existsSync(BINARY);

describe.skipIf(UNDER_MUTATION)(`aenv decrypt - from the outside: files, pipes, slow readers, a terminal${CLI_ONLY}`, () => {
  const tmp = tempDir('aenv-stdin-stress-');
  let pw = '';
  const env: Record<string, { path: string; bytes: number; plain: number; sha256: string; name: string }> = {};
  beforeAll(async () => {
    if (!python) throw new Error('python3 with pty/termios is needed to drive a pseudo-terminal (Debian: python3)');
    pw = passwordFile(tmp.dir);
    env['empty'] = await makeEnvelope(tmp.dir, 'empty', 0, { chunk: 4096, pw });
    env['small'] = await makeEnvelope(tmp.dir, 'small', 70_001, { chunk: 4096, suite: 'chacha20-poly1305', pw });
    env['3m'] = await makeEnvelope(tmp.dir, 'three', 3 * MiB + 13, { chunk: 65536, pw });
    env['9m'] = await makeEnvelope(tmp.dir, 'nine', 9 * MiB + 7, { chunk: MiB, suite: 'chacha20-poly1305', pw });
    env['32m'] = await makeEnvelope(tmp.dir, 'large', 32 * MiB + 3, { chunk: 65536, pw });
  }, 60_000);
  afterAll(() => tmp.cleanup());

  // Each standard input with each standard output, on both programs, over envelopes of every
  // shape; conditions around them (pinned to one CPU, small heaps, freezes) spread among them.
  const STDINS = ['file', 'pipe', 'pipe-slow'] as const;
  const STDOUTS = ['file', 'pipe-slow', 'pty', 'pty-stop'] as const;
  const NAMES = ['32m', 'small', '9m', '3m', 'empty', '9m'];
  const cases = STDINS.flatMap((stdin, i) => STDOUTS.map((stdout, j) => {
    const k = i * STDOUTS.length + j;
    return {
      id: k, seed: 7919 * (k + 1), name: NAMES[k % NAMES.length]!, program: k % 2 === 0 && built ? 'bin' : 'node', stdin,
      stdout: stdout === 'pty' && k % 3 === 0 ? 'pty-raw' : stdout,
      stderrTty: stdout === 'pty', args: k % 5 === 1 ? ['--check-digest'] : k % 7 === 3 ? ['--backend', 'noble'] : [],
      pin: k % 4 === 2, smallHeap: k % 5 === 3, freeze: stdout === 'pipe-slow' && k % 2 === 1, hog: false, strace: null, fuse: false,
    };
  }));

  it.concurrent.each(cases.map((c) => [`${c.program} in=${c.stdin} out=${c.stdout}${c.stderrTty ? '+err' : ''} ${c.name}`, c] as const))('%s', async (_what, c0) => {
    const c = { ...c0, envelope: env[c0.name]! };
    const r = await runCase(c, { pw, work: tmp.dir });
    expect(r.ok, `${describeCase(c)}: ${r.why}`).toBe(true);
  }, 120_000);

  it.skipIf(!canStrace)(`strace: fd 0 read by one stream only, every byte once, one read of 0 at the end (binary and node)${canStrace ? '' : ' (SKIPPED: strace cannot trace here)'}`, async () => {
    for (const program of built ? ['bin', 'node'] : ['node']) {
      const c = {
        id: `strace-${program}`, seed: 5, envelope: env['9m']!, program, stdin: 'file', stdout: 'pty', stderrTty: true, args: [],
        pin: false, smallHeap: false, freeze: false, hog: false, strace: `${tmp.dir}/strace-${program}.log`, fuse: false,
      };
      const r = await runCase(c, { pw, work: tmp.dir });
      expect(r.ok, `${describeCase(c)}: ${r.why}`).toBe(true);
      expect(r.fd0).toMatchObject({ bytes: env['9m']!.bytes, zeros: 1, problem: null });
    }
  }, 120_000);

  it('the symptom on purpose: a file cut short while read ends as in the issue; one still being written says so; a second reader of the same open file fails a chunk', async () => {
    const [cut, copying, shared] = await runControls(env['9m'], { pw, work: tmp.dir, program: built ? 'bin' : 'node' });
    expect(cut.exit).toBe(1);
    expect(cut.stderr).toMatch(/^aenv: error: standard input: no trailer \(the envelope is truncated/);
    expect(copying.exit).toBe(1);
    expect(copying.stderr).toMatch(/^aenv: error: standard input: changed while being read \(size \d+ -> \d+\): the file is still being written/);
    expect(copying.stderr).toMatch(/\naenv: hint: run again once the file is complete$/);
    expect(shared.exit).toBe(1);
    expect(shared.stderr).toMatch(/^aenv: error: standard input: chunk \d+ at offset \d+ failed authentication/);
  }, 60_000);
});
