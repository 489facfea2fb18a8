// Hostile shared folders (issue 9): another user who can write to a folder aenv works in tries
// to make it commit the wrong file, write somewhere else, delete the wrong file, hang, or seal a
// file that is still changing. Each attack is run for real by a second process
// (test/helpers/attacker.mjs, as user nobody when the tests run as root, as CI does), timed by
// what it can observe (aenv's temporary file appearing) or by what the test observes of aenv
// (its open file descriptors in /proc), never by a fixed sleep; each test fails if the attack
// succeeds. The slow window an attacker needs is the key derivation, whose cost the sender of
// an envelope chooses (here PBKDF2 with 2,000,000 rounds), or a slow payload (--backend noble).
// The attacks on IBM's tool (issue 21) run the stand-in (test/tools/aspera-standin.cjs), which
// opens its -o OUTPUT by name with O_CREAT|O_TRUNC, and waits for the attacker's signal file
// before it writes, so the attack is always in place first.
// The second user runs a copy of Node.js and of its script in a folder it can reach
// (helpers/as-user.ts), so the tests pass wherever the checkout lives; a helper that cannot
// start fails its test at once with the reason.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import type { KdfParams } from '../src/format/kdf-params.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { StreamFramer } from '../src/stream/decoder.js';
import { forUser, NOBODY, type ForUser } from './helpers/as-user.js';
import { getBackend } from './helpers/backends.js';
import { BIN, jsonLines, PASSWORD, passwordFile, ROOT } from './helpers/cli.js';
import { ramTempDir } from './helpers/faults.js';
import { killStandinLeftovers } from './helpers/foreign.js';
import { installStandin, type Standin } from './helpers/standin.js';

const IS_ROOT = process.getuid?.() === 0;
const ATTACKER = path.join(ROOT, 'test/helpers/attacker.mjs');
const SLOW: KdfParams = { kdf: KDF_PBKDF2, p1: 2_000_000, p2: 0, p3: 0 };
const CHEAP: KdfParams = { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 };
const node = getBackend('node');
const keys = new KeyCache(node, passwordBytes(PASSWORD));
const salts = { slow: randomBytes(32), cheap: randomBytes(32) };

let work: { dir: string; cleanup: () => void };
let pw: string;
let n = 0;
/** Where the second user's Node.js and script are (as root); null: this user runs them from the checkout. */
let asNobody: ForUser | null = null;

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
  /** A line on its standard input ("go", "end"). */
  go(): void;
  /** What it printed after "ready". */
  result: Promise<string>;
}

/** Starts the second user's process; resolves once it runs, fails at once with the reason if it cannot start. */
async function attacker(mode: string, ...args: string[]): Promise<Attacker> {
  const p = spawn(asNobody?.node ?? process.execPath, [asNobody?.scripts['attacker.mjs'] ?? ATTACKER, mode, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], ...(asNobody ? { uid: asNobody.uid, gid: asNobody.gid } : {}),
  });
  let out = '';
  let startError: Error | null = null;
  p.on('error', (e) => (startError = e));
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => p.on('close', () => resolve()));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  void closed.then(() => clearTimeout(timer));
  const ready = await Promise.race([
    (async () => {
      while (!/^ready$/m.test(out) && p.exitCode === null && p.signalCode === null && !startError) await new Promise((r) => setTimeout(r, 2));
      return /^ready$/m.test(out);
    })(),
    closed.then(() => /^ready$/m.test(out)),
  ]);
  if (!ready) {
    p.kill('SIGKILL');
    throw new Error(`the attacker (${mode}) did not start: ${startError ? (startError as NodeJS.ErrnoException).code ?? String(startError) : `exit ${p.exitCode}, ${out.trim()}`}`);
  }
  return {
    go: () => p.stdin!.write('go\n'),
    result: closed.then(() => out.replace(/^ready\n/, '').trim()),
  };
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
  proc.on('error', (err) => (stderr += `aenv did not start: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`));
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
  if (IS_ROOT && process.platform === 'linux') asNobody = forUser([ATTACKER]); // throws with the reason if nobody cannot run it
  work = ramTempDir('aenv-hostile-');
  chmodSync(work.dir, 0o755); // the second user must be able to reach the shared folders
  pw = passwordFile(work.dir);
  await keys.master(SLOW, salts.slow); // the tests' own KDFs, once
}, 60_000);
afterAll(() => {
  work?.cleanup();
  asNobody?.cleanup();
});

describe.skipIf(process.platform !== 'linux')('hostile shared folders: each attack runs for real and fails', () => {
  it('1. the temporary file renamed away and replaced: nothing foreign is committed, the envelope is kept, the plaintext is gone', async () => {
    const inbox = folder('inbox', true);
    const plain = randomBytes(24 * 1024 * 1024);
    const env = path.join(inbox, 'report.bin.aspera-env');
    writeFileSync(env, await seal(plain, 'cheap'));
    const att = await attacker('swap-temp', inbox);
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
    const att = await attacker('swap-dir', path.join(kase, 'sub'), victim);
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
    const att = await attacker('swap-dir', path.join(out, 'sub'), victim);
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
    const att = await attacker('fifo', second);
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
    const att = await attacker('append', src, d);
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

describe.skipIf(process.platform !== 'linux' || !IS_ROOT)('IBM\'s tool in folders other users control (issue 21): each attack runs for real as nobody and fails', () => {
  const PLAIN = randomBytes(2_999_984); // the review's plaintext size
  const HASH = createHash('sha256').update(PLAIN).digest('hex');
  let s: Standin;
  let envelope: Buffer;
  let signals: string;

  beforeAll(() => {
    const tools = folder('tools');
    s = installStandin(tools);
    const plain = path.join(tools, 'plain.bin');
    writeFileSync(plain, PLAIN);
    const sealed = path.join(tools, 'plain.bin.aspera-env');
    const r = s.run('asprotect', sealed, plain, PASSWORD);
    if (r.code !== 0) throw new Error(`stand-in asprotect failed: ${r.stderr}`);
    envelope = readFileSync(sealed);
    signals = folder('signals', true); // the attacker's "go" files, which the stand-in waits for
  }, 60_000);
  afterAll(() => killStandinLeftovers(s));

  /**
   * The review's attack: the attacker waits for aenv's entry in `where`, moves it away and plants
   * its own (`how`), holding a descriptor; only then does the stand-in open its -o by name and
   * write. Resolves once aenv is done and the attacker has read all it can.
   */
  async function stealDuring(where: string, how: 'file' | 'link', name: string, args: string[], opts: { victim?: string; env?: Record<string, string> } = {}) {
    const go = path.join(signals, `go-${n++}`);
    s.setRules([{ match: 'steal-*', mode: 'ok', waitFor: go }]);
    const att = await attacker('steal', where, name, go, how, ...(opts.victim ? [opts.victim] : []));
    const r = await aenv([...args, '--json', '--asunprotect', s.asunprotect, '--password-file', pw], opts.env).done;
    att.go(); // "end"
    const said = await att.result;
    const m = /^done read=(\d+) sha256=([0-9a-f]+) listed=(\S+) planted-in=(\S+)$/.exec(said);
    expect(m, said).not.toBeNull();
    console.log(`[measure] ${where}: the attacker read ${m![1]} bytes (plaintext ${PLAIN.length}); listing aenv's folder: ${m![3]}`);
    return { r, rows: jsonLines(r.stdout), read: Number(m![1]), sha: m![2], listed: m![3], planted: m![4] };
  }

  /** Temporary-looking names left in `d` that are aenv's (root's): none may be. */
  const aenvLeftovers = (d: string): string[] => temps(d).filter((t) => lstatSync(path.join(d, t)).uid !== NOBODY);

  it('1. a group-writable inbox without the sticky bit: the planted file gets 0 bytes, aenv\'s folder cannot be listed, the output is committed', async () => {
    const inbox = folder('group-inbox');
    chownSync(inbox, 0, NOBODY);
    chmodSync(inbox, 0o770); // nobody's group may rename names in it
    const env = path.join(inbox, 'steal-a.bin.aspera-env');
    writeFileSync(env, envelope);
    const a = await stealDuring(inbox, 'file', 'steal-a.bin', ['decrypt', env]);
    expect(a.planted).toBe('folder'); // aenv's entry is a private folder, not a file the tool writes by name
    expect(a.read).toBe(0);
    expect(a.listed).toBe('EACCES');
    expect(a.rows[0], JSON.stringify(a.rows[0])).toMatchObject({ status: 'ok', via: 'asunprotect', bytes: PLAIN.length });
    expect(String(a.rows[0]!['warning'])).toMatch(/other users can write to .*group-inbox/);
    const out = path.join(inbox, 'steal-a.bin');
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(HASH);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(aenvLeftovers(inbox)).toEqual([]);
    expect(existsSync(path.join(inbox, 'moved-away.partial'))).toBe(false); // aenv's folder went from where it was moved
  }, 60_000);

  it('2. an -o folder the attacker owns inside the temporary folder: the planted file gets 0 bytes, nothing outside the output is written', async () => {
    const o = mkdtempSync(path.join(tmpdir(), 'aenv-attacker-owned-'));
    try {
      chownSync(o, NOBODY, NOBODY);
      chmodSync(o, 0o755); // the attacker's own folder: it may rename anything in it
      const src = folder('src');
      const env = path.join(src, 'steal-b.bin.aspera-env');
      writeFileSync(env, envelope);
      const a = await stealDuring(o, 'file', 'steal-b.bin', ['decrypt', env, '-o', o]);
      expect(a.read).toBe(0);
      expect(a.listed).toBe('EACCES');
      expect(a.rows[0], JSON.stringify(a.rows[0])).toMatchObject({ status: 'ok', bytes: PLAIN.length });
      expect(String(a.rows[0]!['warning'])).toMatch(/other users can write to .*aenv-attacker-owned-/);
      expect(createHash('sha256').update(readFileSync(path.join(o, 'steal-b.bin'))).digest('hex')).toBe(HASH);
      expect(aenvLeftovers(o)).toEqual([]);
      expect(readdirSync(src)).toEqual(['steal-b.bin.aspera-env']);
    } finally {
      rmSync(o, { recursive: true, force: true });
    }
  }, 60_000);

  it('3. a symbolic link planted under the name, to a root-owned file: the file is untouched, nothing is written through the link', async () => {
    const inbox = folder('link-inbox', true);
    const env = path.join(inbox, 'steal-c.bin.aspera-env');
    writeFileSync(env, envelope);
    const victims = folder('victims');
    const victim = path.join(victims, 'steal-c.bin'); // the name the tool would write in a planted folder, too
    writeFileSync(victim, 'ROOT-OWNED ORIGINAL\n');
    chmodSync(victim, 0o644);
    const a = await stealDuring(inbox, 'link', 'steal-c.bin', ['decrypt', env], { victim });
    expect(a.read).toBe(0);
    expect(a.rows[0], JSON.stringify(a.rows[0])).toMatchObject({ status: 'ok', bytes: PLAIN.length });
    expect(readFileSync(victim, 'utf8')).toBe('ROOT-OWNED ORIGINAL\n');
    expect(readdirSync(victims)).toEqual(['steal-c.bin']);
    expect(createHash('sha256').update(readFileSync(path.join(inbox, 'steal-c.bin'))).digest('hex')).toBe(HASH);
    expect(aenvLeftovers(inbox)).toEqual([]);
  }, 60_000);

  it('4. verify with a temporary folder everyone can write to: the planted file gets 0 bytes, nothing of aenv\'s is left there', async () => {
    const shared = folder('shared-tmp', true);
    const src = folder('verify-src');
    const env = path.join(src, 'steal-d.bin.aspera-env');
    writeFileSync(env, envelope);
    const a = await stealDuring(shared, 'file', 'verify', ['verify', env], { env: { TMPDIR: shared } });
    expect(a.read).toBe(0);
    expect(a.listed).toBe('EACCES');
    expect(a.rows[0], JSON.stringify(a.rows[0])).toMatchObject({ status: 'ok', via: 'asunprotect', detail: 'opened by asunprotect; plaintext discarded' });
    expect(aenvLeftovers(shared)).toEqual([]);
    expect(readdirSync(shared).filter((x) => lstatSync(path.join(shared, x)).uid !== NOBODY)).toEqual([]);
  }, 60_000);

  it('5. unattacked, in an inbox everyone can write to (no sticky bit): the decrypt commits, and warns', async () => {
    const inbox = folder('open-inbox', true);
    s.setRules([]);
    const env = path.join(inbox, 'plain.bin.aspera-env');
    writeFileSync(env, envelope);
    const r = await aenv(['decrypt', inbox, '--json', '--asunprotect', s.asunprotect, '--password-file', pw]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 'ok', via: 'asunprotect', bytes: PLAIN.length });
    expect(String(jsonLines(r.stdout)[0]!['warning'])).toMatch(/other users can write to .*open-inbox/);
    expect(readdirSync(inbox).sort()).toEqual(['plain.bin', 'plain.bin.aspera-env']);
  }, 60_000);

  it('6. 60 plaintexts dropped into an inbox, 8 listed passwords, --kdf-budget 2: each tried once (the tool says "not its format"), the run stops within its budget', async () => {
    const inbox = folder('flood-inbox', true);
    const att = await attacker('flood', inbox, '60');
    expect(await att.result).toBe('done flood 60');
    const log = path.join(folder('log'), 'calls.log');
    const list = path.join(work.dir, `list-${n++}.txt`);
    writeFileSync(list, ['pw one', 'pw two', 'pw three', 'pw four', 'pw five', 'pw six', 'pw seven', PASSWORD].join('\n') + '\n');
    // one run of the tool on this machine now, for the bound on the overshoot below
    const t1 = performance.now();
    s.run('asunprotect', path.join(work.dir, `probe-${n++}`), path.join(inbox, 'note-000.txt.aspera-env'), 'pw');
    const oneRun = (performance.now() - t1) / 1000;
    s.setRules([], log);
    const t0 = performance.now();
    const r = await aenv(['decrypt', inbox, '--json', '--password-list', list, '--kdf-budget', '2', '--asunprotect', s.asunprotect]).done;
    const wall = (performance.now() - t0) / 1000;
    s.setRules([]);
    expect(r.code, r.stderr).toBe(1);
    const rows = jsonLines(r.stdout).filter((x) => 'path' in x);
    expect(rows).toHaveLength(60);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(new Set(calls).size).toBe(calls.length); // no file was tried twice
    const tried = rows.filter((x) => x['status'] === 'tool-error');
    const stopped = rows.filter((x) => x['status'] === 'unsupported');
    expect(tried.length + stopped.length).toBe(60);
    expect(tried.length).toBe(calls.length);
    for (const x of tried) expect(String(x['detail'])).toMatch(/not an Aspera envelope; not tried with the other 7 passwords: the tool says the file is not its format$/);
    let spent = 0;
    for (const x of stopped) {
      const m = /^key-derivation budget used up \((\d+\.\d) s on 0 derivations and (\d+) runs of IBM's tool\): not tried$/.exec(String(x['detail']));
      expect(m, String(x['detail'])).not.toBeNull();
      spent = Number(m![1]);
    }
    if (stopped.length > 0) {
      expect(spent).toBeGreaterThanOrEqual(2);
      expect(spent).toBeLessThan(2 + 2 * Math.max(1, 3 * oneRun)); // at most one run of the tool per job (2 here) past the budget
    }
    console.log(`[measure] 60 files x 8 passwords, --kdf-budget 2: ${calls.length} tool runs (not 480), ${stopped.length} files not tried (budget), tool time charged ${spent || '<2'} s, aenv wall ${wall.toFixed(1)} s (one run of the tool alone: ${oneRun.toFixed(2)} s)`);
  }, 120_000);
});

describe.skipIf(process.platform !== 'linux' || !IS_ROOT)('a tool other users could change (issue 21): refused before the password is handed over', () => {
  let stolen: string;
  beforeAll(() => {
    stolen = path.join(folder('loot', true), 'password');
  });

  /** A copy of the stand-in in a fresh folder, set up by `prepare`, then replaced by the attacker. */
  async function planted(prepare: (dir: string, tool: string) => void): Promise<{ tool: string; dir: string }> {
    const dir = folder('bad-tools');
    const s = installStandin(dir);
    prepare(dir, s.asunprotect);
    const att = await attacker('replace-tool', s.asunprotect, asNobody!.node, stolen);
    expect(await att.result).toMatch(/^done replaced/);
    return { tool: s.asunprotect, dir };
  }

  const run = async (tool: { tool: string; dir: string }, viaPath: boolean) => {
    const src = folder('tool-src');
    writeFileSync(path.join(src, 'x.bin.aspera-env'), 'a foreign envelope\n');
    return aenv(['decrypt', src, '-o', folder('tool-out'), '--json', '--password-file', pw, ...(viaPath ? [] : ['--asunprotect', tool.tool])],
      viaPath ? { PATH: `${tool.dir}:/usr/bin:/bin`, AENV_ASUNPROTECT: '' } : {}).done;
  };

  it('in a folder everyone can write to: named by flag, a usage error (exit 2); found on PATH, the file fails (refused); the password never reaches the planted program', async () => {
    const t = await planted((dir) => chmodSync(dir, 0o777));
    const flag = await run(t, false);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(`aenv: error: refusing to run IBM's asunprotect ${t.tool} (from --asunprotect): ${t.dir} is writable by all users (mode 0777, no sticky bit)`);
    expect(flag.stderr).toMatch(/^aenv: hint: /m);
    const found = await run(t, true);
    expect(found.code).toBe(1);
    expect(jsonLines(found.stdout)[0]).toMatchObject({ status: 'tool-error', tool_outcome: 'refused', tool_exit: null });
    expect(String(jsonLines(found.stdout)[0]!['detail'])).toBe(`refusing to run ${t.tool} (found on PATH): ${t.dir} is writable by all users (mode 0777, no sticky bit)`);
    expect(existsSync(stolen)).toBe(false);
  }, 60_000);

  it('a tool file everyone can write to, and one that belongs to another user: refused', async () => {
    const writable = await planted((_d, tool) => chmodSync(tool, 0o777));
    const a = await run(writable, false);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(`${writable.tool} is writable by all users (mode 0777)`);
    const owned = await planted((_d, tool) => chownSync(tool, NOBODY, NOBODY));
    const b = await run(owned, false);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${owned.tool} belongs to another user (uid ${NOBODY})`);
    expect(existsSync(stolen)).toBe(false);
  }, 60_000);
});
