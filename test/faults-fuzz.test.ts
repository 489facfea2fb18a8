// Faults: hostile envelopes. fast-check mutates the header (bit flips, and forgeries with a
// recomputed header_check) and the tail (flips, cuts, extensions, a replaced trailer); every
// mutant gets exactly the status docs/FORMAT.md's step order gives it, from decrypt, keyed verify,
// passwordless verify and inspect alike (an oracle below walks the steps on the bytes and
// compares them with the original: any change to authenticated bytes is caught at the first
// step that covers them; test/helpers/oracle.ts); nothing throws, decrypt writes nothing unless it is ok, and an ok
// plaintext is always the original one. The CLI does the same over a folder of mutants without a
// stack trace. Headers beyond the KDF limits cost no KDF work; a forged 16 MiB-chunk envelope
// with a bad tag is refused in bounded memory (peak RSS measured with GNU time, /usr/bin/time;
// CI installs it, elsewhere those tests are skipped by name).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from './helpers/backends.js';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { newContext, type RunContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { decryptFile, verifyFile } from '../src/engine/files.js';
import { inspectFile } from '../src/engine/inspect.js';
import { KDF_PBKDF2, KDF_SCRYPT, OFF_HEADER_CHECK, OFF_P1, OFF_SALT } from '../src/format/constants.js';
import { headerCheck } from '../src/format/header.js';
import { checkKdfParams } from '../src/format/kdf-params.js';
import { STATUSES } from '../src/engine/statuses.js';
import { aenv, BIN, CLI_ONLY, PASSWORD, passwordFile, UNDER_MUTATION } from './helpers/cli.js';
import { vectorPath } from './helpers/vectors.js';
import { hasStackTrace, ramTempDir, rowsOf, temps } from './helpers/faults.js';
import { expectedFor, type Expected } from './helpers/oracle.js';

const backend = getBackend('node');
const PARAMS = { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 } as const; // the cheapest allowed KDF
let work: { dir: string; cleanup: () => void };
let ctx: RunContext;
const originals: { name: string; env: Buffer; plain: Buffer }[] = [];

async function sealInProcess(plain: Buffer, suite: 1 | 2, chunkLog2: number): Promise<Buffer> {
  const salt = new Uint8Array(32).fill(7);
  const s = { suite, chunkLog2, params: PARAMS, salt, master: await ctx.keys!.master(PARAMS, salt) } as const;
  const { header, encoder } = newEncoder(ctx, s);
  return Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]);
}

beforeAll(async () => {
  work = ramTempDir('aenv-fuzz-');
  ctx = newContext(backend, new KeyCache(backend, passwordBytes(PASSWORD)));
  for (const [suite, len] of [[1, 10_000], [2, 8192], [1, 0], [2, 5]] as const) {
    const plain = randomBytes(len);
    originals.push({ name: `s${suite}-n${len}`, plain, env: await sealInProcess(plain, suite, 12) });
  }
});
afterAll(() => work.cleanup());

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'forge'; at: number; xor: number }
  | { kind: 'cut'; n: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'tailflip'; back: number; xor: number }
  | { kind: 'trailer'; bytes: Uint8Array };

const headerMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(127), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('forge' as const), at: fc.nat(OFF_HEADER_CHECK - 1), xor: fc.integer({ min: 1, max: 255 }) }),
);
const tailMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), n: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 400 }) }),
  fc.record({ kind: fc.constant('tailflip' as const), back: fc.integer({ min: 1, max: 400 }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('trailer' as const), bytes: fc.uint8Array({ minLength: 40, maxLength: 40 }) }),
);

function mutate(env: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(env);
  for (const m of muts) {
    if (m.kind === 'flip' || m.kind === 'forge') {
      if (m.at < b.length) b[m.at]! ^= m.xor;
      if (m.kind === 'forge' && b.length >= 128) b.set(headerCheck(b.subarray(0, 128)), OFF_HEADER_CHECK);
    } else if (m.kind === 'cut') b = b.subarray(0, Math.max(0, b.length - m.n));
    else if (m.kind === 'extend') b = Buffer.concat([b, m.bytes]);
    else if (m.kind === 'tailflip') { if (m.back <= b.length) b[b.length - m.back]! ^= m.xor; }
    else if (b.length >= 40) b = Buffer.concat([b.subarray(0, b.length - 40), m.bytes]);
  }
  return b;
}

/** A forgery that keeps the KDF parameters within the limits but changes them costs a real KDF
 * of up to about a second by design (docs/FORMAT.md "KDF parameters and limits"); such cases are left to the limits tests. */
function costlyForgery(env: Buffer, mutated: Buffer): boolean {
  if (mutated.length < 24) return false;
  const p = (b: Buffer) => ({ kdf: b[10]!, p1: b.readUInt32LE(OFF_P1), p2: b.readUInt32LE(16), p3: b.readUInt32LE(20) });
  const a = p(env);
  const m = p(mutated);
  const changed = a.kdf !== m.kdf || a.p1 !== m.p1 || a.p2 !== m.p2 || a.p3 !== m.p3;
  return changed && checkKdfParams(m as Parameters<typeof checkKdfParams>[0]) === null;
}

let seq = 0;
async function checkOne(orig: (typeof originals)[number], muts: Mutation[]): Promise<void> {
  const bytes = mutate(orig.env, muts);
  fc.pre(!costlyForgery(orig.env, bytes));
  const dir = path.join(work.dir, `case-${seq++}`);
  mkdirSync(dir);
  const src = path.join(dir, 'm.bin.aspera-env');
  writeFileSync(src, bytes);
  const same = bytes.equals(orig.env);
  const out = path.join(dir, 'm.bin');
  const want = expectedFor(orig.env, bytes);
  const d = await decryptFile(src, { base: dir, relDir: '', output: out }, { force: false, skipExisting: false, removeSource: false }, ctx);
  expect(STATUSES).toContain(d.status);
  expect(d.status, `decrypt: ${d.detail}`).toBe(want.decrypt);
  expect(d.warning !== undefined, 'decrypt warns exactly when only the trailer digest differs').toBe(want.warning);
  if (d.status === 'ok') expect(readFileSync(out).equals(orig.plain)).toBe(true); // never a wrong plaintext
  else expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((n) => n !== 'm.bin')).toEqual(['m.bin.aspera-env']); // no temporary file
  const v = await verifyFile(src, ctx);
  expect(v.status, `keyed verify: ${v.detail}`).toBe(want.keyed);
  const p = await verifyFile(src, { ...ctx, keys: null });
  expect(p.status, `passwordless verify: ${p.detail}`).toBe(want.nopw);
  const i = await inspectFile(src);
  expect(i.status, `inspect: ${i.detail}`).toBe(want.inspect);
  expect(want.nopw === 'ok' || want.keyed === 'ok').toBe(same); // the oracle itself: only the original passes verify
}

describe('property: mutated envelopes, in process', () => {
  it('header mutations: flips and forgeries', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(originals.length - 1), fc.array(headerMutation, { minLength: 1, maxLength: 3 }),
      async (k, muts) => checkOne(originals[k]!, muts)), { numRuns: 250 });
  }, 120_000);

  it('tail mutations: cut, extended, flipped, trailer replaced', async () => {
    await fc.assert(fc.asyncProperty(fc.nat(originals.length - 1), fc.array(tailMutation, { minLength: 1, maxLength: 3 }),
      async (k, muts) => checkOne(originals[k]!, muts)), { numRuns: 250 });
  }, 120_000);
});

describe.skipIf(UNDER_MUTATION)(`the CLI over a folder of mutants${CLI_ONLY}`, () => {
  it('every file ends with exactly one status, no crash, no stack trace, outputs only for ok', () => {
    const dir = path.join(work.dir, 'cli');
    mkdirSync(dir);
    const cases = fc.sample(fc.tuple(fc.nat(originals.length - 1), fc.array(fc.oneof(headerMutation, tailMutation), { minLength: 1, maxLength: 3 })), { numRuns: 200, seed: 42 });
    let n = 0;
    const want = new Map<string, Expected>(); // by output name
    for (const [k, muts] of cases) {
      const bytes = mutate(originals[k]!.env, muts);
      if (costlyForgery(originals[k]!.env, bytes)) continue;
      const name = `m${String(n++).padStart(3, '0')}-${originals[k]!.name}`;
      writeFileSync(path.join(dir, `${name}.aspera-env`), bytes);
      want.set(name, expectedFor(originals[k]!.env, bytes));
    }
    // Not vacuous: the sample holds every kind of outcome.
    expect(new Set([...want.values()].map((w) => w.decrypt))).toEqual(new Set(['ok', 'not-envelope', 'unsupported', 'corrupt', 'wrong-password']));
    const pw = passwordFile(work.dir);
    const out = path.join(work.dir, 'cli-out');
    const r = aenv(['decrypt', dir, '-o', out, '--password-file', pw, '--json']);
    expect([0, 1]).toContain(r.code);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const { rows, summary } = rowsOf(r.stdout);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((x) => x['path'])).size).toBe(n);
    for (const row of rows) {
      expect(STATUSES).toContain(row['status']);
      const o = String(row['output']);
      expect(row['status'], `${o}: ${String(row['detail'])}`).toBe(want.get(path.basename(o))?.decrypt);
      const orig = originals.find((x) => o.endsWith(`-${x.name}`))!;
      if (row['status'] === 'ok') expect(readFileSync(o).equals(orig.plain)).toBe(true);
      else expect(existsSync(o)).toBe(false);
    }
    expect(Number(summary['ok']) + Number(summary['failed']) + Number(summary['skipped'])).toBe(n);
    expect(temps(out)).toEqual([]);
    const v = aenv(['verify', dir, '--json']);
    const vrows = rowsOf(v.stdout).rows;
    expect(vrows).toHaveLength(n);
    for (const row of vrows) expect(row['status'], String(row['path'])).toBe(want.get(path.basename(String(row['path']), '.aspera-env'))?.nopw);
    expect(hasStackTrace(v.stderr)).toBe(false);
  }, 120_000);
});

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null; // GNU time, Debian package `time`
/** The name of a test that needs GNU time, saying so when it is skipped for the lack of it. */
const needsTime = (name: string): string => (TIME ? name : `${name} (SKIPPED: needs GNU time, /usr/bin/time, Debian package \`time\`)`);

/** Runs the CLI under /usr/bin/time; returns the peak RSS in MiB and the seconds taken. */
function measured(args: string[]): { code: number | null; stdout: string; stderr: string; rssMiB: number; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync(TIME!, ['-f', 'AENV_MAXRSS=%M', process.execPath, BIN, ...args]);
  const stderr = r.stderr.toString();
  const m = /AENV_MAXRSS=(\d+)/.exec(stderr);
  return { code: r.status, stdout: r.stdout.toString(), stderr, rssMiB: m ? Number(m[1]) / 1024 : NaN, seconds: (Date.now() - t0) / 1000 };
}

const BEYOND: [number, number, number, number][] = [
  [KDF_SCRYPT, 31, 8, 1], [KDF_SCRYPT, 20, 32, 16], [2, 0xffffffff, 0xffffffff, 0xffffffff], [KDF_PBKDF2, 0xffffffff, 0, 0], [KDF_PBKDF2, 600000, 1, 0],
];
/** Writes one envelope per BEYOND entry into a new folder `name`, its header_check recomputed (a careful forger). */
function writeBeyond(name: string): { dir: string; files: string[] } {
  const dir = path.join(work.dir, name);
  mkdirSync(dir);
  const files = BEYOND.map(([kdf, p1, p2, p3], i) => {
    const b = Buffer.from(originals[0]!.env);
    b[10] = kdf;
    b.writeUInt32LE(p1, OFF_P1);
    b.writeUInt32LE(p2, 16);
    b.writeUInt32LE(p3, 20);
    b.set(headerCheck(b.subarray(0, 128)), OFF_HEADER_CHECK);
    const f = path.join(dir, `b${i}.aspera-env`);
    writeFileSync(f, b);
    return f;
  });
  return { dir, files };
}

describe('bounded cost whatever the header says', () => {
  it('KDF parameters beyond the limits are refused as unsupported with no KDF work at all', async () => {
    const keys = new KeyCache(backend, passwordBytes(PASSWORD));
    const c = { ...ctx, keys };
    const { dir, files } = writeBeyond('beyond');
    for (const [i, f] of files.entries()) {
      const t0 = Date.now();
      const r = await decryptFile(f, { base: dir, relDir: '', output: path.join(dir, `b${i}`) }, { force: false, skipExisting: false, removeSource: false }, c);
      expect(r.status).toBe('unsupported');
      expect(Date.now() - t0).toBeLessThan(500);
    }
    expect(keys.derivations).toBe(0);
  });

  it.skipIf(!TIME || UNDER_MUTATION)(needsTime(`the CLI too, with the independent vector: unsupported, quick and small (peak RSS)${CLI_ONLY}`), () => {
    const { dir } = writeBeyond('beyond-cli');
    const m = measured(['decrypt', dir, vectorPath('bad-kdf-too-costly.aspera-env'), '-o', path.join(work.dir, 'beyond-out'), '--password-file', passwordFile(work.dir), '--json']);
    expect(rowsOf(m.stdout).rows.map((x) => x['status'])).toEqual(Array(BEYOND.length + 1).fill('unsupported'));
    console.info(`beyond-limits headers: ${m.seconds.toFixed(2)} s, peak RSS ${m.rssMiB.toFixed(0)} MiB`);
    expect(m.rssMiB).toBeLessThan(200);
  });

  it.skipIf(!TIME || UNDER_MUTATION)(needsTime(`16 MiB chunks with a bad tag: corrupt, nothing written, peak RSS bounded, six at once too${CLI_ONLY}`), () => {
    const dir = path.join(work.dir, 'big-chunks');
    mkdirSync(dir);
    const pw = passwordFile(work.dir);
    writeFileSync(path.join(dir, 'a.bin'), Buffer.alloc(34_000_000, 3)); // chunks of 16 MiB, 16 MiB, 1.4 MB
    expect(aenv(['encrypt', dir, '--kdf', 'pbkdf2', '--password-file', pw, '--chunk-size', '16M', '--remove-source']).code).toBe(0);
    const env = readFileSync(path.join(dir, 'a.bin.aspera-env'));
    env[env.length - 60]! ^= 1; // the tag of the last chunk: the whole payload is read first
    for (let i = 0; i < 6; i++) writeFileSync(path.join(dir, `f${i}.bin.aspera-env`), env);
    spawnSync('rm', [path.join(dir, 'a.bin.aspera-env')]);
    const one = measured(['decrypt', path.join(dir, 'f0.bin.aspera-env'), '-o', path.join(work.dir, 'big-one'), '--password-file', pw, '--json']);
    expect(rowsOf(one.stdout).rows.map((x) => [x['status'], x['chunk']])).toEqual([['corrupt', 2]]);
    expect(existsSync(path.join(work.dir, 'big-one'))).toBe(false); // nothing written: the -o folder the run made is removed again
    // Six at once: the payload memory budget (engine/payload.ts) lets only two such files hold
    // their buffers at a time; without it this run peaks above 400 MiB.
    const out = path.join(work.dir, 'big-out');
    const six = measured(['decrypt', dir, '-o', out, '--password-file', pw, '--json', '--jobs', '6']);
    expect(rowsOf(six.stdout).rows.map((x) => x['status'])).toEqual(Array(6).fill('corrupt'));
    expect(existsSync(out)).toBe(false); // nothing written: the -o folder is removed again
    console.info(`forged 16 MiB-chunk envelope: ${one.seconds.toFixed(2)} s, peak RSS ${one.rssMiB.toFixed(0)} MiB; `
      + `six at once (--jobs 6): ${six.seconds.toFixed(2)} s, peak RSS ${six.rssMiB.toFixed(0)} MiB`);
    expect(one.rssMiB).toBeLessThan(200);
    expect(six.rssMiB).toBeLessThan(350);
  }, 60_000);
});
