// Hostile shared folders (issue 9): another user who can write to a folder aenv works in tries
// to make it commit the wrong file, write somewhere else, delete the wrong file, hang, or seal a
// file that is still changing. Each attack is run for real by a second process
// (test/helpers/attacker.mjs, as user nobody when the tests run as root, as CI does), timed by
// what it can observe (aenv's temporary file appearing) or by what the test observes of aenv
// (its open file descriptors in /proc), never by a fixed sleep; each test fails if the attack
// succeeds. The slow window an attacker needs is the key derivation, whose cost the sender of
// an envelope chooses (here PBKDF2 with 2,000,000 rounds), or a slow payload (--backend noble).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import type { KdfParams } from '../src/format/kdf-params.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/files.js';
import { StreamFramer } from '../src/stream/decoder.js';
import { getBackend } from './helpers/backends.js';
import { BIN, jsonLines, PASSWORD, passwordFile, ROOT } from './helpers/cli.js';
import { ramTempDir } from './helpers/faults.js';

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const ATTACKER = path.join(ROOT, 'test/helpers/attacker.mjs');
const SLOW: KdfParams = { kdf: KDF_PBKDF2, p1: 2_000_000, p2: 0, p3: 0 };
const CHEAP: KdfParams = { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 };
const node = getBackend('node');
const keys = new KeyCache(node, passwordBytes(PASSWORD));
const salts = { slow: randomBytes(32), cheap: randomBytes(32) };

let work: { dir: string; cleanup: () => void };
let pw: string;
let n = 0;

/** An envelope of `plain` sealed in process (one KDF per cost for the whole file). */
async function seal(plain: Uint8Array, cost: 'slow' | 'cheap', chunkLog2 = 16): Promise<Buffer> {
  const params = cost === 'slow' ? SLOW : CHEAP;
  const salt = salts[cost];
  const { header, encoder } = newEncoder(newContext(node, null), { suite: 1, chunkLog2, params, salt, master: await keys.master(params, salt) });
  return Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]);
}

/** A fresh folder for one test; `shared` makes it writable by everyone, without the sticky bit. */
function folder(name: string, shared = false): string {
  const d = path.join(work.dir, `${n++}-${name}`);
  mkdirSync(d);
  chmodSync(d, shared ? 0o777 : 0o755);
  return d;
}

interface Attacker {
  go(): void;
  result: Promise<string>;
}

/** Starts the second user's process. */
function attacker(mode: string, ...args: string[]): Attacker {
  const p = spawn(process.execPath, [ATTACKER, mode, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], ...(IS_ROOT ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<string>((resolve) => p.on('close', () => resolve(out.trim())));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  void result.then(() => clearTimeout(timer));
  return { go: () => p.stdin!.write('go\n'), result };
}

interface Run {
  proc: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function aenv(args: string[], env: Record<string, string> = {}): Run {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e['ASPERA_SCP_FILEPASS'];
  Object.assign(e, env);
  const proc = spawn(process.execPath, [BIN, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }));
  return { proc, done };
}

/** Resolves once process `pid` has `file` open (it is then past its walk, inside the key derivation). */
async function waitOpen(pid: number, file: string): Promise<void> {
  const want = realpathSync(file);
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      /* not started yet, or gone */
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === want) return;
      } catch {
        /* closed meanwhile */
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`process ${pid} never opened ${file}`);
}

const temps = (dir: string): string[] => readdirSync(dir).filter((x) => /^\.aenv-.*\.partial$/.test(x));

beforeAll(async () => {
  work = ramTempDir('aenv-hostile-');
  chmodSync(work.dir, 0o755); // the second user must be able to reach the shared folders
  pw = passwordFile(work.dir);
  await keys.master(SLOW, salts.slow); // the tests' own KDFs, once
}, 60_000);
afterAll(() => work.cleanup());

describe.skipIf(process.platform !== 'linux')('hostile shared folders: each attack runs for real and fails', () => {
  it('1. the temporary file renamed away and replaced: nothing foreign is committed, the envelope is kept, the plaintext is gone', async () => {
    const inbox = folder('inbox', true);
    const plain = randomBytes(24 * 1024 * 1024);
    const env = path.join(inbox, 'report.bin.aspera-env');
    writeFileSync(env, await seal(plain, 'cheap'));
    const att = attacker('swap-temp', inbox);
    // --backend noble makes the payload slow (~65 MB/s), so the window is wide and the attacker wins it.
    const r = await aenv(['decrypt', env, '--remove-source', '--backend', 'noble', '--json', '--password-file', pw]).done;
    expect(await att.result).toMatch(/^done swapped/);
    const row = jsonLines(r.stdout)[0]!;
    expect(row['status']).toBe('io-error');
    expect(String(row['detail'])).toMatch(/renamed or replaced while aenv worked; nothing was committed/);
    expect(String(row['warning'])).toMatch(/other users can write to .*inbox/);
    expect(r.code).toBe(1);
    expect(existsSync(path.join(inbox, 'report.bin'))).toBe(false); // neither the attacker's file nor anything
    expect(existsSync(env)).toBe(true); // --remove-source removed nothing
    expect(statSync(path.join(inbox, 'moved-away.partial')).size).toBe(0); // aenv truncated its own temp wherever it went
  }, 60_000);

  it('2a. a subfolder swapped for a link while the KDF runs (in place, --force): nothing is written where the link points', async () => {
    const kase = folder('case', true);
    mkdirSync(path.join(kase, 'sub'));
    chmodSync(path.join(kase, 'sub'), 0o777);
    const env = path.join(kase, 'sub', 'x.aspera-env');
    writeFileSync(env, await seal(Buffer.from('the authentic plaintext\n'), 'slow'));
    chmodSync(env, 0o644);
    const victim = folder('victim');
    writeFileSync(path.join(victim, 'x'), 'VICTIM ORIGINAL\n');
    const att = attacker('swap-dir', path.join(kase, 'sub'), victim);
    const run = aenv(['decrypt', kase, '--force', '--json', '--password-file', pw]);
    await waitOpen(run.proc.pid!, env);
    att.go();
    expect(await att.result).toMatch(/^done/);
    const r = await run.done;
    const row = jsonLines(r.stdout)[0]!;
    expect(row['status']).toBe('io-error');
    expect(String(row['detail'])).toMatch(/replaced since the run found it|outside the walked PATH/);
    expect(readFileSync(path.join(victim, 'x'), 'utf8')).toBe('VICTIM ORIGINAL\n');
    expect(readdirSync(victim)).toEqual(['x']);
  }, 60_000);

  it('2b. the same under -o: a mirrored subfolder swapped for a link is never written through', async () => {
    const src = folder('src');
    mkdirSync(path.join(src, 'sub'));
    const env = path.join(src, 'sub', 'y.aspera-env');
    writeFileSync(env, await seal(Buffer.from('another plaintext\n'), 'slow'));
    const out = folder('out', true);
    mkdirSync(path.join(out, 'sub'));
    chmodSync(path.join(out, 'sub'), 0o777);
    const victim = folder('victim');
    writeFileSync(path.join(victim, 'y'), 'VICTIM ORIGINAL\n');
    const att = attacker('swap-dir', path.join(out, 'sub'), victim);
    const run = aenv(['decrypt', src, '-o', out, '--force', '--json', '--password-file', pw]);
    await waitOpen(run.proc.pid!, env);
    att.go();
    expect(await att.result).toMatch(/^done/);
    const r = await run.done;
    const row = jsonLines(r.stdout)[0]!;
    expect(row['status']).toBe('io-error');
    expect(String(row['detail'])).toMatch(/symbolic link/);
    expect(readFileSync(path.join(victim, 'y'), 'utf8')).toBe('VICTIM ORIGINAL\n');
    expect(readdirSync(victim)).toEqual(['y']);
  }, 60_000);

  it('3. an output that is another input of the run (x.aspera-env.aspera-env -> x.aspera-env) is refused before any work', async () => {
    const d = folder('names');
    const inner = await seal(Buffer.from('inner plaintext\n'), 'cheap');
    writeFileSync(path.join(d, 'x.aspera-env'), inner);
    writeFileSync(path.join(d, 'x.aspera-env.aspera-env'), await seal(inner, 'cheap'));
    const before = readdirSync(d).sort();
    const r = await aenv(['decrypt', d, '--force', '--remove-source', '--jobs', '2', '--password-file', pw]).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aenv: error: the output of .*x\.aspera-env\.aspera-env would be .*x\.aspera-env, which is another input of this run/);
    expect(r.stderr).toMatch(/aenv: hint: /);
    expect(readdirSync(d).sort()).toEqual(before);
    expect(readFileSync(path.join(d, 'x.aspera-env')).equals(inner)).toBe(true);
  }, 60_000);

  it('4. a password that is not valid UTF-8 (Latin-1 bytes) is a usage error, from the environment and from a file', async () => {
    const d = folder('pw');
    const env = path.join(d, 'z.aspera-env');
    writeFileSync(env, await seal(Buffer.from('z\n'), 'cheap'));
    // Node cannot put bytes that are not UTF-8 into a child's environment; a shell can.
    const viaEnv = spawnSync('sh', ['-c', `ASPERA_SCP_FILEPASS="$(printf 'caf\\351')" exec "$0" "$@"`, process.execPath, BIN, 'decrypt', env, '-o', d], { encoding: 'utf8' });
    expect(viaEnv.status).toBe(2);
    expect(viaEnv.stderr).toMatch(/aenv: error: the password is not valid UTF-8/);
    const latin1 = path.join(d, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const viaFile = spawnSync(process.execPath, [BIN, 'decrypt', env, '-o', d, '--password-file', latin1], { encoding: 'utf8' });
    expect(viaFile.status).toBe(2);
    expect(viaFile.stderr).toMatch(/not valid UTF-8/);
    expect(readdirSync(d)).toEqual(['latin1.txt', 'z.aspera-env']);
  }, 60_000);

  it('5. a walked file replaced by a named pipe after the walk: io-error, no hang; inspect of a pipe does not hang either', async () => {
    const d = folder('fifo', true);
    const first = path.join(d, 'a.aspera-env');
    const second = path.join(d, 'b.aspera-env');
    writeFileSync(first, await seal(Buffer.from('first\n'), 'slow'));
    writeFileSync(second, await seal(Buffer.from('second\n'), 'slow'));
    chmodSync(second, 0o666);
    const att = attacker('fifo', second);
    const run = aenv(['decrypt', d, '-o', folder('fifo-out'), '--jobs', '1', '--json', '--password-file', pw]);
    await waitOpen(run.proc.pid!, first);
    att.go();
    expect(await att.result).toMatch(/^done fifo/);
    const r = await run.done; // a hang would end in the 60 s kill and fail below
    expect(r.code).toBe(1);
    const rows = jsonLines(r.stdout);
    expect(rows.find((x) => x['path'] === first)?.['status']).toBe('ok');
    expect(rows.find((x) => x['path'] === second)).toMatchObject({ status: 'io-error' });
    expect(String(rows.find((x) => x['path'] === second)!['detail'])).toMatch(/named pipe|replaced/);
    expect(lstatSync(second).isFIFO()).toBe(true);
    const inspect = spawnSync(process.execPath, [BIN, 'inspect', second, '--json'], { encoding: 'utf8', timeout: 20_000 });
    expect(inspect.status).toBe(1);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ status: 'io-error', detail: 'not a regular file (a named pipe)' });
  }, 60_000);

  it('6. decrypt - stays linear with 16 MiB chunks: no byte is copied twice however the stream arrives', async () => {
    const plain = randomBytes(48 * 1024 * 1024 + 5);
    const env = await seal(plain, 'cheap', 24);
    const framer = new StreamFramer(2 ** 24, null);
    let pushed = 0;
    for (let pos = 128; pos < env.length; pos += 65536) {
      const piece = env.subarray(pos, Math.min(pos + 65536, env.length));
      framer.push(piece);
      pushed += piece.length;
    }
    framer.end();
    expect(framer.copied).toBeLessThanOrEqual(pushed); // the old decoder copied ~300x this
    const d = folder('stream');
    writeFileSync(path.join(d, 'big.aspera-env'), env);
    const r = spawnSync('sh', ['-c', `"$0" "$1" decrypt - --password-file "$2" < "$3" | sha256sum`, process.execPath, BIN, pw, path.join(d, 'big.aspera-env')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(plain).digest('hex'));
  }, 120_000);

  it('7. --follow-symlinks: a chain of folders with two links each is walked once per folder; links out of the tree write nothing outside', async () => {
    const root = folder('chain');
    const levels = 40; // 2^40 paths if each link were walked: the old walk never finished at ~30
    for (let i = levels; i >= 0; i--) {
      const d = path.join(root, `d${i}`);
      mkdirSync(d);
      if (i < levels) {
        symlinkSync(path.join(root, `d${i + 1}`), path.join(d, 'left'));
        symlinkSync(path.join(root, `d${i + 1}`), path.join(d, 'right'));
      }
    }
    writeFileSync(path.join(root, `d${levels}`, 'deep.aspera-env'), await seal(Buffer.from('deep\n'), 'cheap'));
    const tree = path.join(root, 'd0');
    const out = folder('chain-out');
    const t0 = Date.now();
    const r = await aenv(['decrypt', tree, '-o', out, '--follow-symlinks', '--json', '--password-file', pw]).done;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout).filter((x) => 'path' in x);
    expect(rows).toHaveLength(1);
    expect(readFileSync(String(rows[0]!['output']), 'utf8')).toBe('deep\n');
    expect(realpathSync(String(rows[0]!['output'])).startsWith(realpathSync(out) + path.sep)).toBe(true);

    // In place, an envelope reached through a link to a folder outside the tree: its output
    // would land outside, so it is refused; with -o it lands inside -o.
    const walked = folder('walked');
    const outside = folder('outside');
    writeFileSync(path.join(outside, 'o.aspera-env'), await seal(Buffer.from('outside\n'), 'cheap'));
    symlinkSync(outside, path.join(walked, 'link'));
    const inPlace = await aenv(['decrypt', walked, '--follow-symlinks', '--json', '--password-file', pw]).done;
    expect(inPlace.code).toBe(1);
    expect(jsonLines(inPlace.stdout)[0]).toMatchObject({ status: 'io-error' });
    expect(String(jsonLines(inPlace.stdout)[0]!['detail'])).toMatch(/outside the walked PATH/);
    expect(readdirSync(outside)).toEqual(['o.aspera-env']);
    const toDir = folder('walked-out');
    const withO = await aenv(['decrypt', walked, '-o', toDir, '--follow-symlinks', '--json', '--password-file', pw]).done;
    expect(withO.code).toBe(0);
    expect(readFileSync(path.join(toDir, 'link', 'o'), 'utf8')).toBe('outside\n');
    expect(readdirSync(outside)).toEqual(['o.aspera-env']);
  }, 60_000);

  it('8. a file appended to while encrypt reads it: io-error, nothing committed, the source kept (with --remove-source)', async () => {
    const d = folder('grow', true);
    const src = path.join(d, 'growing.bin');
    writeFileSync(src, randomBytes(32 * 1024 * 1024));
    chmodSync(src, 0o666);
    const att = attacker('append', src, d);
    const r = await aenv(['encrypt', src, '--kdf', 'pbkdf2', '--backend', 'noble', '--remove-source', '--json', '--password-file', pw]).done;
    expect(await att.result).toMatch(/^done appended/);
    const row = jsonLines(r.stdout)[0]!;
    expect(row['status']).toBe('io-error');
    expect(String(row['detail'])).toMatch(/changed while being read/);
    expect(r.code).toBe(1);
    expect(existsSync(`${src}.aspera-env`)).toBe(false);
    expect(existsSync(src)).toBe(true);
    expect(temps(d)).toEqual([]);
  }, 60_000);
});
