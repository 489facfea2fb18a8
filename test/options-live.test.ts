// Every option in the table (src/cli/options.ts, COMMANDS) changes what its command does: for each
// command and each of its options there is a scenario that runs the real CLI on real files with
// and without the option (or with another value) and asserts the difference a user would see. An
// option added to the table without a scenario fails here ("a flag that changes nothing is a
// bug"): this is the test that would have caught `decrypt --check-digest`, which was declared,
// documented and read by nothing.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../src/cli/options.js';
import { aenv, aenvAsync, BIN, jsonLines, PASSWORD, passwordFile, tempDir, type RunOptions, type RunResult } from './helpers/cli.js';
import { noToolEnv, processes, sealForeign } from './helpers/foreign.js';
import { IS_ROOT } from './helpers/faults.js';
import { mountDrive, type Drive } from './helpers/mounts.js';
import { installStandin, type Standin } from './helpers/standin.js';

vi.setConfig({ testTimeout: 60_000 });

const tmp = tempDir('aenv-options-');
let s: Standin;
/** The fixtures (read only: each scenario copies what it changes into its own folder). */
let F: {
  pw: string; pw2: string; list: string;
  /** Three envelopes sealed in one run with PASSWORD: a.txt, b.txt, sub/c.txt. */
  tree: string;
  /** other.txt.aspera-env, sealed with the second password. */
  other: string;
  /** x.txt.aspera-env, sealed with PASSWORD in another run (another salt). */
  salt2: string;
  /** 3 MiB of plaintext, its envelope, and a copy whose trailer digest is damaged. */
  bigPlain: string; big: string; bigBad: string;
  /** Envelopes sealed by the stand-in for IBM's asprotect: f1..f4.txt.aspera-env; and their plaintexts, f1..f4.bin. */
  foreign: string; blobs: string;
  plain: string;
};

const PW2 = 'the second password';
const q = (x: string): string => `'${x.replace(/'/g, `'\\''`)}'`;

beforeAll(() => {
  const d = tmp.dir;
  mkdirSync(path.join(d, 'standin'));
  s = installStandin(path.join(d, 'standin'));
  const pw = passwordFile(d);
  const pw2 = path.join(d, 'pw2.txt');
  writeFileSync(pw2, `${PW2}\n`);
  const list = path.join(d, 'list.txt');
  writeFileSync(list, `${PASSWORD}\n${PW2}\n`);
  const plain = path.join(d, 'plain');
  mkdirSync(path.join(plain, 'sub'), { recursive: true });
  writeFileSync(path.join(plain, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(plain, 'b.txt'), 'bravo\n');
  writeFileSync(path.join(plain, 'sub', 'c.txt'), 'charlie\n');
  const seal = (args: string[], pwFile = pw): void => {
    const r = aenv(['encrypt', ...args, '--kdf', 'pbkdf2', '--password-file', pwFile, '-q']);
    expect(r.code, r.stderr).toBe(0);
  };
  const tree = path.join(d, 'tree');
  seal([plain, '-o', tree]);
  const other = path.join(d, 'other');
  mkdirSync(other);
  writeFileSync(path.join(other, 'other.txt'), 'other\n');
  seal([path.join(other, 'other.txt'), '--remove-source'], pw2);
  const salt2 = path.join(d, 'salt2');
  mkdirSync(salt2);
  writeFileSync(path.join(salt2, 'x.txt'), 'x-ray\n');
  seal([path.join(salt2, 'x.txt'), '--remove-source']);
  const bigDir = path.join(d, 'big');
  mkdirSync(bigDir);
  const bigPlain = path.join(bigDir, 'big.bin');
  writeFileSync(bigPlain, Buffer.alloc(3 * 1024 * 1024 + 123, 7));
  seal([bigPlain]);
  const big = `${bigPlain}.aspera-env`;
  const bad = readFileSync(big);
  bad[bad.length - 1]! ^= 1;
  const bigBad = path.join(bigDir, 'bad.bin.aspera-env');
  writeFileSync(bigBad, bad);
  const foreign = path.join(d, 'foreign');
  const blobs = path.join(d, 'blobs');
  mkdirSync(blobs);
  for (const n of [1, 2, 3, 4]) {
    writeFileSync(path.join(blobs, `f${n}.bin`), Buffer.alloc(40 * 1024, n));
    sealForeign(s, Buffer.alloc(40 * 1024, n), path.join(foreign, `f${n}.txt.aspera-env`), PASSWORD);
  }
  F = { pw, pw2, list, tree, other, salt2, bigPlain, big, bigBad, foreign, blobs, plain };
}, 120_000);
afterAll(() => {
  s?.cleanup();
  tmp.cleanup();
});

/** A fresh folder for one scenario, with copies of `what` (fixture folders) in it. */
function work(...what: string[]): { dir: string; run: (args: string[], o?: RunOptions) => RunResult; at: (...p: string[]) => string } {
  const dir = mkdtempSync(path.join(tmp.dir, 'w-'));
  for (const w of what) cpSync(w, path.join(dir, path.basename(w)), { recursive: true });
  return { dir, run: (args, o = {}) => aenv(args, { cwd: dir, ...o }), at: (...p) => path.join(dir, ...p) };
}

const rows = (r: RunResult): Record<string, unknown>[] => jsonLines(r.stdout).filter((x) => !('summary' in x) && !('passed_over' in x));
const summary = (r: RunResult): Record<string, unknown> => jsonLines(r.stdout).find((x) => 'summary' in x)!['summary'] as Record<string, unknown>;
const byName = (r: RunResult): Record<string, Record<string, unknown>> => Object.fromEntries(rows(r).map((x) => [path.basename(String(x['path'])), x]));
const isJson = (text: string): boolean => text.trim() !== '' && text.trim().split('\n').every((l) => { try { JSON.parse(l); return true; } catch { return false; } });

/** Runs aenv and counts the most child processes it had at once (IBM's tool runs as its child, one per file). */
async function mostTools(args: string[], cwd: string): Promise<{ most: number; code: number | null }> {
  const p = aenvAsync(args, { cwd, env: noToolEnv(tmp.dir) });
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, processes().filter((x) => x.ppid === p.pid).length);
  }, 15);
  p.stdout.resume();
  p.stderr.resume();
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  clearInterval(timer);
  return { most, code };
}

/** Runs aenv on a pseudo-terminal (util-linux `script`), typing `answer` at a password prompt; returns what the screen showed. */
function onTty(args: string[], cwd: string, answer?: string): Promise<{ code: number | null; screen: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env['ASPERA_SCP_FILEPASS'];
  const p = spawn('script', ['-qfec', `${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')}`, '/dev/null'], { env, cwd });
  let screen = '';
  let typed = false;
  p.stdout.on('data', (b: Buffer) => {
    screen += b.toString();
    if (answer !== undefined && !typed && screen.includes('Password')) {
      typed = true;
      setTimeout(() => p.stdin.write(`${answer}\r`), 200);
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

const PROGRESS = /(decrypt|verify|encrypt)[^\n]* \d+\/\d+ files /;

/** The password, as most scenarios pass it. */
const P = (): string[] => ['--password-file', F.pw];

// ------------------------------------------------------------------ options several commands share

/** decrypt, verify and encrypt: the same options, the same difference. */
const shared = (cmd: 'decrypt' | 'verify' | 'encrypt') => {
  const input = cmd === 'encrypt' ? (): string => F.plain : (): string => F.tree;
  const name = cmd === 'encrypt' ? 'plain' : 'tree';
  const out = cmd === 'verify' ? [] : ['-o', 'out'];
  const pass = (): string[] => (cmd === 'encrypt' ? ['--kdf', 'pbkdf2', ...P()] : P());
  return {
    json: () => {
      const w = work(input());
      const human = w.run([cmd, name, ...out, ...pass()]);
      const json = w.run([cmd, name, ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--json']);
      expect(human.code, human.stderr).toBe(0);
      expect(isJson(human.stdout)).toBe(false);
      expect(isJson(json.stdout)).toBe(true);
      expect(summary(json)).toMatchObject({ ok: 3, failed: 0 });
    },
    quiet: () => {
      const w = work(input());
      const loud = w.run([cmd, name, ...out, ...pass()]);
      const quiet = w.run([cmd, name, ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--quiet']);
      expect([loud.code, quiet.code]).toEqual([0, 0]);
      expect(loud.stdout).toMatch(/^ok /m);
      expect(loud.stderr).toMatch(/all ok/);
      expect(quiet.stdout).toBe('');
      // failures (none here) and the one summary line (issue 22)
      expect(quiet.stderr).toMatch(new RegExp(`^${cmd}: 3 files, [^\\n]*: 3 ok\\n$`));
    },
    verbose: () => {
      {
        // What the walk passed over: counted, named with -v (issue 20)
        const w = work();
        mkdirSync(w.at('in'));
        const target = cmd === 'encrypt' ? path.join(F.plain, 'a.txt') : path.join(F.tree, 'a.txt.aspera-env');
        cpSync(target, w.at('in', path.basename(target)));
        symlinkSync(target, w.at('in', cmd === 'encrypt' ? 'l.txt' : 'l.txt.aspera-env'));
        const plain = w.run([cmd, 'in', ...out, ...pass()]);
        const verbose = w.run([cmd, 'in', ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '-v']);
        expect([plain.code, verbose.code]).toEqual([0, 0]);
        expect(plain.stderr).toMatch(/passed over \(not taken\): 1 symbolic link; --follow-symlinks follows links; -v names each/);
        expect(plain.stderr).not.toMatch(/^passed over +in\/l\.txt/m);
        expect(verbose.stderr).toMatch(/^passed over +in\/l\.txt(\.aspera-env)?: symbolic link, not followed/m);
      }
      // Skipped files (decrypt, encrypt run again) and the wrong-password files of a batch after
      // its first (verify with another password) are counted, not listed, unless -v (issue 22).
      const w = work(input());
      if (cmd === 'verify') {
        const plain = w.run([cmd, name, '--password-file', F.pw2]);
        const verbose = w.run([cmd, name, '--password-file', F.pw2, '-v']);
        expect([plain.code, verbose.code]).toEqual([1, 1]);
        expect(plain.stderr.match(/^wrong-password /gm)).toHaveLength(1);
        expect(plain.stderr).toMatch(/wrong-password: 2 more files of batch [0-9a-f]{16} not listed/);
        expect(verbose.stderr.match(/^wrong-password /gm)).toHaveLength(3);
        return;
      }
      expect(w.run([cmd, name, ...out, ...pass()]).code).toBe(0);
      const again = w.run([cmd, name, ...out, ...pass(), '--skip-existing']);
      const verbose = w.run([cmd, name, ...out, ...pass(), '--skip-existing', '-v']);
      expect([again.code, verbose.code]).toEqual([0, 0]);
      expect(again.stdout).toBe('');
      expect(again.stderr).toMatch(/^ +skipped +3$/m);
      expect(verbose.stdout.match(/^skipped /gm)).toHaveLength(3);
    },
    extension: () => {
      const w = work();
      mkdirSync(w.at('in'));
      if (cmd === 'encrypt') writeFileSync(w.at('in', 'a.txt'), 'alpha\n');
      else cpSync(path.join(F.tree, 'a.txt.aspera-env'), w.at('in', 'a.txt.enc'));
      const dflt = w.run([cmd, 'in', ...pass(), '--json']);
      const ext = w.run([cmd, 'in', ...pass(), '--json', '--extension', '.enc']);
      expect(ext.code, ext.stderr).toBe(0);
      if (cmd === 'encrypt') {
        expect(existsSync(w.at('in', 'a.txt.enc'))).toBe(true);
        expect(existsSync(w.at('in', 'a.txt.aspera-env'))).toBe(true); // the default run's
      } else {
        expect(dflt.code).toBe(2);
        expect(dflt.stderr).toMatch(/no files ending in \.aspera-env/);
        expect(rows(ext)).toHaveLength(1);
      }
    },
    'follow-symlinks': () => {
      const w = work();
      mkdirSync(w.at('in'));
      const target = cmd === 'encrypt' ? path.join(F.plain, 'a.txt') : path.join(F.tree, 'a.txt.aspera-env');
      symlinkSync(target, w.at('in', cmd === 'encrypt' ? 'l.txt' : 'l.txt.aspera-env'));
      writeFileSync(w.at('in', cmd === 'encrypt' ? 'own.txt' : 'own.aspera-env'), 'not an envelope\n');
      const without = w.run([cmd, 'in', ...out, ...pass(), '--json']);
      const withLinks = w.run([cmd, 'in', ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--json', '--follow-symlinks']);
      expect(rows(without).map((x) => path.basename(String(x['path'])))).not.toContain(cmd === 'encrypt' ? 'l.txt' : 'l.txt.aspera-env');
      expect(byName(withLinks)[cmd === 'encrypt' ? 'l.txt' : 'l.txt.aspera-env']).toMatchObject({ status: 'ok' });
    },
    'password-file': () => {
      const w = work(input());
      const without = w.run([cmd, name, ...out, ...(cmd === 'encrypt' ? ['--kdf', 'pbkdf2'] : []), '--json']);
      const given = w.run([cmd, name, ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--json']);
      expect(given.code, given.stderr).toBe(0);
      if (cmd === 'verify') {
        expect(summary(without)['verify']).toBe('passwordless');
        expect(summary(given)['verify']).toBe('keyed');
      } else {
        expect(without.code).toBe(2);
        expect(without.stderr).toMatch(/needs a password/);
      }
    },
    progress: async () => {
      const w = work(input());
      const shown = await onTty([cmd, name, ...out, ...pass()], w.dir);
      const hidden = await onTty([cmd, name, ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--no-progress'], w.dir);
      expect([shown.code, hidden.code], shown.screen + hidden.screen).toEqual([0, 0]);
      expect(shown.screen).toMatch(PROGRESS);
      expect(hidden.screen).not.toMatch(PROGRESS);
    },
    backend: () => {
      // node (OpenSSL) opens and seals the chunks of a large file on worker threads; the pure-JS
      // cross-check stays on the calling thread (and so decrypt has the core to check the digest).
      const w = work(path.dirname(F.big));
      const args = cmd === 'encrypt' ? [cmd, 'big/big.bin', '-o', 'o', '--kdf', 'pbkdf2', ...P()] : [cmd, 'big/big.bin.aspera-env', ...out, ...P()];
      const node = w.run([...args, '--json'], { env: { NODE_DEBUG: 'worker' } });
      const noble = w.run([...args.map((x) => (x === 'o' || x === 'out' ? `${x}-noble` : x)), '--json', '--backend', 'noble'], { env: { NODE_DEBUG: 'worker' } });
      expect([node.code, noble.code], node.stderr + noble.stderr).toEqual([0, 0]);
      expect(node.stderr).toMatch(/^WORKER \d+: .*instantiat/m);
      expect(noble.stderr).not.toMatch(/^WORKER /m);
    },
    jobs: async () => {
      // Each of four envelopes for IBM's tool takes the (slow) stand-in about a second: with
      // --jobs 1 one tool runs at a time, with --jobs 3 several.
      s.setRules([{ match: '*', mode: 'slow', chunk: 8 * 1024, intervalMs: 150 }]);
      try {
        const w = work(cmd === 'encrypt' ? F.blobs : F.foreign);
        const src = cmd === 'encrypt' ? 'blobs' : 'foreign';
        const tool = cmd === 'encrypt' ? ['--format', 'ibm', '--asprotect', s.asprotect] : ['--asunprotect', s.asunprotect];
        const args = (o: string) => [cmd, src, ...(cmd === 'verify' ? [] : ['-o', o]), ...tool, ...P(), '-q'];
        const one = await mostTools([...args('o1'), '--jobs', '1'], w.dir);
        const three = await mostTools([...args('o3'), '--jobs', '3'], w.dir);
        expect([one.code, three.code]).toEqual([0, 0]);
        expect(one.most).toBe(1);
        expect(three.most).toBeGreaterThan(1);
      } finally {
        s.setRules([]);
      }
    },
    'files-from': () => {
      const w = work(input());
      const first = cmd === 'encrypt' ? 'plain/a.txt' : 'tree/a.txt.aspera-env';
      const second = cmd === 'encrypt' ? 'plain/b.txt' : 'tree/b.txt.aspera-env';
      writeFileSync(w.at('list'), `${second}\n`);
      const without = w.run([cmd, first, ...out, ...pass(), '--json']);
      const listed = w.run([cmd, first, ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--json', '--files-from', 'list']);
      expect(rows(without)).toHaveLength(1);
      expect(rows(listed)).toHaveLength(2);
    },
    null: () => {
      const w = work(input());
      const files = cmd === 'encrypt' ? ['plain/a.txt', 'plain/b.txt'] : ['tree/a.txt.aspera-env', 'tree/b.txt.aspera-env'];
      writeFileSync(w.at('list0'), files.map((f) => `${f}\0`).join(''));
      const lines = w.run([cmd, '--files-from', 'list0', ...out, ...pass(), '--json']);
      const nul = w.run([cmd, '--files-from', 'list0', ...(cmd === 'verify' ? [] : ['-o', 'out2']), ...pass(), '--json', '-0']);
      expect(nul.code, nul.stderr).toBe(0);
      expect(rows(nul).filter((x) => x['status'] === 'ok')).toHaveLength(2);
      expect(rows(lines).filter((x) => x['status'] === 'ok')).toHaveLength(0);
    },
    shard: () => {
      const w = work(input());
      const whole = rows(w.run([cmd, name, ...out, ...pass(), '--json']));
      const parts = [1, 2].map((k) => rows(w.run([cmd, name, ...(cmd === 'verify' ? [] : ['-o', `out-${k}`]), ...pass(), '--json', '--shard', `${k}/2`])));
      expect(whole).toHaveLength(3);
      expect(parts[0]!.length + parts[1]!.length).toBe(3);
      expect(Math.min(parts[0]!.length, parts[1]!.length)).toBeLessThan(3);
    },
  };
};

/** decrypt and encrypt: where outputs go and what happens to existing ones and to the inputs. */
const writing = (cmd: 'decrypt' | 'encrypt') => {
  const src = cmd === 'encrypt' ? (): string => F.plain : (): string => F.tree;
  const name = cmd === 'encrypt' ? 'plain' : 'tree';
  const pass = (): string[] => (cmd === 'encrypt' ? ['--kdf', 'pbkdf2', ...P()] : P());
  const outName = cmd === 'encrypt' ? 'a.txt.aspera-env' : 'a.txt';
  const inName = cmd === 'encrypt' ? 'a.txt' : 'a.txt.aspera-env';
  return {
    output: () => {
      const w = work(src());
      const beside = w.run([cmd, `${name}/${inName}`, ...pass()]);
      const under = w.run([cmd, `${name}/b${inName.slice(1)}`, ...pass(), '--output', 'out']);
      expect([beside.code, under.code]).toEqual([0, 0]);
      expect(existsSync(w.at(name, outName))).toBe(true);
      expect(existsSync(w.at('out', `b${outName.slice(1)}`))).toBe(true);
      expect(existsSync(w.at(name, `b${outName.slice(1)}`))).toBe(false);
    },
    force: () => {
      const w = work(src());
      mkdirSync(w.at('out'));
      writeFileSync(w.at('out', outName), 'older\n');
      const without = w.run([cmd, `${name}/${inName}`, '-o', 'out', ...pass(), '--json']);
      expect(without.code).toBe(1);
      expect(rows(without)[0]).toMatchObject({ status: 'exists' });
      expect(readFileSync(w.at('out', outName), 'utf8')).toBe('older\n');
      const forced = w.run([cmd, `${name}/${inName}`, '-o', 'out', ...pass(), '--json', '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(readFileSync(w.at('out', outName), 'utf8')).not.toBe('older\n');
    },
    'skip-existing': () => {
      const w = work(src());
      mkdirSync(w.at('out'));
      writeFileSync(w.at('out', outName), 'older\n');
      const without = w.run([cmd, `${name}/${inName}`, '-o', 'out', ...pass(), '--json']);
      const skip = w.run([cmd, `${name}/${inName}`, '-o', 'out', ...pass(), '--json', '--skip-existing']);
      expect([without.code, skip.code]).toEqual([1, 0]);
      expect(rows(skip)[0]).toMatchObject({ status: 'skipped' });
    },
    'remove-source': () => {
      const w = work(src());
      const keep = w.run([cmd, `${name}/${inName}`, '-o', 'out', ...pass()]);
      expect(existsSync(w.at(name, inName))).toBe(true);
      const remove = w.run([cmd, `${name}/${inName}`, '-o', 'out2', ...pass(), '--remove-source']);
      expect([keep.code, remove.code]).toEqual([0, 0]);
      expect(existsSync(w.at(name, inName))).toBe(false);
      expect(existsSync(w.at('out2', outName))).toBe(true);
    },
    'portable-names': () => {
      // A name the output drive cannot hold: without the flag the file fails (bad-name) and nothing
      // is written; with it the output is written under a name the drive holds, and the row says
      // from what. decrypt: "a:b.txt" onto a real FAT32 drive (fusefat; root, as CI); encrypt: a
      // 254-byte name, whose envelope's name (265 bytes) no Linux file system holds.
      const w = work();
      mkdirSync(w.at('plain'));
      const plainName = cmd === 'encrypt' ? `${'n'.repeat(250)}.txt` : 'a:b.txt';
      writeFileSync(w.at('plain', plainName), 'portable\n');
      let drive: Drive | null = null;
      try {
        let input = `plain/${plainName}`;
        let out = w.at('out');
        if (cmd === 'decrypt') {
          expect(w.run(['encrypt', input, '--kdf', 'pbkdf2', ...P(), '-q']).code).toBe(0);
          input += '.aspera-env';
          drive = mountDrive('fat', 40);
          out = path.join(drive.dir, 'out');
        }
        const without = w.run([cmd, input, '-o', out, ...pass(), '--json']);
        expect(without.code).toBe(1);
        expect(rows(without)[0]).toMatchObject({ status: 'bad-name' });
        expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
        const mapped = w.run([cmd, input, '-o', out, ...pass(), '--json', '--portable-names']);
        expect(mapped.code, mapped.stderr).toBe(0);
        const row = rows(mapped)[0]!;
        const planned = cmd === 'encrypt' ? `${plainName}.aspera-env` : plainName;
        expect(row).toMatchObject({ status: 'ok', renamed_from: path.join(out, planned), rename_reason: expect.any(String) });
        expect(summary(mapped)).toMatchObject({ renamed: 1 });
        const written = String(row['output']);
        expect(readdirSync(out)).toEqual([path.basename(written)]);
        if (cmd === 'decrypt') {
          expect(path.basename(written)).toBe('a%3Ab.txt');
          expect(readFileSync(written, 'utf8')).toBe('portable\n');
        } else {
          expect(Buffer.byteLength(path.basename(written))).toBeLessThanOrEqual(255);
          expect(w.run(['decrypt', '-', ...P()], { input: readFileSync(written) }).stdout).toBe('portable\n');
        }
      } finally {
        drive?.unmount();
      }
    },
  };
};

/** decrypt and verify: how files are opened (passwords, the key-derivation budget, IBM's tool). */
const opening = (cmd: 'decrypt' | 'verify') => {
  const out = (o: string): string[] => (cmd === 'decrypt' ? ['-o', o] : []);
  return {
    'password-list': () => {
      const w = work(F.tree, F.other);
      const one = w.run([cmd, 'tree', 'other', ...out('o1'), ...P(), '--json']);
      const list = w.run([cmd, 'tree', 'other', ...out('o2'), '--password-list', F.list, '--json']);
      expect(byName(one)['other.txt.aspera-env']).toMatchObject({ status: 'wrong-password' });
      expect(byName(list)['other.txt.aspera-env']).toMatchObject({ status: 'ok', password: 2 });
      expect(list.code, list.stderr).toBe(0);
    },
    'kdf-budget': () => {
      // Two batches (two salts): the second key derivation starts only within the budget.
      const w = work(F.tree, F.salt2);
      const args = [cmd, 'tree/a.txt.aspera-env', 'salt2', ...P(), '--json', '--jobs', '1'];
      const free = w.run([...args, ...out('o1')]);
      const tight = w.run([...args, ...out('o2'), '--kdf-budget', '0.001']);
      expect(free.code, free.stderr).toBe(0);
      expect(tight.code).toBe(1);
      expect(byName(tight)['x.txt.aspera-env']).toMatchObject({ status: 'unsupported', detail: expect.stringMatching(/budget/) });
    },
    asunprotect: () => {
      const w = work(F.foreign);
      const env = noToolEnv(tmp.dir);
      const without = w.run([cmd, 'foreign/f1.txt.aspera-env', ...out('o1'), ...P(), '--json'], { env });
      const tool = w.run([cmd, 'foreign/f1.txt.aspera-env', ...out('o2'), ...P(), '--json', '--asunprotect', s.asunprotect], { env });
      expect(rows(without)[0]).toMatchObject({ status: 'not-envelope' });
      expect(rows(tool)[0]).toMatchObject({ status: 'ok', via: 'asunprotect' });
    },
    'tool-timeout': () => {
      // The stand-in writes a little every 1.5 s: within the default 60 s window it finishes;
      // with --tool-timeout 1 it is stopped as stalled.
      s.setRules([{ match: '*', mode: 'slow', chunk: 16 * 1024, intervalMs: 1500 }]);
      try {
        const w = work(F.foreign);
        const args = [cmd, 'foreign/f1.txt.aspera-env', ...P(), '--json', '--asunprotect', s.asunprotect];
        const patient = w.run([...args, ...out('o1')]);
        const strict = w.run([...args, ...out('o2'), '--tool-timeout', '1']);
        expect(rows(patient)[0]).toMatchObject({ status: 'ok' });
        expect(rows(strict)[0]).toMatchObject({ status: 'tool-error' });
      } finally {
        s.setRules([]);
      }
    },
    manifest: () => {
      const w = work(F.tree);
      const without = w.run([cmd, 'tree', ...out('o1'), ...P(), '--json']);
      const required = w.run([cmd, 'tree', ...out('o2'), ...P(), '--json', '--manifest']);
      expect(without.code, without.stderr).toBe(0);
      expect(required.code).toBe(1);
      expect(required.stderr).toMatch(/--manifest: no batch manifest/);
    },
    checksums: () => {
      // A list whose digest for a.txt (plaintext for decrypt, envelope for verify) is wrong.
      const w = work(F.tree);
      writeFileSync(w.at('list.sha256'), `${'0'.repeat(64)}  ${cmd === 'decrypt' ? 'a.txt' : 'a.txt.aspera-env'}\n`);
      const without = w.run([cmd, 'tree', ...out('o1'), ...P(), '--json']);
      const listed = w.run([cmd, 'tree', ...out('o2'), ...P(), '--json', '--checksums', 'list.sha256']);
      expect(byName(without)['a.txt.aspera-env']).toMatchObject({ status: 'ok' });
      expect(byName(listed)['a.txt.aspera-env']).toMatchObject({ status: 'corrupt', checksum: 'mismatch' });
    },
  };
};

// ------------------------------------------------------------------ the scenarios, by command and option

type Scenario = () => void | Promise<void>;

/** Scenarios that mount a real drive (test/helpers/mounts.ts): root only, as CI runs. */
const ROOT_ONLY = new Set(['decrypt --portable-names']);

const SCENARIOS: Record<string, Record<string, Scenario>> = {
  decrypt: {
    ...shared('decrypt'), ...writing('decrypt'), ...opening('decrypt'),
    'check-digest': () => {
      // A large file whose trailer digest is damaged: every chunk authenticates, so the plaintext
      // is committed either way; the digest is checked (and the damage said) only when asked.
      const w = work(path.dirname(F.bigBad));
      const without = w.run(['decrypt', 'big/bad.bin.aspera-env', '-o', 'o1', ...P(), '--json']);
      const checked = w.run(['decrypt', 'big/bad.bin.aspera-env', '-o', 'o2', ...P(), '--json', '--check-digest']);
      expect([without.code, checked.code]).toEqual([0, 0]);
      expect(rows(without)[0]).toMatchObject({ status: 'ok', detail: expect.stringMatching(/content digest not checked/) });
      expect(rows(without)[0]!['warning']).toBeUndefined();
      expect(rows(checked)[0]!['detail']).not.toMatch(/not checked/);
      expect(rows(checked)[0]).toMatchObject({ status: 'ok', warning: expect.stringMatching(/content digest in the trailer does not match/) });
      expect(readFileSync(w.at('o2', 'bad.bin')).equals(readFileSync(F.bigPlain))).toBe(true);
    },
  },
  verify: {
    ...shared('verify'), ...opening('verify'),
    'password-prompt': async () => {
      const w = work(F.tree);
      const asked = await onTty(['verify', 'tree', '--password-prompt'], w.dir, PASSWORD);
      const never = await onTty(['verify', 'tree'], w.dir);
      expect([asked.code, never.code], asked.screen + never.screen).toEqual([0, 0]);
      expect(asked.screen).toMatch(/Password: /);
      expect(asked.screen).toMatch(/keyed check/);
      expect(never.screen).not.toMatch(/Password/);
      expect(never.screen).toMatch(/passwordless check/);
    },
    'write-checksums': () => {
      const w = work(F.tree);
      const without = w.run(['verify', 'tree', '--json']);
      const written = w.run(['verify', 'tree', '--json', '--write-checksums', 'sums.sha256']);
      expect([without.code, written.code]).toEqual([0, 0]);
      expect(existsSync(w.at('sums.sha256'))).toBe(true);
      const check = spawnSync('sha256sum', ['-c', path.join(w.dir, 'sums.sha256')], { cwd: w.at('tree'), encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout.trim().split('\n')).toHaveLength(3);
    },
  },
  encrypt: {
    ...shared('encrypt'), ...writing('encrypt'),
    suite: () => {
      const w = work(F.plain);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o1', '--kdf', 'pbkdf2', ...P()]);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o2', '--kdf', 'pbkdf2', ...P(), '--suite', 'chacha20-poly1305']);
      const seen = jsonLines(w.run(['inspect', 'o1/a.txt.aspera-env', 'o2/a.txt.aspera-env', '--json']).stdout);
      expect(seen.map((x) => x['suite'])).toEqual(['aes-256-gcm', 'chacha20-poly1305']);
    },
    kdf: () => {
      const w = work(F.plain);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o1', ...P()]);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o2', ...P(), '--kdf', 'pbkdf2']);
      const seen = jsonLines(w.run(['inspect', 'o1/a.txt.aspera-env', 'o2/a.txt.aspera-env', '--json']).stdout);
      expect(seen.map((x) => x['kdf'])).toEqual(['scrypt', 'pbkdf2']);
    },
    'chunk-size': () => {
      const w = work(F.plain);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o1', '--kdf', 'pbkdf2', ...P()]);
      w.run(['encrypt', 'plain/a.txt', '-o', 'o2', '--kdf', 'pbkdf2', ...P(), '--chunk-size', '4K']);
      const seen = jsonLines(w.run(['inspect', 'o1/a.txt.aspera-env', 'o2/a.txt.aspera-env', '--json']).stdout);
      expect(seen.map((x) => x['chunk_size'])).toEqual([65536, 4096]);
    },
    format: () => {
      const w = work(F.plain);
      const aenvFormat = w.run(['encrypt', 'plain/a.txt', '-o', 'o1', '--kdf', 'pbkdf2', ...P()]);
      const ibm = w.run(['encrypt', 'plain/a.txt', '-o', 'o2', ...P(), '--format', 'ibm', '--asprotect', s.asprotect]);
      expect([aenvFormat.code, ibm.code], ibm.stderr).toEqual([0, 0]);
      const seen = jsonLines(w.run(['inspect', 'o1/a.txt.aspera-env', 'o2/a.txt.aspera-env', '--json']).stdout);
      expect(seen.map((x) => x['status'])).toEqual(['ok', 'not-envelope']);
    },
    asprotect: () => {
      const w = work(F.plain);
      const env = noToolEnv(tmp.dir);
      const without = w.run(['encrypt', 'plain/a.txt', '-o', 'o1', ...P(), '--format', 'ibm'], { env });
      const given = w.run(['encrypt', 'plain/a.txt', '-o', 'o2', ...P(), '--format', 'ibm', '--asprotect', s.asprotect, '--json'], { env });
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/needs IBM's asprotect/);
      expect(rows(given)[0]).toMatchObject({ status: 'ok', via: 'asprotect' });
    },
    'tool-timeout': () => {
      s.setRules([{ match: '*', mode: 'slow', chunk: 16 * 1024, intervalMs: 1500 }]);
      try {
        const w = work();
        writeFileSync(w.at('big.txt'), Buffer.alloc(40 * 1024, 3));
        const args = ['encrypt', 'big.txt', ...P(), '--json', '--format', 'ibm', '--asprotect', s.asprotect];
        const patient = w.run([...args, '-o', 'o1']);
        const strict = w.run([...args, '-o', 'o2', '--tool-timeout', '1']);
        expect(rows(patient)[0]).toMatchObject({ status: 'ok' });
        expect(rows(strict)[0]).toMatchObject({ status: 'tool-error' });
      } finally {
        s.setRules([]);
      }
    },
    manifest: () => {
      const w = work(F.plain);
      const without = w.run(['encrypt', 'plain', '-o', 'o1', '--kdf', 'pbkdf2', ...P()]);
      const listed = w.run(['encrypt', 'plain', '-o', 'o2', '--kdf', 'pbkdf2', ...P(), '--manifest']);
      expect([without.code, listed.code], listed.stderr).toEqual([0, 0]);
      expect(existsSync(w.at('o1', '.aenv-manifest.aspera-env'))).toBe(false);
      expect(existsSync(w.at('o2', '.aenv-manifest.aspera-env'))).toBe(true);
    },
  },
  inspect: {
    json: () => {
      const w = work(F.tree);
      const human = w.run(['inspect', 'tree/a.txt.aspera-env']);
      const json = w.run(['inspect', 'tree/a.txt.aspera-env', '--json']);
      expect(isJson(human.stdout)).toBe(false);
      expect(human.stdout).toMatch(/^ {2}suite +aes-256-gcm$/m);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'ok', suite: 'aes-256-gcm' });
    },
    asunprotect: () => {
      const w = work(F.foreign);
      const env = noToolEnv(tmp.dir);
      const without = w.run(['inspect', 'foreign/f1.txt.aspera-env', '--json'], { env });
      const given = w.run(['inspect', 'foreign/f1.txt.aspera-env', '--json', '--asunprotect', s.asunprotect], { env });
      expect(JSON.parse(without.stdout)).toMatchObject({ format: 'foreign', asunprotect: { found: false } });
      expect(JSON.parse(given.stdout)).toMatchObject({ format: 'foreign', asunprotect: { found: true, path: s.asunprotect } });
    },
  },
  report: {
    json: () => {
      const w = work(F.tree);
      writeFileSync(w.at('run.jsonl'), w.run(['verify', 'tree', '--json']).stdout);
      const human = w.run(['report', 'run.jsonl']);
      const json = w.run(['report', 'run.jsonl', '--json']);
      expect([human.code, json.code]).toEqual([0, 0]);
      expect(human.stdout).toMatch(/^report: 1 report, 3 files/m);
      expect(JSON.parse(json.stdout)).toMatchObject({ summary: { ok: 3, reports: 1 } });
    },
  },
  selftest: {},
};

describe('every option in the table changes what its command does', () => {
  it('has a scenario for each option of each command, and no scenario for an option the table lacks', () => {
    const want = COMMANDS.flatMap((c) => c.options.map((o) => `${c.name} --${o.name}`)).sort();
    const have = Object.entries(SCENARIOS).flatMap(([c, sc]) => Object.keys(sc).map((o) => `${c} --${o}`)).sort();
    expect(have).toEqual(want);
  });

  it('runs on a machine with a core to spare for the worker threads (as CI)', () => {
    expect(availableParallelism()).toBeGreaterThanOrEqual(2);
  });

  for (const c of COMMANDS) {
    for (const o of c.options) {
      const needsRoot = ROOT_ONLY.has(`${c.name} --${o.name}`) && !IS_ROOT;
      it.skipIf(needsRoot)(`${c.name} --${o.name}${needsRoot ? ' (needs root to mount a FAT32 drive; CI runs as root)' : ''}`, async () => {
        const scenario = SCENARIOS[c.name]?.[o.name];
        if (!scenario) throw new Error(`no scenario shows what ${c.name} --${o.name} changes`);
        await scenario();
      });
    }
  }
});
