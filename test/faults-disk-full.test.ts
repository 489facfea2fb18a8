// Faults: the output medium fills up. A real 2 MiB tmpfs (root only) and `ulimit -f` (EFBIG):
// the file that does not fit fails with io-error and leaves nothing (no output, no temporary
// file), the run goes on with the other files, the exit status is 1; a later run with room
// completes. Also encrypt into a full disk, and decrypt in place on a full disk.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, BIN, passwordFile, tempDir } from './helpers/cli.js';
import { IS_ROOT, listTree, mountTmpfs, NOT_ROOT_REASON, rowsOf, seal, sha256, temps } from './helpers/faults.js';

const MiB = 1024 * 1024;
let work: { dir: string; cleanup: () => void };
let pw: string;
let src: string;
const sums = new Map<string, string>();

beforeAll(() => {
  work = tempDir('aenv-diskfull-');
  pw = passwordFile(work.dir);
  src = path.join(work.dir, 'src');
  mkdirSync(src);
  // Sorted order a, b, c: the big one in the middle, so the run must go on after it fails.
  const sizes: Record<string, number> = { 'a-small.bin': 100_000, 'b-big.bin': 3 * MiB, 'c-small.bin': 200_000 };
  for (const [name, n] of Object.entries(sizes)) {
    const data = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4096) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(path.join(src, name), data);
    sums.set(name, sha256(data));
  }
  seal([src], pw, ['--remove-source']);
});
afterAll(() => work.cleanup());

function expectBigFailedOthersOk(stdout: string, code: number | null, outDir: string, why: RegExp): void {
  const { rows, summary } = rowsOf(stdout);
  expect(rows).toHaveLength(3);
  const by = Object.fromEntries(rows.map((r) => [path.basename(String(r['path'])), r]));
  expect(by['b-big.bin.aspera-env']?.['status']).toBe('io-error');
  expect(String(by['b-big.bin.aspera-env']?.['detail'])).toMatch(why);
  expect(by['a-small.bin.aspera-env']?.['status']).toBe('ok');
  expect(by['c-small.bin.aspera-env']?.['status']).toBe('ok');
  expect(summary['failed']).toBe(1);
  expect(code).toBe(1);
  // Nothing of the big file: no output, no temporary file; the others complete and correct.
  expect(existsSync(path.join(outDir, 'b-big.bin'))).toBe(false);
  expect(temps(outDir)).toEqual([]);
  expect(sha256(path.join(outDir, 'a-small.bin'))).toBe(sums.get('a-small.bin'));
  expect(sha256(path.join(outDir, 'c-small.bin'))).toBe(sums.get('c-small.bin'));
}

describe.skipIf(!IS_ROOT)(`disk full on a real tmpfs (${NOT_ROOT_REASON})`, () => {
  it('decrypt -o onto a 2 MiB tmpfs: the 3 MiB file fails with io-error, leaves nothing, the run goes on', () => {
    const m = mountTmpfs('2m');
    try {
      const r = aenv(['decrypt', src, '-o', m.dir, '--password-file', pw, '--json', '--jobs', '1']);
      expectBigFailedOthersOk(r.stdout, r.code, m.dir, /no space left.*ENOSPC/);
      expect(listTree(m.dir)).toEqual(['a-small.bin', 'c-small.bin']);
    } finally {
      m.unmount();
    }
  });

  it('with parallel jobs too: every file ends ok or io-error, no partial file, no temporary file', () => {
    const m = mountTmpfs('2m');
    try {
      const r = aenv(['decrypt', src, '-o', m.dir, '--password-file', pw, '--json', '--jobs', '3']);
      const { rows } = rowsOf(r.stdout);
      expect(rows).toHaveLength(3);
      expect(r.code).toBe(1);
      expect(rows.find((x) => String(x['path']).endsWith('b-big.bin.aspera-env'))?.['status']).toBe('io-error');
      for (const row of rows) {
        const out = String(row['output']);
        if (row['status'] === 'ok') expect(sha256(out)).toBe(sums.get(path.basename(out)));
        else {
          expect(row['status']).toBe('io-error');
          expect(existsSync(out)).toBe(false);
        }
      }
      expect(temps(m.dir)).toEqual([]);
      // Once there is room, a later run finishes the job without touching what is done.
      const again = aenv(['decrypt', src, '-o', path.join(work.dir, 'roomy'), '--password-file', pw, '--json']);
      expect(again.code).toBe(0);
    } finally {
      m.unmount();
    }
  });

  it('decrypt in place on a full disk: the envelopes stay untouched, no plaintext is left', () => {
    const m = mountTmpfs('4m');
    try {
      // Fill the tmpfs with the envelopes (3.3 MiB), leaving less room than the big plaintext.
      spawnSync('cp', ['-r', src, path.join(m.dir, 'in')]);
      const before = Object.fromEntries(readdirSync(path.join(m.dir, 'in')).map((n) => [n, sha256(path.join(m.dir, 'in', n))]));
      const r = aenv(['decrypt', path.join(m.dir, 'in'), '--password-file', pw, '--json', '--jobs', '1', '--remove-source']);
      expect(r.code).toBe(1);
      const { rows } = rowsOf(r.stdout);
      const big = rows.find((x) => String(x['path']).endsWith('b-big.bin.aspera-env'))!;
      expect(big['status']).toBe('io-error');
      // The failed file's envelope is still there and unchanged; no plaintext and no temporary file.
      expect(sha256(path.join(m.dir, 'in', 'b-big.bin.aspera-env'))).toBe(before['b-big.bin.aspera-env']);
      expect(existsSync(path.join(m.dir, 'in', 'b-big.bin'))).toBe(false);
      expect(temps(m.dir)).toEqual([]);
    } finally {
      m.unmount();
    }
  });

  it('encrypt onto a full disk: io-error, no half envelope under the final name', () => {
    const m = mountTmpfs('1m');
    try {
      const plain = path.join(work.dir, 'plain');
      mkdirSync(plain, { recursive: true });
      writeFileSync(path.join(plain, 'big.bin'), Buffer.alloc(2 * MiB, 7));
      writeFileSync(path.join(plain, 'small.bin'), Buffer.alloc(1000, 7));
      const r = aenv(['encrypt', plain, '-o', m.dir, '--kdf', 'pbkdf2', '--password-file', pw, '--json', '--jobs', '1']);
      expect(r.code).toBe(1);
      const { rows } = rowsOf(r.stdout);
      expect(rows.map((x) => x['status']).sort()).toEqual(['io-error', 'ok']);
      expect(listTree(m.dir)).toEqual(['small.bin.aspera-env']);
    } finally {
      m.unmount();
    }
  });
});

describe('file size limit (ulimit -f: EFBIG)', () => {
  it('the file over the limit fails with io-error, leaves nothing, the run goes on', () => {
    const out = path.join(work.dir, 'efbig');
    // ulimit -f counts 1024-byte blocks: 1 MiB, below the 3 MiB file, above the small ones.
    const r = spawnSync('bash', ['-c', `ulimit -f 1024; exec "${process.execPath}" "${BIN}" "$@"`, 'bash',
      'decrypt', src, '-o', out, '--password-file', pw, '--json', '--jobs', '1']);
    expect(r.signal).toBeNull(); // SIGXFSZ is ignored: the write fails instead of killing the run
    expectBigFailedOthersOk(r.stdout.toString(), r.status, out, /EFBIG/);
  });
});
