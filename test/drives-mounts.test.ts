// Decrypting onto real FAT32, exFAT and NTFS drives (issue 23), as root: images made by mkfs and
// mounted by FUSE (fusefat, exfat-fuse, ntfs-3g; test/helpers/mounts.ts), each unmounted whatever
// happens. On each: what aenv learns of the drive (mount table and probe); the tree
// (Report.txt and report.txt, sub/a:b?.txt, a name ending in a dot, one ending in a space,
// CON.txt, a control character, and on FAT a plaintext over 4 GiB - 1 byte) where every file is
// committed correctly or fails before anything is written with a status that names the rule;
// with --portable-names every name committed under a name the drive holds, each renaming in its
// row and counted in the summary (and a rerun skips them all); a name that folds onto a file
// already there; the commit without hard links and its identity checks (in process); disk full,
// kill -9 mid-file and a read-only drive; and the shared-folder warning told apart. A name too
// long for Linux's own file systems (255 bytes), which NTFS holds (255 UTF-16 units), decrypted
// from the NTFS drive onto tmpfs. Skips only when not root (CI runs as root).

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, readdirSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LEN, TRAILER_LEN } from '../src/format/constants.js';
import { AtomicOutput, ExistsError } from '../src/fsops/atomic.js';
import { OutputDir } from '../src/fsops/dirs.js';
import { originalName } from '../src/fsops/target/portable.js';
import { Targets } from '../src/fsops/target/target.js';
import { aenv, aenvAsync, PASSWORD, passwordFile } from './helpers/cli.js';
import { hasStackTrace, IS_ROOT, listTree, ramTempDir, rowsOf, sealCheap, sha256, tempBytes, temps, waitFor } from './helpers/faults.js';
import { DRIVE_KINDS, mountDrive, type Drive, type DriveKind } from './helpers/mounts.js';

const NOT_ROOT = 'needs root to mount FAT, exFAT and NTFS images (CI runs as root)';
const MiB = 1024 * 1024;

/** The tree: output name -> content. */
const TREE: Record<string, string> = {
  'plain.txt': 'an ordinary name\n',
  'Report.txt': 'upper-case report\n',
  'report.txt': 'lower-case report\n',
  'sub/a:b?.txt': 'colon and question mark\n',
  'notes.': 'ends in a dot\n',
  'draft ': 'ends in a space\n',
  'CON.txt': 'a device name\n',
  'bell\u0007.txt': 'a control character\n',
};
/** What each name breaks without --portable-names: status and a pattern of the detail. */
const EXPECTED: Record<string, [string, RegExp]> = {
  'plain.txt': ['ok', /^decrypted/],
  'Report.txt': ['name-conflict', /Report\.txt and .*report\.txt \(another output of this run\) are one name on .*, which does not tell upper and lower case apart; nothing was written/],
  'report.txt': ['name-conflict', /report\.txt and .*Report\.txt \(another output of this run\) are one name on/],
  'sub/a:b?.txt': ['bad-name', /"a:b\?\.txt" holds ":" and "\?" \(Windows forbids/],
  'notes.': ['bad-name', /"notes\." ends in a dot/],
  'draft ': ['bad-name', /"draft " ends in a space/],
  'CON.txt': ['bad-name', /is the Windows device name CON \(reserved with any extension\)/],
  'bell\u0007.txt': ['bad-name', /holds the control character U\+0007/],
};
const LABEL: Record<DriveKind, string> = { fat: 'FAT (fusefat)', exfat: 'exFAT (exfat-fuse)', ntfs: 'NTFS (ntfs-3g)' };

let work: { dir: string; cleanup: () => void };
let pw: string;
let tree: string;
let big: string;

/** Copies a tree by reading and writing (cp would set modes, which fusefat refuses). */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(path.join(from, e.name), path.join(to, e.name));
    else writeFileSync(path.join(to, e.name), readFileSync(path.join(from, e.name)));
  }
}

/** The output name of a row, relative to `out`. */
const rel = (out: string, p: unknown): string => path.relative(out, String(p));
/** The input's output name (the tree's key) of a row. */
const key = (row: Record<string, unknown>): string => path.relative(tree, String(row['path'])).replace(/\.aspera-env$/, '');

describe.skipIf(!IS_ROOT)(`decrypting onto FAT32, exFAT and NTFS drives (${NOT_ROOT})`, () => {
  beforeAll(async () => {
    work = ramTempDir('aenv-drives-');
    pw = passwordFile(work.dir);
    tree = path.join(work.dir, 'tree');
    for (const [name, text] of Object.entries(TREE)) {
      mkdirSync(path.dirname(path.join(tree, name)), { recursive: true });
      writeFileSync(path.join(tree, `${name}.aspera-env`), await sealCheap(Buffer.from(text), PASSWORD));
    }
    // An envelope whose header and length say 4 GiB of plaintext (16 MiB chunks, 256 of them):
    // a real header for the password, then a sparse file of the whole length (never read).
    big = path.join(work.dir, 'big');
    mkdirSync(big);
    const header = (await sealCheap(Buffer.from('x'), PASSWORD, 24)).subarray(0, HEADER_LEN);
    const size = HEADER_LEN + 2 ** 32 + 256 * 16 + TRAILER_LEN;
    const fd = openSync(path.join(big, 'huge.bin.aspera-env'), 'w');
    writeSync(fd, header);
    closeSync(fd);
    spawnSync('truncate', ['-s', String(size), path.join(big, 'huge.bin.aspera-env')]);
  }, 60_000);
  afterAll(() => work?.cleanup());

  describe.each(DRIVE_KINDS)('%s', (kind) => {
    let drive: Drive;
    beforeAll(() => {
      drive = mountDrive(kind, 64);
    });
    afterAll(() => drive?.unmount());

    it('what aenv learns of the drive: its kind from the mount table, its ways from the probe (nothing left of the probe)', () => {
      const targets = new Targets();
      const t = targets.of(path.join(drive.dir, 'not-yet'));
      expect(t.label).toBe(LABEL[kind]);
      expect(t.rules).toMatchObject({ windows: true, caseInsensitive: true, maxName: { n: 255, unit: 'utf16' }, unicode: kind !== 'fat' });
      expect(t.probe).not.toBeNull();
      expect(t.foldsOnDisk).toBe(kind !== 'ntfs'); // ntfs-3g keeps case apart on the disk, Windows does not
      expect(t.hardLinks).toBe(kind === 'ntfs');
      expect(t.modes).toBe(false);
      expect(t.maxFileSize).toBe(kind === 'fat' ? 2 ** 32 - 1 : null);
      expect(targets.probes).toBe(1);
      targets.of(drive.dir); // the same device: not probed again
      expect(targets.probes).toBe(1);
      expect(listTree(drive.dir)).toEqual([]);
      console.log(`probe of ${LABEL[kind]}: ${targets.probeMs.toFixed(1)} ms`);
    });

    it("the issue's tree: every file committed, or failed before anything was written with a status that names the rule", () => {
      const out = path.join(drive.dir, 'out');
      const r = aenv(['decrypt', tree, ...(kind === 'fat' ? [big] : []), '-o', out, '--password-file', pw, '--json']);
      expect(r.code, r.stderr).toBe(1);
      const { rows, summary } = rowsOf(r.stdout);
      const by = Object.fromEntries(rows.map((x) => [key(x), x]));
      for (const [name, [status, detail]] of Object.entries(EXPECTED)) {
        expect(by[name]?.['status'], `${name}: ${String(by[name]?.['detail'])}`).toBe(status);
        expect(String(by[name]?.['detail']), name).toMatch(detail);
        if (status !== 'ok') expect(String(by[name]?.['detail']), name).toContain(LABEL[kind]);
      }
      if (kind === 'fat') {
        const huge = rows.find((x) => String(x['path']).endsWith('huge.bin.aspera-env'))!;
        expect(huge).toMatchObject({ status: 'too-large', bytes: 0 });
        expect(String(huge['detail'])).toBe(`its plaintext is 4294967296 bytes, larger than ${LABEL.fat} holds in one file (4 GiB - 1 byte); nothing was written`);
      }
      expect(rows.some((x) => x['status'] === 'exists' || x['status'] === 'io-error')).toBe(false);
      expect(summary['drives']).toEqual([expect.objectContaining({ file_system: LABEL[kind], windows_names: true, case_insensitive: true })]);
      // Nothing but the one good output: no partial file, no temporary file, no folder for the bad name's file.
      expect(listTree(out)).toEqual(['plain.txt']);
      expect(readFileSync(path.join(out, 'plain.txt'), 'utf8')).toBe(TREE['plain.txt']);
      // People get the rule and a hint on each failing line.
      const human = aenv(['decrypt', tree, '-o', path.join(drive.dir, 'out-h'), '--password-file', pw]);
      expect(human.stderr).toMatch(/^bad-name\s+.*CON\.txt\.aspera-env: .*device name CON/m);
      expect(human.stderr).toMatch(/^name-conflict\s+.*Report\.txt\.aspera-env: /m);
      expect(human.stderr).toMatch(/hint: rename the envelope, or pass --portable-names/);
      expect(human.stderr).toMatch(new RegExp(`output drive: ${LABEL[kind].replace(/[()]/g, '\\$&')} at `));
      expect(hasStackTrace(human.stderr)).toBe(false);
    }, 60_000);

    it('--portable-names: every name committed under one the drive holds, each renaming in its row and the summary; a rerun skips them all', () => {
      const out = path.join(drive.dir, 'portable');
      const r = aenv(['decrypt', tree, '-o', out, '--password-file', pw, '--json', '--portable-names']);
      expect(r.code, r.stderr).toBe(0);
      const { rows, summary } = rowsOf(r.stdout);
      expect(rows.map((x) => x['status'])).toEqual(Object.keys(TREE).map(() => 'ok'));
      const renamed = rows.filter((x) => x['renamed_from'] !== undefined);
      expect(renamed.map(key).sort()).toEqual(['CON.txt', 'bell\u0007.txt', 'draft ', 'notes.', 'report.txt', 'sub/a:b?.txt'].sort());
      expect(summary['renamed']).toBe(6);
      for (const row of rows) {
        const name = key(row);
        const output = String(row['output']);
        expect(readFileSync(output, 'utf8'), name).toBe(TREE[name]);
        if (row['renamed_from'] === undefined) {
          expect(rel(out, output)).toBe(name);
          continue;
        }
        expect(rel(out, row['renamed_from'])).toBe(name);
        expect(String(row['rename_reason'])).toMatch(new RegExp(`^${LABEL[kind].replace(/[()]/g, '\\$&')}: `));
        const mapped = path.basename(output);
        if (name === 'report.txt') expect(mapped).toMatch(/^report~[0-9a-f]{8}\.txt$/); // told apart from Report.txt, which keeps its name
        else expect(originalName(mapped, kind === 'fat' ? 'percent' : 'look-alike')).toBe(path.basename(name)); // reversible
      }
      const names = listTree(out);
      expect(names).toHaveLength(Object.keys(TREE).length);
      if (kind === 'fat') expect(names).toContain('sub/a%3Ab%3F.txt');
      else expect(names).toContain('sub/a\uff1ab\uff1f.txt');
      // The same names every run: a rerun finds every output in place.
      const again = aenv(['decrypt', tree, '-o', out, '--password-file', pw, '--json', '--portable-names', '--skip-existing']);
      expect(again.code, again.stderr).toBe(0);
      expect(rowsOf(again.stdout).rows.map((x) => x['status'])).toEqual(Object.keys(TREE).map(() => 'skipped'));
      // People see each renaming under its row.
      const human = aenv(['decrypt', tree, '-o', path.join(drive.dir, 'portable-h'), '--password-file', pw, '--portable-names']);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^\s+renamed: "sub\/a:b\?\.txt" -> "sub\/a.*b.*\.txt" \(.*"a:b\?\.txt" holds ":" and "\?".*; --portable-names\)$/m);
      expect(human.stderr).toMatch(/renamed: 6 outputs by --portable-names/);
    }, 60_000);

    it('a name that folds onto a file already on the drive is a name-conflict, not "exists"; the same name still is exists', () => {
      const out = path.join(drive.dir, 'existing');
      mkdirSync(out);
      writeFileSync(path.join(out, 'REPORT.TXT'), 'there before');
      writeFileSync(path.join(out, 'plain.txt'), 'there before');
      const r = aenv(['decrypt', path.join(tree, 'Report.txt.aspera-env'), path.join(tree, 'plain.txt.aspera-env'), '-o', out, '--password-file', pw, '--json']);
      const { rows } = rowsOf(r.stdout);
      expect(rows[0]).toMatchObject({ status: 'name-conflict' });
      expect(String(rows[0]!['detail'])).toMatch(/Report\.txt and .*REPORT\.TXT \(already there\) are one name/);
      expect(rows[1]).toMatchObject({ status: 'exists' });
      expect(readFileSync(path.join(out, 'REPORT.TXT'), 'utf8')).toBe('there before');
      expect(listTree(out).sort()).toEqual(['REPORT.TXT', 'plain.txt']);
    }, 60_000);

    it('the commit (rename with identity checks where there are no hard links): committed once, never over another file, never a swapped temporary file', async () => {
      const d = path.join(drive.dir, 'commit');
      mkdirSync(d);
      const dir = OutputDir.resolve(d, '');
      const a = AtomicOutput.create(dir, 'final.bin');
      a.writeSync([Buffer.from('first')]);
      await a.commit(false, true);
      expect(readFileSync(path.join(d, 'final.bin'), 'utf8')).toBe('first');
      const b = AtomicOutput.create(dir, 'final.bin');
      b.writeSync([Buffer.from('second')]);
      await expect(b.commit(false, false)).rejects.toBeInstanceOf(ExistsError);
      b.discard();
      expect(readFileSync(path.join(d, 'final.bin'), 'utf8')).toBe('first');
      const c = AtomicOutput.create(dir, 'other.bin');
      c.writeSync([Buffer.from('aenv wrote this')]);
      renameSync(c.tempPath, path.join(d, 'moved-away'));
      writeFileSync(c.tempPath, 'someone else'); // another file under the temporary name
      await expect(c.commit(false, false)).rejects.toMatchObject({ code: 'ETAMPERED' });
      c.discard();
      expect(existsSync(path.join(d, 'other.bin'))).toBe(false);
      expect(readFileSync(c.tempPath, 'utf8')).toBe('someone else'); // not aenv's to remove
      rmSync(c.tempPath);
      expect(readFileSync(path.join(d, 'moved-away')).length).toBe(0); // aenv's plaintext truncated wherever it went
      const forced = AtomicOutput.create(dir, 'final.bin');
      forced.writeSync([Buffer.from('replaced')]);
      await forced.commit(true, true);
      expect(readFileSync(path.join(d, 'final.bin'), 'utf8')).toBe('replaced');
      expect(temps(d)).toEqual([]);
    });

    it('encrypt onto the drive: the same rules for the envelopes\' names, --portable-names too, and a plaintext too large for FAT32 fails before it is read', () => {
      const plain = path.join(work.dir, `enc-${kind}`);
      mkdirSync(plain, { recursive: true });
      writeFileSync(path.join(plain, 'a:b.txt'), 'sealed onto the drive\n');
      const out = path.join(drive.dir, 'sealed');
      const r = aenv(['encrypt', plain, '-o', out, '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
      expect(r.code).toBe(1);
      expect(rowsOf(r.stdout).rows[0]).toMatchObject({ status: 'bad-name', detail: expect.stringMatching(/"a:b\.txt\.aspera-env" holds ":"/) });
      const p = aenv(['encrypt', plain, '-o', out, '--kdf', 'pbkdf2', '--password-file', pw, '--json', '--portable-names']);
      expect(p.code, p.stderr).toBe(0);
      const row = rowsOf(p.stdout).rows[0]!;
      expect(row).toMatchObject({ status: 'ok', renamed_from: path.join(out, 'a:b.txt.aspera-env') });
      expect(path.basename(String(row['output']))).toBe(kind === 'fat' ? 'a%3Ab.txt.aspera-env' : 'a\uff1ab.txt.aspera-env');
      const back = aenv(['decrypt', '-', '--password-file', pw], { input: readFileSync(String(row['output'])) });
      expect(back.stdout).toBe('sealed onto the drive\n');
      if (kind === 'fat') {
        const huge = path.join(work.dir, 'enc-huge');
        mkdirSync(huge, { recursive: true });
        spawnSync('truncate', ['-s', String(2 ** 32), path.join(huge, 'huge.bin')]); // sparse: 4 GiB of plaintext
        const h = aenv(['encrypt', huge, '-o', path.join(drive.dir, 'sealed-huge'), '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
        expect(rowsOf(h.stdout).rows[0]).toMatchObject({ status: 'too-large', detail: expect.stringMatching(/^its envelope is 4296016040 bytes, larger than FAT \(fusefat\) holds/) });
        expect(existsSync(path.join(drive.dir, 'sealed-huge'))).toBe(false); // nothing written: the -o folder the run made is removed again
      }
    }, 60_000);

    it('shared-folder warning: a mount that keeps no permissions is said to be one (or not warned about when no other user can reach it)', () => {
      const r = aenv(['decrypt', path.join(tree, 'plain.txt.aspera-env'), '-o', path.join(drive.dir, 'warn'), '--password-file', pw]);
      expect(r.code, r.stderr).toBe(0);
      if (kind === 'fat') {
        expect(r.stderr).not.toMatch(/warning/); // fusefat without allow_other: only root reaches it
      } else {
        expect(r.stderr).toMatch(new RegExp(`warning: .*warn is on ${LABEL[kind].replace(/[()]/g, '\\$&')}, which keeps no owners or permissions here: the mount shows every file and folder as writable by everyone \\(mode 0777\\)`));
        expect(r.stderr).not.toMatch(/without the sticky bit/);
      }
    }, 60_000);
  });

  describe.each(DRIVE_KINDS)('faults on %s', (kind) => {
    let plain: string;
    const sums = new Map<string, string>();
    beforeAll(async () => {
      plain = path.join(work.dir, `faults-${kind}`);
      mkdirSync(plain, { recursive: true });
      const sizes: Record<string, number> = { 'a-small.bin': 100_000, 'b-big.bin': 3 * MiB, 'c-small.bin': 200_000 };
      for (const [name, n] of Object.entries(sizes)) {
        const data = Buffer.alloc(n);
        for (let i = 0; i < n; i += 4096) data.writeUInt32LE((i * 2654435761) >>> 0, i);
        writeFileSync(path.join(plain, `${name}.aspera-env`), await sealCheap(data, PASSWORD));
        sums.set(name, sha256(data));
      }
    });

    it('disk full: the file that does not fit fails with io-error and leaves nothing; with room again a rerun completes', () => {
      const drive = mountDrive(kind, kind === 'fat' ? 34 : 16);
      try {
        const out = path.join(drive.dir, 'out');
        mkdirSync(out);
        // Fill the drive (fusefat tells no free space: write until ENOSPC), then give back about
        // 1.5 MiB: room for the small files, not for the big one.
        const filler = path.join(drive.dir, 'filler');
        const fd = openSync(filler, 'w');
        const chunk = Buffer.alloc(MiB);
        let written = 0;
        try {
          for (;;) written += writeSync(fd, chunk);
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).toBe(kind === "fat" ? "EPERM" : "ENOSPC"); // fusefat says EPERM when full
        }
        ftruncateSync(fd, Math.max(0, written - 1.5 * MiB));
        closeSync(fd);
        const r = aenv(['decrypt', plain, '-o', out, '--password-file', pw, '--json', '--jobs', '1']);
        expect(r.code).toBe(1);
        const statuses = Object.fromEntries(rowsOf(r.stdout).rows.map((x) => [path.basename(String(x['path'])), [x['status'], x['detail']]]));
        expect(statuses['a-small.bin.aspera-env']?.[0]).toBe('ok');
        expect(statuses['c-small.bin.aspera-env']?.[0]).toBe('ok');
        expect(statuses['b-big.bin.aspera-env']).toEqual(['io-error', expect.stringMatching(kind === 'fat'
          ? /^operation not permitted \(EPERM in write\): FAT \(fusefat\) says so when the drive is full$/
          : /no space left on the device \(ENOSPC/)]);
        expect(listTree(out)).toEqual(['a-small.bin', 'c-small.bin']); // no partial, no temporary file
        rmSync(filler);
        const again = aenv(['decrypt', plain, '-o', out, '--password-file', pw, '--json', '--skip-existing']);
        expect(again.code, again.stderr).toBe(0);
        expect(rowsOf(again.stdout).rows.map((x) => x['status'])).toEqual(['skipped', 'ok', 'skipped']);
        for (const [name, sum] of sums) expect(sha256(path.join(out, name)), name).toBe(sum);
        expect(listTree(out)).toEqual([...sums.keys()]);
      } finally {
        drive.unmount();
      }
    }, 120_000);

    it('kill -9 in the middle of a file: no plaintext under the final name; the next run removes the dead run\'s temporary file and completes', async () => {
      const drive = mountDrive(kind, kind === 'fat' ? 40 : 160);
      try {
        const src = path.join(work.dir, `kill-${kind}`);
        mkdirSync(src, { recursive: true });
        const data = Buffer.alloc((kind === 'fat' ? 16 : 64) * MiB); // fusefat writes slowly: 16 MiB is still caught mid-file
        for (let i = 0; i < data.length; i += 8) data.writeUInt32LE((i * 2654435761) >>> 0, i);
        writeFileSync(path.join(src, 'big.bin.aspera-env'), await sealCheap(data, PASSWORD, 20));
        const out = path.join(drive.dir, 'out');
        const child = aenvAsync(['decrypt', src, '-o', out, '--password-file', pw, '--backend', 'noble']);
        let said = '';
        child.stdout.on('data', (d: Buffer) => (said += d.toString()));
        child.stderr.on('data', (d: Buffer) => (said += d.toString()));
        const closed = new Promise<NodeJS.Signals | null>((res) => child.on('close', (_code, signal) => res(signal)));
        let seen: string[] = [];
        // the output's temporary file with data in it (not the probe of the drive, 16 bytes, which the run removes itself)
        expect(await waitFor(() => existsSync(out) && (seen = temps(out)).length > 0 && tempBytes(out) > 16, 30_000)).toBe(true);
        child.kill('SIGKILL');
        expect(await closed, `the run ended before it was killed: ${said}`).toBe('SIGKILL');
        expect(existsSync(path.join(out, 'big.bin'))).toBe(false);
        expect(temps(out)).toEqual(seen);
        const again = aenv(['decrypt', src, '-o', out, '--password-file', pw, '--json']);
        expect(again.code, again.stderr).toBe(0);
        expect(listTree(out)).toEqual(['big.bin']);
        expect(sha256(path.join(out, 'big.bin'))).toBe(sha256(data));
        rmSync(src, { recursive: true, force: true });
      } finally {
        drive.unmount();
      }
    }, 120_000);

    it('a read-only drive: decrypting onto it fails per file with io-error naming the read-only file system; decrypting from it works', () => {
      const drive = mountDrive(kind, 48);
      try {
        mkdirSync(path.join(drive.dir, 'out'));
        copyTree(plain, path.join(drive.dir, 'in'));
        drive.remountRo();
        expect(() => writeFileSync(path.join(drive.dir, 'probe'), 'x')).toThrow(/EROFS|EACCES|EPERM/);
        const r = aenv(['decrypt', plain, '-o', path.join(drive.dir, 'out'), '--password-file', pw, '--json']);
        expect(r.code).toBe(1);
        const { rows } = rowsOf(r.stdout);
        expect(rows).toHaveLength(3);
        for (const row of rows) {
          expect(row['status']).toBe('io-error');
          expect(String(row['detail'])).toMatch(/read-only.*EROFS/);
        }
        expect(hasStackTrace(r.stderr)).toBe(false);
        expect(listTree(path.join(drive.dir, 'out'))).toEqual([]);
        const back = path.join(work.dir, `from-ro-${kind}`);
        const d = aenv(['decrypt', path.join(drive.dir, 'in'), '-o', back, '--password-file', pw, '--json']);
        expect(d.code, d.stderr).toBe(0);
        for (const [name, sum] of sums) expect(sha256(path.join(back, name)), name).toBe(sum);
      } finally {
        drive.unmount();
      }
    }, 60_000);
  });

  describe('names held by NTFS but not by Linux\'s own file systems', () => {
    it('in place on NTFS (ntfs-3g creates the names Windows cannot open): the same rules; a 256-byte name onto tmpfs: bad-name, or shortened with --portable-names', async () => {
      const drive = mountDrive('ntfs', 32);
      try {
        // ntfs-3g holds every name of the tree; decrypting beside the envelopes still follows Windows' rules.
        const inPlace = path.join(drive.dir, 'tree');
        copyTree(tree, inPlace);
        const r = aenv(['decrypt', inPlace, '--password-file', pw, '--json']);
        const by = Object.fromEntries(rowsOf(r.stdout).rows.map((x) => [path.relative(inPlace, String(x['path'])).replace(/\.aspera-env$/, ''), x['status']]));
        expect(by).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([n, [s]]) => [n, s])));
        // 130 "é" are 130 UTF-16 units (NTFS holds them) but 260 bytes (ext4 and tmpfs hold 255).
        const long = `${'\u00e9'.repeat(130)}.txt`;
        writeFileSync(path.join(drive.dir, `${long}.aspera-env`), await sealCheap(Buffer.from('long name\n'), PASSWORD));
        const ram = path.join(work.dir, 'long-out');
        const bad = aenv(['decrypt', path.join(drive.dir, `${long}.aspera-env`), '-o', ram, '--password-file', pw, '--json']);
        expect(rowsOf(bad.stdout).rows[0]).toMatchObject({ status: 'bad-name', detail: expect.stringMatching(/is 264 bytes long \(at most 255\)/) });
        const ok = aenv(['decrypt', path.join(drive.dir, `${long}.aspera-env`), '-o', ram, '--password-file', pw, '--json', '--portable-names']);
        const row = rowsOf(ok.stdout).rows[0]!;
        expect(row).toMatchObject({ status: 'ok', renamed_from: path.join(ram, long) });
        expect(path.basename(String(row['output']))).toMatch(/^\u00e9+~[0-9a-f]{8}\.txt$/);
        expect(Buffer.byteLength(path.basename(String(row['output'])))).toBeLessThanOrEqual(255);
        expect(readFileSync(String(row['output']), 'utf8')).toBe('long name\n');
        expect(statSync(ram).isDirectory()).toBe(true);
      } finally {
        drive.unmount();
      }
    }, 60_000);
  });
});
