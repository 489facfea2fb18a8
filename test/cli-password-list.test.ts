// One tree, several passwords (--password-list): every batch whose password is listed opens in
// one run, each row names the list line that opened it (never the password), a file no
// password opens is wrong-password with how many were tried, the KDF count stays within one
// per (password, salt) pair, and --kdf-budget stops a tree of hostile headers that each ask for
// the costliest key derivation the format allows. From the outside: the CLI on real files.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import { encodeMacInput, finishHeader } from '../src/format/header.js';
import { encodeTrailer } from '../src/format/layout.js';
import { aenv, aenvBytes, jsonLines, tempDir } from './helpers/cli.js';
import { installStandin } from './helpers/standin.js';

// Most tests run aenv several times: more than vitest's default 5 s on a busy 2-core machine.
vi.setConfig({ testTimeout: 60_000 });

const tmp = tempDir('aenv-pwlist-');
afterAll(() => tmp.cleanup());
const PASSWORDS = ['first batch pass', 'zweites Passwort ☃', 'third one'];
const STRAY = 'not on the list';
let tree: string;
let list: string;

function pwFile(name: string, pw: string): string {
  const p = path.join(tmp.dir, name);
  writeFileSync(p, pw + '\n');
  return p;
}

beforeAll(() => {
  tree = path.join(tmp.dir, 'drive');
  // Three batches, each sealed in its own run (own salt) under its own password, and a stray file.
  const batches: [string, string][] = [['alpha', PASSWORDS[0]!], ['beta', PASSWORDS[1]!], ['gamma', PASSWORDS[2]!], ['stray', STRAY]];
  for (const [name, pw] of batches) {
    const d = path.join(tree, name);
    mkdirSync(d, { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(path.join(d, `${name}-${i}.txt`), `${name} file ${i}\n`);
    const r = aenv(['encrypt', d, '--kdf', 'pbkdf2', '--remove-source', '-q', '--password-file', pwFile(`${name}.pw`, pw)]);
    expect(r.code, r.stderr).toBe(0);
  }
  // Lines: 1 beta, 2 blank, 3 an unused password, 4 alpha, 5 blank (CRLF), 6 gamma; CRLF endings.
  list = path.join(tmp.dir, 'list.txt');
  writeFileSync(list, `${PASSWORDS[1]}\r\n\r\nunused password\r\n${PASSWORDS[0]}\r\n\r\n${PASSWORDS[2]}\r\n`);
}, 60_000);

describe('--password-list', () => {
  it('opens every listed batch in one run, names the line, marks the stray file, stays within one KDF per (password, salt)', () => {
    const out = path.join(tmp.dir, 'out');
    const r = aenv(['decrypt', tree, '-o', out, '--json', '--password-list', list]);
    expect(r.code).toBe(1); // the stray file
    const rows = jsonLines(r.stdout);
    const summary = rows.pop()!['summary'] as Record<string, unknown>;
    const want: Record<string, number> = { alpha: 4, beta: 1, gamma: 6 };
    for (const row of rows) {
      const batch = path.basename(path.dirname(String(row['path'])));
      if (batch === 'stray') {
        expect(row).toMatchObject({ status: 'wrong-password' });
        expect(String(row['detail'])).toMatch(/no password of the list matches \(4 tried\)/);
        expect(row['password']).toBeUndefined();
        continue;
      }
      expect(row).toMatchObject({ status: 'ok', password: want[batch] });
      const name = path.basename(String(row['output']));
      expect(readFileSync(String(row['output']), 'utf8')).toBe(`${batch} file ${name.split('-')[1]!.split('.')[0]}\n`);
    }
    expect(rows).toHaveLength(12);
    // Every line of the list is counted, the unused one too.
    expect(summary['passwords']).toEqual({ 1: 3, 3: 0, 4: 3, 6: 3 });
    // 4 salts; the stray tries all 4 passwords, alpha 3 (lines 1, 3, 4), beta 1, gamma 4: 12 at most, never per file.
    expect(summary['key_derivations']).toBe(12);
    for (const pw of [...PASSWORDS, STRAY, 'unused password']) {
      expect(r.stdout).not.toContain(pw);
      expect(r.stderr).not.toContain(pw);
    }
  });

  it('human lines say "password #N"; the summary lists every line, and the ones that opened nothing', () => {
    const r = aenv(['decrypt', tree, '-o', path.join(tmp.dir, 'out-h'), '--password-list', list]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ok +\S*alpha-0\.txt\.aspera-env -> \S*alpha-0\.txt \(\d+ B, password #4\)$/m);
    expect(r.stderr).toMatch(/^ {2}password #3 +0 {2}\(opened nothing\)$/m);
    expect(r.stderr).toMatch(/^ {2}password #6 +3$/m);
    expect(r.stderr).not.toContain('unused password');
  });

  it('keyed verify and decrypt - take the list too', () => {
    const v = aenv(['verify', tree, '--json', '--password-list', list]);
    expect(v.code).toBe(1);
    const rows = jsonLines(v.stdout);
    expect(rows.find((x) => String(x['path']).includes('gamma-1'))).toMatchObject({ status: 'ok', password: 6 });
    expect((rows.pop()!['summary'] as Record<string, unknown>)['verify']).toBe('keyed');
    const s = aenvBytes(['decrypt', '-', '--json', '--password-list', list], { input: readFileSync(path.join(tree, 'beta', 'beta-2.txt.aspera-env')) });
    expect(s.code).toBe(0);
    expect(s.stdout.toString()).toBe('beta file 2\n');
    expect(JSON.parse(s.stderr.trim())).toMatchObject({ status: 'ok', password: 1 });
  });

  it('is a usage error with another password source, with no password in it, or with a line that is not UTF-8', () => {
    const one = pwFile('one.pw', PASSWORDS[0]!);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--password-file', one], {}, /combines with no other password source, and --password-file is given too/],
      [[], { ASPERA_SCP_FILEPASS: 'x' }, /combines with no other password source, and ASPERA_SCP_FILEPASS is given too/],
    ];
    const blank = path.join(tmp.dir, 'blank.txt');
    writeFileSync(blank, '\r\n\n\r\n');
    cases.push([[], {}, /holds no password/]);
    const latin1 = path.join(tmp.dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.concat([Buffer.from('good\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]));
    cases.push([[], {}, /line 2 of the password list .*not valid UTF-8/]);
    const lists = [list, list, blank, latin1];
    cases.forEach(([extra, env, msg], i) => {
      const r = aenv(['decrypt', tree, '-o', path.join(tmp.dir, `bad${i}`), '--password-list', lists[i]!, ...extra], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^aenv: hint: /m);
    });
  });

  it('--kdf-budget stops a tree of hostile maximum-cost headers: the rest fail as unsupported, quickly, with a hint', () => {
    // Forged headers (valid header_check, random MAC) asking for PBKDF2's maximum, 10,000,000
    // rounds, each with its own salt: only running the KDF can tell the MAC is wrong.
    const hostile = path.join(tmp.dir, 'hostile');
    mkdirSync(hostile);
    for (let i = 0; i < 6; i++) {
      const macInput = encodeMacInput({ suite: 1, chunkLog2: 12, params: { kdf: KDF_PBKDF2, p1: 10_000_000, p2: 0, p3: 0 }, salt: randomBytes(32), fileNonce: randomBytes(32) });
      const header = finishHeader(macInput, randomBytes(32));
      writeFileSync(path.join(hostile, `h${i}.aspera-env`), Buffer.concat([header, randomBytes(16 + 100), encodeTrailer(randomBytes(32))]));
    }
    const t0 = Date.now();
    const r = aenv(['verify', hostile, '--json', '--jobs', '2', '--kdf-budget', '1', '--password-list', list]);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    const rows = jsonLines(r.stdout);
    const summary = rows.pop()!['summary'] as Record<string, unknown>;
    // Without the budget: 6 files x 4 passwords = 24 derivations of ~5 s each. With it: the first only.
    expect(summary['key_derivations']).toBe(1);
    expect(rows.filter((x) => x['status'] === 'unsupported')).toHaveLength(6);
    for (const row of rows) expect(String(row['detail'])).toMatch(/key-derivation budget used up \(\d+\.\d s on 1 derivation\): not tried/);
    expect(seconds).toBeLessThan(60);
    const human = aenv(['verify', path.join(hostile, 'h0.aspera-env'), '--kdf-budget', '0.001', '--password-list', list]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/hint: .*--kdf-budget/);
  }, 120_000);

  it('foreign envelopes: IBM\'s tool (the stand-in) is tried with each password in turn; a failed try leaves nothing', () => {
    mkdirSync(path.join(tmp.dir, 'tools'));
    const s = installStandin(path.join(tmp.dir, 'tools'));
    try {
      const d = path.join(tmp.dir, 'ibm');
      mkdirSync(d);
      for (const [name, pw] of [['one', PASSWORDS[2]!], ['two', STRAY]] as const) {
        writeFileSync(path.join(d, `${name}.txt`), `${name} plaintext\n`);
        expect(s.run('asprotect', path.join(d, `${name}.txt.aspera-env`), path.join(d, `${name}.txt`), pw).code).toBe(0);
      }
      const out = path.join(tmp.dir, 'ibm-out');
      const r = aenv(['decrypt', path.join(d, 'one.txt.aspera-env'), path.join(d, 'two.txt.aspera-env'), '-o', out, '--json', '--asunprotect', s.asunprotect, '--password-list', list]);
      expect(r.code).toBe(1);
      const rows = jsonLines(r.stdout);
      expect(rows[0]).toMatchObject({ status: 'ok', via: 'asunprotect', password: 6 });
      expect(readFileSync(path.join(out, 'one.txt'), 'utf8')).toBe('one plaintext\n');
      expect(rows[1]).toMatchObject({ status: 'tool-error', via: 'asunprotect' });
      expect(String(rows[1]!['detail'])).toMatch(/asunprotect failed with each of the 4 passwords of the list; the last: /);
      expect(readdirSync(out)).toEqual(['one.txt']); // no temporary file of any try, no output of the failed one
      for (const pw of [...PASSWORDS, STRAY]) expect(r.stdout + r.stderr).not.toContain(pw);
    } finally {
      s.cleanup();
    }
  }, 60_000);

  it('foreign files: one the tool says is not its format is tried once; the tool\'s runs count against --kdf-budget', () => {
    mkdirSync(path.join(tmp.dir, 'tools-budget'));
    const s = installStandin(path.join(tmp.dir, 'tools-budget'));
    const log = path.join(s.dir, 'calls.log');
    const calls = (): string[] => readFileSync(log, 'utf8').trim().split('\n');
    try {
      const d = path.join(tmp.dir, 'ibm-budget');
      mkdirSync(d);
      writeFileSync(path.join(d, 'note.txt.aspera-env'), 'plaintext, not an envelope\n');
      for (const name of ['w1', 'w2', 'w3']) {
        writeFileSync(path.join(d, `${name}.txt`), `${name}\n`);
        expect(s.run('asprotect', path.join(d, `${name}.txt.aspera-env`), path.join(d, `${name}.txt`), STRAY).code).toBe(0);
      }
      s.setRules([], log); // from here on, every call of the tool is logged
      const out = path.join(tmp.dir, 'ibm-budget-out');
      const r = aenv(['decrypt', path.join(d, 'note.txt.aspera-env'), path.join(d, 'w1.txt.aspera-env'), '-o', out, '--json', '--jobs', '1', '--asunprotect', s.asunprotect, '--password-list', list]);
      expect(r.code).toBe(1);
      const rows = jsonLines(r.stdout);
      expect(rows[0]).toMatchObject({ status: 'tool-error', tool_exit: 4 });
      expect(rows[0]!['detail']).toBe('asunprotect exited with status 4: asunprotect: note.txt.aspera-env: not an Aspera envelope; not tried with the other 3 passwords: the tool says the file is not its format');
      expect(String(rows[1]!['detail'])).toMatch(/^asunprotect failed with each of the 4 passwords of the list; the last: .*wrong password$/);
      expect(calls()).toEqual(['note.txt.aspera-env', 'w1.txt.aspera-env', 'w1.txt.aspera-env', 'w1.txt.aspera-env', 'w1.txt.aspera-env']);

      // A budget smaller than one run of the tool: the first try runs, then nothing more starts.
      writeFileSync(log, '');
      const b = aenv(['decrypt', d, '-o', path.join(tmp.dir, 'ibm-budget-out2'), '--json', '--jobs', '1', '--kdf-budget', '0.01', '--asunprotect', s.asunprotect, '--password-list', list]);
      expect(b.code).toBe(1);
      expect(calls()).toEqual(['note.txt.aspera-env']);
      const brows = jsonLines(b.stdout).filter((x) => 'path' in x);
      expect(brows.map((x) => x['status'])).toEqual(['tool-error', 'unsupported', 'unsupported', 'unsupported']);
      for (const x of brows.slice(1)) expect(String(x['detail'])).toMatch(/^key-derivation budget used up \(\d+\.\d s on 0 derivations and 1 run of IBM's tool\): not tried$/);
      const human = aenv(['decrypt', path.join(d, 'w1.txt.aspera-env'), path.join(d, 'w2.txt.aspera-env'), '-o', path.join(tmp.dir, 'ibm-budget-out3'), '--jobs', '1', '--kdf-budget', '0.01', '--asunprotect', s.asunprotect, '--password-list', list]);
      expect(human.stderr).toMatch(/unsupported +\S*w1\.txt\.aspera-env: key-derivation budget used up \(\d+\.\d s on 0 derivations and 1 run of IBM's tool\): asunprotect was tried with 1 of the 4 passwords; the last: asunprotect exited with status 3: asunprotect: w1\.txt\.aspera-env: wrong password\n +hint: [^\n]*--kdf-budget/);
    } finally {
      s.cleanup();
    }
  }, 60_000);
});
