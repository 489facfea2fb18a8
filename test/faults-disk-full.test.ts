// Faults: the output medium fills up. A real 2 MiB tmpfs (root only) and `ulimit -f` (EFBIG):
// the file that does not fit fails with io-error and leaves nothing (no output, no temporary
// file), the run goes on with the other files, the exit status is 1; a later run with room
// completes without touching what was done (the same files, same inodes and bytes, reported
// skipped). Also encrypt into a full disk, and decrypt in place on a full disk: the files done
// before the disk filled stay done, the failed one leaves its envelope as it was and nothing else.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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

  it('with parallel jobs too: every file ends ok or io-error, no partial file, no temporary file; with room, a rerun finishes without touching what is done', () => {
    const m = mountTmpfs('2m');
    try {
      const r = aenv(['decrypt', src, '-o', m.dir, '--password-file', pw, '--json', '--jobs', '3']);
      const { rows } = rowsOf(r.stdout);
      expect(rows).toHaveLength(3);
      expect(r.code).toBe(1);
      expect(rows.find((x) => String(x['path']).endsWith('b-big.bin.aspera-env'))?.['status']).toBe('io-error');
      const done = new Map<string, { ino: number; mtimeMs: number }>(); // committed before the disk filled
      for (const row of rows) {
        const out = String(row['output']);
        if (row['status'] === 'ok') {
          expect(sha256(out)).toBe(sums.get(path.basename(out)));
          const st = statSync(out);
          done.set(path.basename(out), { ino: st.ino, mtimeMs: st.mtimeMs });
        } else {
          expect(row['status']).toBe('io-error');
          expect(existsSync(out)).toBe(false);
        }
      }
      expect(listTree(m.dir)).toEqual([...done.keys()].sort()); // the failed ones left nothing at all
      // Once there is room, a rerun over the same tree with --skip-existing finishes the job: what
      // was done is reported skipped and is the very same file (inode, time, bytes); the rest is
      // written now; nothing else is left.
      const grow = spawnSync('mount', ['-o', 'remount,size=16m', m.dir]);
      expect(grow.status, grow.stderr.toString()).toBe(0);
      const again = aenv(['decrypt', src, '-o', m.dir, '--password-file', pw, '--json', '--skip-existing']);
      expect(again.code, again.stderr).toBe(0);
      const statuses = Object.fromEntries(rowsOf(again.stdout).rows.map((x) => [path.basename(String(x['output'])), x['status']]));
      expect(statuses).toEqual(Object.fromEntries([...sums.keys()].map((n) => [n, done.has(n) ? 'skipped' : 'ok'])));
      expect(listTree(m.dir)).toEqual([...sums.keys()].sort());
      for (const [name, sum] of sums) expect(sha256(path.join(m.dir, name)), name).toBe(sum);
      for (const [name, before] of done) {
        const st = statSync(path.join(m.dir, name));
        expect({ ino: st.ino, mtimeMs: st.mtimeMs }, `${name} was touched by the rerun`).toEqual(before);
      }
    } finally {
      m.unmount();
    }
  });

  it('decrypt in place on a full disk: what is done stays done, the failed envelope stays as it was, no plaintext is left', () => {
    const m = mountTmpfs('4m');
    try {
      // Fill the tmpfs with the envelopes (3.3 MiB), leaving less room than the big plaintext.
      spawnSync('cp', ['-r', src, path.join(m.dir, 'in')]);
      const before = Object.fromEntries(readdirSync(path.join(m.dir, 'in')).map((n) => [n, sha256(path.join(m.dir, 'in', n))]));
      const r = aenv(['decrypt', path.join(m.dir, 'in'), '--password-file', pw, '--json', '--jobs', '1', '--remove-source']);
      expect(r.code).toBe(1);
      const { rows } = rowsOf(r.stdout);
      // a (100 kB) fits in the room left and is done before b; b (3 MiB) cannot fit; c (200 kB)
      // fits again once b's temporary file is gone (and a's envelope freed its room).
      const statuses = Object.fromEntries(rows.map((x) => [path.basename(String(x['path'])), x['status']]));
      expect(statuses).toEqual({ 'a-small.bin.aspera-env': 'ok', 'b-big.bin.aspera-env': 'io-error', 'c-small.bin.aspera-env': 'ok' });
      // What was done stays done: the outputs, whole, their envelopes removed (--remove-source).
      // The failed file's envelope is still there and unchanged; no plaintext, no temporary file.
      expect(listTree(m.dir)).toEqual(['in/a-small.bin', 'in/b-big.bin.aspera-env', 'in/c-small.bin']);
      expect(sha256(path.join(m.dir, 'in', 'a-small.bin'))).toBe(sums.get('a-small.bin'));
      expect(sha256(path.join(m.dir, 'in', 'c-small.bin'))).toBe(sums.get('c-small.bin'));
      expect(sha256(path.join(m.dir, 'in', 'b-big.bin.aspera-env'))).toBe(before['b-big.bin.aspera-env']);
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
      expect(Object.fromEntries(rows.map((x) => [path.basename(String(x['path'])), x['status']]))).toEqual({ 'big.bin': 'io-error', 'small.bin': 'ok' });
      expect(listTree(m.dir)).toEqual(['small.bin.aspera-env']);
      // The envelope that was done is whole: it opens to the original bytes.
      const back = path.join(work.dir, 'plain-back');
      const d = aenv(['decrypt', path.join(m.dir, 'small.bin.aspera-env'), '-o', back, '--password-file', pw]);
      expect(d.code, d.stderr).toBe(0);
      expect(sha256(path.join(back, 'small.bin'))).toBe(sha256(Buffer.alloc(1000, 7)));
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
