// Faults: the envelopes sit on read-only media (a tmpfs remounted read-only, like a
// write-protected drive; root only). Decrypting to -o elsewhere works and verify works;
// decrypting in place fails cleanly, per file, with io-error naming the read-only file system;
// --remove-source to -o keeps the output and says the envelope could not be removed.

import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, passwordFile } from './helpers/cli.js';
import { hasStackTrace, IS_ROOT, listTree, mountTmpfs, NOT_ROOT_REASON, ramTempDir, rowsOf, seal, sha256 } from './helpers/faults.js';

let work: { dir: string; cleanup: () => void };
let pw: string;
let media: ReturnType<typeof mountTmpfs> | undefined;
let tree: string;
const sums = new Map<string, string>();
const NAMES = ['one.txt', 'sub/two.bin', 'sub/deeper/three.csv'];

describe.skipIf(!IS_ROOT)(`read-only source media (${NOT_ROOT_REASON})`, () => {
  beforeAll(() => {
    work = ramTempDir('aenv-ro-');
    pw = passwordFile(work.dir);
    const plain = path.join(work.dir, 'plain');
    for (const n of NAMES) {
      mkdirSync(path.dirname(path.join(plain, n)), { recursive: true });
      const data = Buffer.from(`${n}\n`.repeat(5000));
      writeFileSync(path.join(plain, n), data);
      sums.set(n, sha256(data));
    }
    seal([plain], pw, ['--remove-source']);
    media = mountTmpfs('2m');
    tree = path.join(media.dir, 'tree');
    cpSync(plain, tree, { recursive: true });
    media.remountRo();
  });
  afterAll(() => {
    media?.unmount();
    work?.cleanup();
  });

  it('the medium really is read-only', () => {
    expect(() => writeFileSync(path.join(tree, 'probe'), 'x')).toThrow(/EROFS/);
  });

  it('decrypt -o to writable storage works and mirrors the tree', () => {
    const out = path.join(work.dir, 'out');
    const r = aenv(['decrypt', tree, '-o', out, '--password-file', pw, '--json']);
    expect(r.code).toBe(0);
    expect(rowsOf(r.stdout).rows.map((x) => x['status'])).toEqual(['ok', 'ok', 'ok']);
    expect(listTree(out)).toEqual([...NAMES].sort());
    for (const n of NAMES) expect(sha256(path.join(out, n))).toBe(sums.get(n));
  });

  it('verify (keyed and passwordless) works on read-only media', () => {
    expect(aenv(['verify', tree, '--password-file', pw]).code).toBe(0);
    expect(aenv(['verify', tree]).code).toBe(0);
  });

  it('decrypt in place fails cleanly per file: io-error, read-only, every file reported, no stack trace', () => {
    const before = listTree(tree);
    const r = aenv(['decrypt', tree, '--password-file', pw, '--json']);
    expect(r.code).toBe(1);
    const { rows, summary } = rowsOf(r.stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row['status']).toBe('io-error');
      expect(String(row['detail'])).toMatch(/read-only.*EROFS/);
    }
    expect(summary['failed']).toBe(3);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(listTree(tree)).toEqual(before);
    // People get one readable line per file with a hint, and a summary.
    const human = aenv(['decrypt', tree, '--password-file', pw]);
    expect(human.code).toBe(1);
    expect(human.stderr.match(/^io-error\s+\S.*read-only/gm)).toHaveLength(3);
    expect(hasStackTrace(human.stderr)).toBe(false);
  });

  it('--remove-source to -o: the output is kept and the row says the envelope could not be removed', () => {
    const out = path.join(work.dir, 'out-rm');
    const r = aenv(['decrypt', tree, '-o', out, '--password-file', pw, '--json', '--remove-source']);
    expect(r.code).toBe(1);
    const { rows } = rowsOf(r.stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row['status']).toBe('io-error');
      expect(String(row['detail'])).toMatch(/decrypted.*but the envelope could not be removed.*EROFS/);
      expect(existsSync(String(row['output']))).toBe(true);
    }
    for (const n of NAMES) expect(sha256(path.join(out, n))).toBe(sums.get(n));
  });
});
