// A wrong password on a batch, without a terminal (issue 22: 4,513 files printed 9,029 lines):
// people see one row per batch and a count under the summary, scripts (--json) still get a
// wrong-password row for every file, with its batch; -v lists every file. Every file is tried
// (one KDF per salt for the whole run, then one HMAC a file): a batch whose first files have
// damaged headers still opens. (The prompt's asking again on a terminal: cli-terminal.test.ts.)

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OFF_FILE_NONCE, OFF_HEADER_CHECK } from '../src/format/constants.js';
import { aenv, CLI_ONLY, jsonLines, passwordFile, tempDir } from './helpers/cli.js';

vi.setConfig({ testTimeout: 60_000 });

const tmp = tempDir('aenv-wrongpw-');
let pw: string;
let other: string;
let tree: string;
const N = 60;

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  other = path.join(tmp.dir, 'other.txt');
  writeFileSync(other, 'another password\n');
  tree = path.join(tmp.dir, 'tree');
  mkdirSync(path.join(tree, 'mine'), { recursive: true });
  mkdirSync(path.join(tree, 'theirs'), { recursive: true });
  for (let i = 0; i < N; i++) writeFileSync(path.join(tree, 'theirs', `f${i}.txt`), `file ${i}\n`);
  for (let i = 0; i < 5; i++) writeFileSync(path.join(tree, 'mine', `m${i}.txt`), `mine ${i}\n`);
  // two batches: 60 files under the other password, 5 under ours
  expect(aenv(['encrypt', path.join(tree, 'theirs'), '--kdf', 'pbkdf2', '--password-file', other, '--remove-source', '-q']).code).toBe(0);
  expect(aenv(['encrypt', path.join(tree, 'mine'), '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q']).code).toBe(0);
});
afterAll(() => tmp.cleanup());

describe(`a wrong password on a batch, without a terminal${CLI_ONLY}`, () => {
  it('people: one row and one count line per batch, not a row and a hint per file; the batch that opens is decrypted', () => {
    const out = path.join(tmp.dir, 'o1');
    const r = aenv(['decrypt', tree, '-o', out, '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/^wrong-password /gm)).toHaveLength(1);
    expect(r.stderr.match(/hint:/g)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^ +wrong-password +${N}$`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^ +wrong-password: ${N - 1} more files of batch [0-9a-f]{16} not listed \\(same key; -v lists them\\)$`, 'm'));
    expect(r.stdout.match(/^ok /gm)).toHaveLength(5);
    expect(readdirSync(path.join(out, 'mine'))).toHaveLength(5);
    // a dozen lines in all, whatever the batch's size
    expect((r.stdout + r.stderr).trim().split('\n').length).toBeLessThan(15);
  });

  it('--json: a wrong-password row for every file, with its batch; each file was tried', () => {
    const r = aenv(['decrypt', tree, '-o', path.join(tmp.dir, 'o2'), '--password-file', pw, '--json', '--jobs', '1']);
    expect(r.code).toBe(1);
    const rows = jsonLines(r.stdout).filter((x) => !('summary' in x));
    const wrong = rows.filter((x) => x['status'] === 'wrong-password');
    expect(wrong).toHaveLength(N);
    expect(new Set(wrong.map((x) => x['batch_id'])).size).toBe(1);
    expect(wrong.filter((x) => String(x['detail']).startsWith('wrong password (the header is intact but its MAC does not match'))).toHaveLength(N);
    expect(rows.filter((x) => x['status'] === 'ok')).toHaveLength(5);
  });

  it('a run that commits nothing removes the -o folder it made (issue 22: a wrong password left an empty folder); one that was there stays', () => {
    const made = path.join(tmp.dir, 'made', 'deeper');
    const r = aenv(['decrypt', path.join(tree, 'theirs'), '-o', made, '--password-file', pw, '-q']);
    expect(r.code).toBe(1);
    expect(existsSync(made)).toBe(false);
    expect(existsSync(path.dirname(made))).toBe(true); // only the folder itself, not those mkdir -p made above it
    const there = path.join(tmp.dir, 'there');
    mkdirSync(there);
    expect(aenv(['decrypt', path.join(tree, 'theirs'), '-o', there, '--password-file', pw, '-q']).code).toBe(1);
    expect(readdirSync(there)).toEqual([]);
  });

  it('a batch whose first three files have damaged headers (a MAC that no password matches): the rest of it still opens', () => {
    const d = path.join(tmp.dir, 'damaged');
    mkdirSync(d);
    for (let i = 0; i < 8; i++) writeFileSync(path.join(d, `d${i}.txt`), `damaged batch ${i}\n`);
    expect(aenv(['encrypt', d, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q']).code).toBe(0);
    for (const i of [0, 1, 2]) {
      // a flipped byte of the file nonce, with the header check (FORMAT.md: SHA-256 of the bytes before it) made to fit: only the MAC can tell
      const f = path.join(d, `d${i}.txt.aspera-env`);
      const b = readFileSync(f);
      b[OFF_FILE_NONCE + 5]! ^= 1;
      createHash('sha256').update(b.subarray(0, OFF_HEADER_CHECK)).digest().copy(b, OFF_HEADER_CHECK, 0, 8);
      writeFileSync(f, b);
    }
    const r = aenv(['decrypt', d, '-o', path.join(tmp.dir, 'o-damaged'), '--password-file', pw, '--json', '--jobs', '1']);
    expect(r.code).toBe(1);
    const rows = jsonLines(r.stdout).filter((x) => !('summary' in x));
    expect(rows.filter((x) => x['status'] === 'wrong-password').map((x) => path.basename(String(x['path']))).sort()).toEqual(['d0.txt.aspera-env', 'd1.txt.aspera-env', 'd2.txt.aspera-env']);
    expect(rows.filter((x) => x['status'] === 'ok')).toHaveLength(5);
  });

  it('-v lists every file; the right password for the batch opens all of it', () => {
    const v = aenv(['verify', path.join(tree, 'theirs'), '--password-file', pw, '-v']);
    expect(v.code).toBe(1);
    expect(v.stdout.concat(v.stderr).match(/^wrong-password /gm)).toHaveLength(N);
    const right = aenv(['verify', path.join(tree, 'theirs'), '--password-file', other, '--json']);
    expect(right.code, right.stderr).toBe(0);
    expect(jsonLines(right.stdout).at(-1)).toMatchObject({ summary: { ok: N, failed: 0 } });
  });
});
