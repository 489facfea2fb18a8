// Where IBM's tool writes (issue 21): the private folder (src/fsops/private-folder.ts) and the
// tool's output in it (src/foreign/tool-output.ts), in process on real folders: created 0700,
// aenv's user, aenv's temporary naming, with its marker; reached through a descriptor path
// (/proc/self/fd/N/NAME), so a rename or replacement of its name changes nothing; settle, commit
// and discard; the stale clean-up of a killed run's folder and what it refuses to empty; and the
// fallback by name, refused in a folder other users can change. The same attacks run for real
// by a second user are in test/hostile-folders.test.ts.

import fsDefault, { type PathLike, chmodSync, chownSync, closeSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolOutput } from '../src/foreign/tool-output.js';
import { ExistsError, hostTag, removeStaleTemps } from '../src/fsops/atomic.js';
import { OutputDir } from '../src/fsops/dirs.js';
import { PlanError } from '../src/fsops/errors.js';
import { fdPathsWork, MARKER, PrivateFolder, removeStalePrivate } from '../src/fsops/private-folder.js';
import { tempDir } from './helpers/cli.js';

const IS_ROOT = process.getuid?.() === 0;
const LINUX = process.platform === 'linux';
const tmp = tempDir('aenv-tool-output-');
afterAll(() => tmp.cleanup());
let n = 0;
let dir: string;
beforeEach(() => {
  dir = path.join(tmp.dir, `case-${n++}`);
  mkdirSync(dir);
});

const fds = (): number => readdirSync('/proc/self/fd').length;

/** Replaces fs.<name> for the code under test (its `import * as fs` sees the change) until the test ends. */
const patched: [keyof typeof fsDefault, unknown][] = [];
function patch<K extends keyof typeof fsDefault>(name: K, fn: (orig: (typeof fsDefault)[K]) => (typeof fsDefault)[K]): void {
  patched.push([name, fsDefault[name]]);
  (fsDefault as Record<string, unknown>)[name] = fn(fsDefault[name]);
  syncBuiltinESMExports();
}
afterEach(() => {
  for (const [name, orig] of patched.splice(0).reverse()) (fsDefault as Record<string, unknown>)[name] = orig;
  syncBuiltinESMExports();
});
const TEMP = /^\.aenv-\d+-[0-9a-f]{16}\.partial$/;

/** What a tool does with `-o OUT`: opens it by name with O_CREAT|O_TRUNC and writes. */
function toolWrites(p: string, text: string, mode = 0o644): void {
  writeFileSync(p, text, { mode });
}

describe.skipIf(!LINUX)('the private folder', () => {
  it('is made exclusively in the output folder: 0700, aenv\'s user, aenv\'s temporary naming, the marker inside, reached through a descriptor', () => {
    expect(fdPathsWork()).toBe(true);
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'report.csv');
    const names = readdirSync(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(TEMP);
    const st = lstatSync(path.join(dir, names[0]!));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.uid).toBe(process.getuid!());
    expect(readdirSync(path.join(dir, names[0]!))).toEqual([MARKER]);
    expect(out.toolPath).toBe('/proc/self/fd/3/report.csv');
    expect(out.fds).toHaveLength(1);
    expect(out.ownPath).toBe(`/proc/self/fd/${out.fds[0]}/report.csv`);
    expect(out.finalPath).toBe(path.join(dir, 'report.csv'));
    out.discard();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('its name renamed away and replaced by another folder: the write and the commit still go through aenv\'s folder; discard finds it where it went', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    const name = readdirSync(dir)[0]!;
    renameSync(path.join(dir, name), path.join(dir, 'moved-away'));
    mkdirSync(path.join(dir, name), 0o777); // the planted folder, where a by-name write would land
    toolWrites(out.ownPath, 'the plaintext');
    expect(readdirSync(path.join(dir, name))).toEqual([]);
    expect(readFileSync(path.join(dir, 'moved-away', 'final'), 'utf8')).toBe('the plaintext');
    const s = await out.settle();
    expect(s).toMatchObject({ ok: true, size: 13 });
    await out.commit(false, false);
    expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('the plaintext');
    expect(statSync(path.join(dir, 'final')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([name, 'final'].sort()); // aenv's folder went from where it was moved; the planted one stays
  });

  it('settle refuses what is not one regular file of aenv\'s user: nothing, a link, a folder, a second hard link', async () => {
    const cases: [string, (p: string) => void, string][] = [
      ['nothing', () => undefined, 'the tool left no output file'],
      ['link', (p) => symlinkSync('/etc/hostname', p), 'the tool put a symbolic link where its output should be'],
      ['folder', (p) => mkdirSync(p), 'the tool\'s output is not a regular file'],
      ['hardlink', (p) => { toolWrites(p, 'x'); linkSync(p, `${p}.second`); }, 'the tool\'s output has 2 names (hard links)'],
    ];
    for (const [what, make, reason] of cases) {
      const out = ToolOutput.create(OutputDir.resolve(dir, ''), what);
      make(out.ownPath);
      expect(await out.settle(), what).toEqual({ ok: false, reason });
      out.discard();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!IS_ROOT)('settle refuses a file of another user (root only: needs chown)', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    toolWrites(out.ownPath, 'planted');
    chownSync(out.ownPath, 65534, 65534);
    expect(await out.settle()).toEqual({ ok: false, reason: 'the tool\'s output belongs to another user' });
    out.discard();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file written aside and renamed over the name is accepted; mode 0600; an empty file is an output too', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    toolWrites(`${out.ownPath}.tmp`, 'renamed into place', 0o644);
    renameSync(`${out.ownPath}.tmp`, out.ownPath);
    expect(await out.settle()).toMatchObject({ ok: true, size: 18 });
    await out.commit(false, true);
    expect(statSync(path.join(dir, 'final')).mode & 0o777).toBe(0o600);
    const empty = ToolOutput.create(OutputDir.resolve(dir, ''), 'empty');
    toolWrites(empty.ownPath, '');
    expect(await empty.settle()).toMatchObject({ ok: true, size: 0 });
    await empty.commit(false, false);
    expect(readdirSync(dir).sort()).toEqual(['empty', 'final']);
  });

  it('commit never replaces unless asked: ExistsError, then discard leaves nothing; with replace the old file goes', async () => {
    writeFileSync(path.join(dir, 'final'), 'OLD');
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    toolWrites(out.ownPath, 'NEW');
    await out.settle();
    await expect(out.commit(false, false)).rejects.toBeInstanceOf(ExistsError);
    out.discard();
    expect(readdirSync(dir)).toEqual(['final']);
    expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('OLD');
    const again = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    toolWrites(again.ownPath, 'NEW');
    await again.settle();
    await again.commit(true, false);
    expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('NEW');
    expect(readdirSync(dir)).toEqual(['final']);
  });

  it('discard after settle truncates the accepted file through aenv\'s descriptor: its plaintext is gone from a name it went to', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    toolWrites(out.ownPath, 'secret plaintext');
    await out.settle();
    linkSync(out.ownPath, path.join(dir, 'elsewhere')); // a name the file got after the check
    out.discard();
    expect(readFileSync(path.join(dir, 'elsewhere'), 'utf8')).toBe('');
    expect(readdirSync(dir)).toEqual(['elsewhere']);
  });

  it('discard removes whatever the tool left inside, subfolders and links (never followed) included', () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    const victim = path.join(tmp.dir, `victim-${n}`);
    writeFileSync(victim, 'keep me');
    mkdirSync(`${out.ownPath}.d/deeper`, { recursive: true });
    writeFileSync(`${out.ownPath}.d/deeper/x`, 'x');
    symlinkSync(victim, `${out.ownPath}.link`);
    symlinkSync(path.dirname(victim), `${out.ownPath}.dirlink`);
    out.discard();
    expect(readdirSync(dir)).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it('every path closes its descriptors: commit, discard, a refused settle', async () => {
    const before = fds();
    const a = ToolOutput.create(OutputDir.resolve(dir, ''), 'a');
    toolWrites(a.ownPath, 'a');
    await a.settle();
    await a.commit(false, false);
    const b = ToolOutput.create(OutputDir.resolve(dir, ''), 'b');
    toolWrites(b.ownPath, 'b');
    await b.settle();
    b.discard();
    const c = ToolOutput.create(OutputDir.resolve(dir, ''), 'c');
    await c.settle();
    c.discard();
    expect(fds()).toBe(before);
  });

  it('its new name swapped for a link before aenv opens it: refused, a new name tried (5 in all), never used', () => {
    let swaps = 0;
    let limit = 1;
    patch('mkdirSync', (orig) => ((p: PathLike, mode?: number) => {
      const r = orig(p, mode);
      if (typeof p === 'string' && TEMP.test(path.basename(p)) && swaps < limit) {
        swaps++;
        renameSync(p, path.join(dir, `moved-${swaps}`)); // the attacker's rename, then its link (a folder of its own is refused by owner: hostile-folders)
        symlinkSync(tmp.dir, p);
      }
      return r;
    }) as typeof orig);
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    expect(swaps).toBe(1);
    expect(out.fds).toHaveLength(1);
    out.discard();
    limit = 100;
    swaps = 0;
    let err: unknown;
    try {
      ToolOutput.create(OutputDir.resolve(dir, ''), 'final');
    } catch (e) {
      err = e;
    }
    expect(swaps).toBe(5);
    expect((err as NodeJS.ErrnoException).code).toBe('ETAMPERED');
    expect((err as Error).message).toMatch(/^the private folder \S+ was replaced by another user's file, folder or link as aenv created it; nothing was committed$/);
    expect(readdirSync(tmp.dir).some((x) => TEMP.test(x))).toBe(false); // nothing was made through the links
  });

  it('an output named like the marker does not clash with it', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), MARKER);
    expect(out.toolPath).toBe(`/proc/self/fd/3/_${MARKER}`);
    toolWrites(out.ownPath, 'm');
    await out.settle();
    await out.commit(false, false);
    expect(readFileSync(path.join(dir, MARKER), 'utf8')).toBe('m');
  });
});

describe.skipIf(!LINUX)('the stale clean-up of private folders', () => {
  /** A private folder as a run with pid `pid` leaves it when killed. */
  function leftover(pid: number, content = true): string {
    const f = PrivateFolder.create(dir, `.aenv-${pid}-${hostTag()}89abcdef.partial`);
    if (content) {
      writeFileSync(f.own('plain'), 'stale plaintext');
      mkdirSync(f.own('sub'));
      writeFileSync(f.own('sub/x'), 'x');
    }
    const p = f.path;
    closeSync(f.fd); // left as a killed run leaves it: nothing removed
    return p;
  }

  it('a dead run\'s folder goes with all in it; a live run\'s stays', () => {
    const dead = leftover(2147483646);
    const live = leftover(1);
    expect(removeStaleTemps(dir)).toEqual([dead]);
    expect(readdirSync(dir)).toEqual([path.basename(live)]);
  });

  it('a folder without the marker, not 0700, or a link to a folder is never emptied', () => {
    const victim = path.join(dir, `.aenv-2147483646-${hostTag()}000000aa.partial`);
    mkdirSync(victim, 0o700);
    writeFileSync(path.join(victim, 'the victim\'s file'), 'keep');
    const loose = leftover(2147483645);
    chmodSync(loose, 0o755);
    const target = path.join(tmp.dir, `target-${n}`);
    mkdirSync(target);
    writeFileSync(path.join(target, MARKER), '');
    writeFileSync(path.join(target, 'kept'), 'kept');
    chmodSync(target, 0o700);
    symlinkSync(target, path.join(dir, `.aenv-2147483646-${hostTag()}000000bb.partial`));
    removeStaleTemps(dir);
    expect(readdirSync(victim)).toEqual(['the victim\'s file']);
    expect(readdirSync(loose).sort()).toEqual([MARKER, 'plain', 'sub']);
    expect(readdirSync(target).sort()).toEqual([MARKER, 'kept']); // the link itself went, never followed
    expect(existsSync(path.join(dir, `.aenv-2147483646-${hostTag()}000000bb.partial`))).toBe(false);
    expect(removeStalePrivate(path.join(dir, 'no-such'))).toBe(false);
  });

  it.skipIf(!IS_ROOT)('a folder of another user is never emptied (root only: needs chown)', () => {
    const theirs = leftover(2147483644);
    chownSync(theirs, 65534, 65534);
    removeStaleTemps(dir);
    expect(readdirSync(theirs).sort()).toEqual([MARKER, 'plain', 'sub']);
  });
});

describe('by name, where no descriptor path exists', () => {
  it('is refused in a folder other users can change, with a one-line error saying where it would be safe', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    let err: unknown;
    try {
      ToolOutput.create(OutputDir.resolve(shared, ''), 'final', 'name');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).message).toBe(`refusing to run IBM's tool into ${shared}: ${shared} is writable by all users (mode 0777, no sticky bit), and on this system the tool can only be given a file name there, which another user could redirect`);
    expect((err as PlanError).hint).toMatch(/^give -o a folder that nobody but root and you can change/);
    expect(readdirSync(shared)).toEqual([]);
  });

  it('works in a folder only aenv\'s user can change: the tool gets the folder\'s path, and the commit is the same', async () => {
    const out = ToolOutput.create(OutputDir.resolve(dir, ''), 'final', 'name');
    expect(out.fds).toEqual([]);
    expect(path.basename(path.dirname(out.toolPath))).toMatch(TEMP);
    expect(out.ownPath).toBe(out.toolPath);
    toolWrites(out.toolPath, 'by name');
    await out.settle();
    await out.commit(false, false);
    expect(readdirSync(dir)).toEqual(['final']);
  });
});
