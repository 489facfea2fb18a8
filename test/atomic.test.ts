// The atomic output (src/fsops/atomic.ts) in process, step by step: the temporary file (name,
// mode, exclusive create in the checked folder), writes in order, the commit without replacing
// (link, then the temp name goes) or replacing (rename), the folder's flush now or marked for the
// end of the run, and every check that binds the commit to the file aenv wrote: the folder
// chain at create and commit, the temp name before the commit, the final name after it (a
// second writer's race is played here by wrapping the fs call at the exact step, through
// node:module's syncBuiltinESMExports), the fallback for file systems without hard links, and
// the clean-up of dead runs' temporary files and private folders (IBM's tool's output is in
// test/tool-output.test.ts). The CLI tests (hostile-folders, faults-*) run the same code in a
// child process; these are the ones a mutant of atomic.ts can fail.

import fsDefault, { type PathLike, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicOutput, ExistsError, hostTag, isTempName, removeStaleTemps, tempName } from '../src/fsops/atomic.js';
import { OutputDir } from '../src/fsops/dirs.js';
import { after } from '../src/fsops/iovec.js';
import { PrivateFolder } from '../src/fsops/private-folder.js';
import { tempDir } from './helpers/cli.js';

const tmp = tempDir('aenv-atomic-');
afterAll(() => tmp.cleanup());
let dir: string;
let n = 0;
beforeEach(() => {
  dir = path.join(tmp.dir, `d${n++}`);
  mkdirSync(dir);
});

/** Replaces fs.<name> for the code under test (its `import * as fs` sees the change) until restored. */
const patched: [keyof typeof fsDefault, unknown][] = [];
function patch<K extends keyof typeof fsDefault>(name: K, fn: (orig: (typeof fsDefault)[K]) => (typeof fsDefault)[K]): void {
  const orig = fsDefault[name];
  patched.push([name, orig]);
  (fsDefault as Record<string, unknown>)[name] = fn(orig);
  syncBuiltinESMExports();
}
afterEach(() => {
  for (const [name, orig] of patched.splice(0).reverse()) (fsDefault as Record<string, unknown>)[name] = orig;
  syncBuiltinESMExports();
});

const temps = (d = dir) => readdirSync(d).filter(isTempName);
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).constructor.name;
  }
  return 'no error';
};
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).constructor.name;
  }
  return 'no error';
}

describe('temporary names', () => {
  it('are .aenv-PID-16hex.partial, different each time, and only those count as temporary', () => {
    const a = tempName();
    const b = tempName();
    expect(a).toMatch(new RegExp(`^\\.aenv-${process.pid}-${hostTag()}[0-9a-f]{8}\\.partial$`));
    expect(a).not.toBe(b);
    expect(isTempName(a)).toBe(true);
    for (const other of ['.aenv-12-0123456789abcdef.partial.x', 'x.aenv-12-0123456789abcdef.partial', '.aenv--0123456789abcdef.partial',
      '.aenv-12-0123456789abcde.partial', '.aenv-12-0123456789ABCDEF.partial', '.aenv-1x-0123456789abcdef.partial', 'aenv-12-0123456789abcdef.partial']) {
      expect([other, isTempName(other)]).toEqual([other, false]);
    }
    expect(isTempName('.aenv-12-0123456789abcdef.partial')).toBe(true);
  });

  it('removeStaleTemps removes those of this machine\'s runs no longer alive, keeps its own, a live process\'s, another machine\'s and other names', () => {
    const dead = `.aenv-2147483646-${hostTag()}89abcdef.partial`; // no such pid
    const mine = tempName();
    const live = `.aenv-1-${hostTag()}89abcdef.partial`; // init: alive (EPERM or not, it exists)
    const elsewhere = `.aenv-2147483646-${hostTag('another-node')}89abcdef.partial`; // a shard on another machine, same shared folder
    expect(hostTag('another-node')).not.toBe(hostTag());
    for (const f of [dead, mine, live, elsewhere, 'keep.partial', '.aenv-x.partial']) writeFileSync(path.join(dir, f), 'x');
    expect(removeStaleTemps(dir)).toEqual([path.join(dir, dead)]);
    expect(readdirSync(dir).sort()).toEqual([live, mine, elsewhere, '.aenv-x.partial', 'keep.partial'].sort());
    expect(removeStaleTemps(path.join(dir, 'no-such-folder'))).toEqual([]);
  });

  it('removeStaleTemps removes a dead run\'s private folder (IBM\'s tool\'s, fsops/private-folder.ts) with all in it; never a folder without its marker', () => {
    const dead = PrivateFolder.create(dir, `.aenv-2147483646-${hostTag()}000000cc.partial`);
    writeFileSync(dead.own('plain'), 'stale plaintext');
    fsDefault.closeSync(dead.fd); // left as a killed run leaves it
    const unmarked = path.join(dir, `.aenv-2147483646-${hostTag()}000000dd.partial`);
    mkdirSync(unmarked, 0o700);
    writeFileSync(path.join(unmarked, 'someone\'s file'), 'keep');
    expect(removeStaleTemps(dir)).toEqual([dead.path]);
    expect(readdirSync(dir)).toEqual([path.basename(unmarked)]);
    expect(readdirSync(unmarked)).toEqual(['someone\'s file']);
  });
});

describe('create, write, commit', () => {
  it('creates the temporary file exclusively, mode 0600, in the folder, and knows its identity', () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    const st = lstatSync(out.tempPath);
    expect(path.dirname(out.tempPath)).toBe(dir);
    expect(isTempName(path.basename(out.tempPath))).toBe(true);
    expect(out.finalPath).toBe(path.join(dir, 'final'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(out.identity).toEqual({ dev: st.dev, ino: st.ino });
    out.discard();
    expect(temps()).toEqual([]);
  });

  it('writes buffers in order (async and sync, empty ones skipped), shows each write to onWrite, and commits by link: the final name is the same file, the temp name is gone', async () => {
    const d = OutputDir.resolve(dir, '');
    const out = AtomicOutput.create(d, 'final');
    const seen: string[] = [];
    out.onWrite = (bufs) => seen.push(bufs.map((b) => Buffer.from(b).toString()).join('|'));
    await out.write([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cd')]);
    out.writeSync([Buffer.alloc(0), Buffer.from('ef')]);
    await out.write([]);
    const id = out.identity;
    expect(existsSync(out.finalPath)).toBe(false); // nothing under the final name before the commit
    await out.commit(false, false);
    expect(readFileSync(out.finalPath, 'utf8')).toBe('abcdef');
    expect(seen).toEqual(['ab||cd', '|ef', '']);
    const st = lstatSync(out.finalPath);
    expect([st.dev, st.ino, st.nlink]).toEqual([id.dev, id.ino, 1]);
    expect(temps()).toEqual([]);
    expect(d.dirty).toBe(true); // flushed at the end of the run
    out.discard(); // after a commit: nothing happens to the committed file
    expect(readFileSync(out.finalPath, 'utf8')).toBe('abcdef');
  });

  it('a large output (past 1 MiB, flushed through the thread pool) arrives whole; durableName flushes the folder now', async () => {
    const d = OutputDir.resolve(dir, '');
    const out = AtomicOutput.create(d, 'big');
    const a = Buffer.alloc(700_000, 1);
    const b = Buffer.alloc(700_000, 2);
    await out.write([a]);
    out.writeSync([b]);
    await out.commit(false, true);
    expect(readFileSync(out.finalPath).equals(Buffer.concat([a, b]))).toBe(true);
    expect(d.dirty).toBe(false);
  });

  it('never replaces without being asked: ExistsError naming the target, the existing file untouched; discard then leaves nothing', async () => {
    writeFileSync(path.join(dir, 'final'), 'theirs');
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('mine')]);
    const e = await out.commit(false, false).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExistsError);
    expect((e as ExistsError).target).toBe(path.join(dir, 'final'));
    expect((e as ExistsError).message).toBe(`output exists: ${path.join(dir, 'final')}`);
    expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('theirs');
    expect(temps()).toHaveLength(1);
    out.discard();
    expect(readdirSync(dir)).toEqual(['final']);
  });

  it('replaces when asked (rename): the final name is this file, the temp name gone', async () => {
    writeFileSync(path.join(dir, 'final'), 'old');
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('new')]);
    await out.commit(true, false);
    expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('new');
    expect(lstatSync(path.join(dir, 'final')).ino).toBe(out.identity.ino);
    expect(readdirSync(dir)).toEqual(['final']);
  });

  it('discard truncates the data wherever its name went and removes the temp name only if it is still this file', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('secret plaintext')]);
    const moved = path.join(dir, 'moved');
    renameSync(out.tempPath, moved); // someone renamed it away ...
    writeFileSync(out.tempPath, 'other'); // ... and put their own file under its name
    out.discard();
    expect(readFileSync(moved, 'utf8')).toBe(''); // the plaintext is gone
    expect(readFileSync(out.tempPath, 'utf8')).toBe('other'); // their file is not ours to remove
  });
});

describe('the checks that bind a commit to the file aenv wrote', () => {
  it('a temp file renamed away and replaced before the commit: ETAMPERED, nothing under the final name', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('mine')]);
    renameSync(out.tempPath, path.join(dir, 'elsewhere'));
    writeFileSync(out.tempPath, 'attacker');
    for (const replace of [false, true]) {
      const e = await out.commit(replace, false).catch((x: unknown) => x as NodeJS.ErrnoException);
      expect(e?.code).toBe('ETAMPERED');
      expect(e?.message).toMatch(/renamed or replaced while aenv worked/);
      expect(existsSync(path.join(dir, 'final'))).toBe(false);
    }
    expect(await codeOf(out.commit(false, false))).toBe('ETAMPERED');
  });

  it('a temp file that is gone before the commit: ETAMPERED', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    rmSync(out.tempPath);
    expect(await codeOf(out.commit(false, false))).toBe('ETAMPERED');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the output folder swapped for a link before the commit: ETAMPERED, nothing written through the link', async () => {
    mkdirSync(path.join(dir, 'sub'));
    const target = path.join(dir, 'target');
    mkdirSync(target);
    const out = AtomicOutput.create(OutputDir.resolve(dir, 'sub'), 'final');
    await out.write([Buffer.from('mine')]);
    renameSync(path.join(dir, 'sub'), path.join(dir, 'sub-old'));
    symlinkSync(target, path.join(dir, 'sub'));
    const e = await out.commit(false, false).catch((x: unknown) => x as NodeJS.ErrnoException);
    expect(e?.code).toBe('ETAMPERED');
    expect(e?.message).toMatch(/replaced by a symbolic link/);
    expect(readdirSync(target)).toEqual([]);
  });

  it('the output folder swapped between resolve and create: create fails, its temp file removed from where it landed', () => {
    mkdirSync(path.join(dir, 'sub'));
    const target = path.join(dir, 'target');
    mkdirSync(target);
    const d = OutputDir.resolve(dir, 'sub');
    renameSync(path.join(dir, 'sub'), path.join(dir, 'sub-old'));
    symlinkSync(target, path.join(dir, 'sub'));
    expect(code(() => AtomicOutput.create(d, 'final'))).toBe('ETAMPERED');
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(path.join(dir, 'sub-old'))).toEqual([]);
  });

  it('another file under the temp name between the check and the link: the final name is removed again, ETAMPERED', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('mine')]);
    patch('linkSync', (orig) => ((a: PathLike, b: PathLike) => {
      renameSync(out.tempPath, path.join(dir, 'aside')); // the race: after checkTemp, before link
      writeFileSync(out.tempPath, 'attacker');
      orig(a, b);
    }) as typeof orig);
    const e = await out.commit(false, false).catch((x: unknown) => x as NodeJS.ErrnoException);
    expect(e?.code).toBe('ETAMPERED');
    expect(e?.message).toMatch(/replaced by another file/);
    expect(existsSync(path.join(dir, 'final'))).toBe(false);
    expect(readFileSync(out.tempPath, 'utf8')).toBe('attacker'); // not ours: left alone
    out.discard();
    expect(readFileSync(path.join(dir, 'aside'), 'utf8')).toBe(''); // ours: truncated
  });

  it('the same race with replace (rename): the attacker\'s file does not stay under the final name', async () => {
    writeFileSync(path.join(dir, 'final'), 'old');
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    patch('renameSync', (orig) => ((a: PathLike, b: PathLike) => {
      if (a === out.tempPath) {
        orig(out.tempPath, path.join(dir, 'aside'));
        writeFileSync(out.tempPath, 'attacker');
      }
      orig(a, b);
    }) as typeof orig);
    expect(await codeOf(out.commit(true, false))).toBe('ETAMPERED');
    expect(existsSync(path.join(dir, 'final'))).toBe(false);
  });

  it('the final name replaced right after the link: ETAMPERED, and the other file is removed from the final name', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    patch('linkSync', (orig) => ((a: PathLike, b: PathLike) => {
      orig(a, b);
      rmSync(b as string);
      writeFileSync(b as string, 'attacker');
    }) as typeof orig);
    expect(await codeOf(out.commit(false, false))).toBe('ETAMPERED');
    expect(existsSync(path.join(dir, 'final'))).toBe(false);
  });
});

describe('file systems without hard links', () => {
  for (const errno of ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV', 'EACCES']) {
    it(`link() failing with ${errno}: the output is renamed into place, still without replacing`, async () => {
      patch('linkSync', () => (() => {
        throw Object.assign(new Error(errno), { code: errno });
      }) as unknown as typeof fsDefault.linkSync);
      const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
      await out.write([Buffer.from('data')]);
      await out.commit(false, false);
      expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('data');
      expect(readdirSync(dir)).toEqual(['final']);
      const again = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
      expect(await codeOf(again.commit(false, false))).toBe('ExistsError');
      again.discard();
      expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('data');
      expect(readdirSync(dir)).toEqual(['final']);
    });
  }

  it('any other link() error is the commit\'s error, nothing committed', async () => {
    patch('linkSync', () => (() => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    }) as unknown as typeof fsDefault.linkSync);
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    expect(await codeOf(out.commit(false, false))).toBe('EIO');
    expect(existsSync(path.join(dir, 'final'))).toBe(false);
    out.discard();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('after(): what a short readv or writev leaves to do', () => {
  const views = () => [Buffer.from('abc'), Buffer.from(''), Buffer.from('de'), Buffer.from('fgh')];
  const text = (bufs: Uint8Array[]) => bufs.map((b) => Buffer.from(b).toString());
  it('drops whole views, cuts the one the count ends in, keeps the rest as views of the same memory', () => {
    expect(text(after(views(), 0))).toEqual(['abc', '', 'de', 'fgh']);
    expect(text(after(views(), 2))).toEqual(['c', '', 'de', 'fgh']);
    expect(text(after(views(), 3))).toEqual(['de', 'fgh']);
    expect(text(after(views(), 4))).toEqual(['e', 'fgh']);
    expect(text(after(views(), 5))).toEqual(['fgh']);
    expect(text(after(views(), 7))).toEqual(['h']);
    expect(text(after(views(), 8))).toEqual([]);
    const v = views();
    const cut = after(v, 1)[0]!;
    expect(cut.buffer).toBe(v[0]!.buffer);
  });
});

describe('descriptors, retries and the liveness of other runs', () => {
  const fds = (): number => readdirSync('/proc/self/fd').length;

  it('every path closes its descriptor: commit, discard, a failed commit', async () => {
    const before = fds();
    const a = AtomicOutput.create(OutputDir.resolve(dir, ''), 'a');
    await a.write([Buffer.from('x')]);
    await a.commit(false, false);
    const b = AtomicOutput.create(OutputDir.resolve(dir, ''), 'b');
    b.discard();
    const c = AtomicOutput.create(OutputDir.resolve(dir, ''), 'a');
    await c.commit(false, false).catch(() => undefined); // exists
    c.discard();
    expect(fds()).toBe(before);
  });

  it('discard after a commit touches nothing, not even a file that now has the old descriptor number', async () => {
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    await out.write([Buffer.from('committed')]);
    await out.commit(false, false);
    const other = path.join(dir, 'other');
    writeFileSync(other, 'someone else\'s data');
    const fd = fsDefault.openSync(other, 'r+'); // the lowest free number: likely the one the output had
    try {
      out.discard();
      expect(readFileSync(other, 'utf8')).toBe('someone else\'s data');
      expect(readFileSync(path.join(dir, 'final'), 'utf8')).toBe('committed');
    } finally {
      fsDefault.closeSync(fd);
    }
  });

  it('a temporary name that exists already (EEXIST) is not reused: another one is made', () => {
    let calls = 0;
    patch('openSync', (orig) => ((p: PathLike, flags: number, mode?: number) => {
      if (typeof p === 'string' && isTempName(path.basename(p)) && calls++ === 0) {
        writeFileSync(p, 'in the way'); // someone took this name first
      }
      return orig(p, flags, mode);
    }) as typeof orig);
    const out = AtomicOutput.create(OutputDir.resolve(dir, ''), 'final');
    expect(calls).toBe(2);
    expect(temps()).toHaveLength(2);
    out.discard();
    expect(temps().map((t) => readFileSync(path.join(dir, t), 'utf8'))).toEqual(['in the way']);
  });

  it('any other error creating the temporary file is the caller\'s', () => {
    patch('openSync', () => (() => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    }) as unknown as typeof fsDefault.openSync);
    expect(code(() => AtomicOutput.create(OutputDir.resolve(dir, ''), 'final'))).toBe('EACCES');
  });

  it('removeStaleTemps keeps the temporary files of a process it may not signal (EPERM: alive, another user\'s)', () => {
    const name = `.aenv-424242-${hostTag()}89abcdef.partial`;
    writeFileSync(path.join(dir, name), 'x');
    const kill = process.kill;
    process.kill = ((pid: number, sig?: number | string) => {
      if (pid === 424242) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      return kill.call(process, pid, sig);
    }) as typeof process.kill;
    try {
      expect(removeStaleTemps(dir)).toEqual([]);
    } finally {
      process.kill = kill;
    }
    expect(readdirSync(dir)).toEqual([name]);
    expect(removeStaleTemps(dir)).toEqual([path.join(dir, name)]); // no such process: stale
  });
});
