// Faults: odd file names. Newlines, tabs, a leading dash, quotes, a backslash, a terminal escape,
// non-ASCII: encrypt and decrypt round-trip them to the right names and bytes, --json stays one
// valid JSON object per line, human output stays one readable line per file (names with control
// characters are shown quoted). Names that are not valid UTF-8 (which Node cannot reopen by
// name) are never skipped silently: each file, or folder, gets an io-error saying to rename it.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, passwordFile } from './helpers/cli.js';
import { hasStackTrace, listTree, ramTempDir, rowsOf } from './helpers/faults.js';

const ODD = [
  'new\nline.txt', 'tab\there.txt', '-leading-dash.txt', '--looks-like-a-flag', `quo"te's.txt`, 'back\\slash.txt',
  '\x1b[31mred.txt', 'sp ace ü é 漢字.txt', 'cr\rlf.txt', ' leading space', 'trailing space ',
];
let work: { dir: string; cleanup: () => void };
let pw: string;
let plain: string;

beforeAll(() => {
  work = ramTempDir('aenv-names-');
  pw = passwordFile(work.dir);
  plain = path.join(work.dir, 'plain');
  mkdirSync(path.join(plain, 'sub\ndir'), { recursive: true });
  for (const n of ODD) writeFileSync(path.join(plain, n), `content of ${JSON.stringify(n)}\n`);
  writeFileSync(path.join(plain, 'sub\ndir', '-x\t.csv'), 'nested\n');
});
afterAll(() => work.cleanup());

const expected = (): string[] => [...ODD, path.join('sub\ndir', '-x\t.csv')].sort();

/** Every stdout line is one JSON object, and the paths in it are the real names. */
function checkJson(stdout: string, n: number): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(n + 1);
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  return rowsOf(stdout).rows;
}

describe('odd but valid names', () => {
  it('encrypt then decrypt -o: every name and every byte comes back; JSON lines are valid', () => {
    const sealed = path.join(work.dir, 'sealed');
    const e = aenv(['encrypt', plain, '-o', sealed, '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
    expect(e.code).toBe(0);
    const erows = checkJson(e.stdout, expected().length);
    expect(erows.map((r) => path.relative(plain, String(r['path']))).sort()).toEqual(expected());
    expect(listTree(sealed)).toEqual(expected().map((n) => `${n}.aspera-env`).sort());

    const out = path.join(work.dir, 'out');
    const d = aenv(['decrypt', sealed, '-o', out, '--password-file', pw, '--json']);
    expect(d.code).toBe(0);
    const drows = checkJson(d.stdout, expected().length);
    for (const r of drows) {
      expect(r['status']).toBe('ok');
      const rel = path.relative(out, String(r['output']));
      expect(`${path.join(sealed, rel)}.aspera-env`).toBe(r['path']);
    }
    expect(listTree(out)).toEqual(expected());
    for (const n of expected()) expect(readFileSync(path.join(out, n))).toEqual(readFileSync(path.join(plain, n)));
  });

  it('human output: one line per file, control characters shown escaped, never raw', () => {
    const sealed = path.join(work.dir, 'sealed');
    const d = aenv(['decrypt', sealed, '-o', path.join(work.dir, 'out-human'), '--password-file', pw]);
    expect(d.code).toBe(0);
    const lines = d.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(expected().length);
    for (const l of lines) expect(l).toMatch(/^ok\s+\S/);
    // No raw tab, carriage return or escape (they could forge lines or recolour a terminal).
    // eslint-disable-next-line no-control-regex
    expect(d.stdout + d.stderr).not.toMatch(/[\t\r\x1b]/);
    expect(d.stdout).toContain(JSON.stringify(path.join(sealed, 'new\nline.txt.aspera-env')));
  });

  it('a PATH that starts with a dash works after -- and as ./NAME', () => {
    const dir = path.join(work.dir, 'dash');
    mkdirSync(dir);
    writeFileSync(path.join(dir, '-rf'), 'not an option\n');
    const e = aenv(['encrypt', '--kdf', 'pbkdf2', '--password-file', pw, '--json', '--', '-rf'], { cwd: dir });
    expect(e.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['-rf', '-rf.aspera-env']);
    const d = aenv(['decrypt', '--password-file', pw, '--json', '-o', 'out', './-rf.aspera-env'], { cwd: dir });
    expect(d.code).toBe(0);
    expect(readFileSync(path.join(dir, 'out', '-rf'), 'utf8')).toBe('not an option\n');
  });
});

describe('names that are not valid UTF-8', () => {
  it('each such file and folder is reported io-error with what to do; the others are decrypted', () => {
    const tree = path.join(work.dir, 'latin1');
    mkdirSync(tree);
    const env = readFileSync(path.join(work.dir, 'sealed', 'tab\there.txt.aspera-env'));
    const raw = (...parts: (string | number[])[]): Buffer =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    writeFileSync(path.join(tree, 'good.txt.aspera-env'), env);
    writeFileSync(raw(tree, '/caf', [0xe9], '.txt.aspera-env'), env); // Latin-1 "café"
    mkdirSync(raw(tree, '/d', [0xff, 0xfe]));
    writeFileSync(raw(tree, '/d', [0xff, 0xfe], '/inner.txt.aspera-env'), env);
    writeFileSync(raw(tree, '/ignored', [0xff], '.txt'), 'not an envelope name: not reported by decrypt');

    const d = aenv(['decrypt', tree, '-o', path.join(work.dir, 'out-latin1'), '--password-file', pw, '--json']);
    expect(d.code).toBe(1);
    const rows = checkJson(d.stdout, 3);
    const bad = rows.filter((r) => r['status'] === 'io-error');
    expect(bad).toHaveLength(2);
    for (const r of bad) expect(String(r['detail'])).toMatch(/not valid UTF-8 \(bytes: .*\\x(e9|ff).*rename it/);
    expect(bad.some((r) => /this folder/.test(String(r['detail'])))).toBe(true);
    expect(rows.filter((r) => r['status'] === 'ok').map((r) => path.basename(String(r['path'])))).toEqual(['good.txt.aspera-env']);
    expect(listTree(path.join(work.dir, 'out-latin1'))).toEqual(['good.txt']);

    const human = aenv(['decrypt', tree, '-o', path.join(work.dir, 'out-latin1-h'), '--password-file', pw]);
    expect(human.code).toBe(1);
    expect(human.stderr.match(/^io-error\s+".*not valid UTF-8/gm)).toHaveLength(2);
    expect(hasStackTrace(human.stderr)).toBe(false);
  });

  it('encrypt reports such a file too, instead of leaving it unsealed without a word', () => {
    const dir = path.join(work.dir, 'latin1-plain');
    mkdirSync(dir);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/r`), Buffer.from([0xe9]), Buffer.from('sum')]), 'x');
    writeFileSync(path.join(dir, 'fine.txt'), 'y');
    const e = aenv(['encrypt', dir, '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
    expect(e.code).toBe(1);
    const rows = checkJson(e.stdout, 2);
    expect(rows.map((r) => r['status']).sort()).toEqual(['io-error', 'ok']);
  });
});
