// Output folders, resolved once and checked again before every commit (shared/CLI.md: "No
// output path ever leaves DIR or the PATH's own folder"). The base folder (-o DIR, or the
// envelope's own folder) is resolved to its real path once; the folders below it are created
// one step at a time, never through a symbolic link; each step's device and inode are kept.
// Before a commit, verify() checks that none of them has been swapped since: another user who
// can write to a folder above could replace a subfolder with a link to somewhere else while a
// slow key derivation runs, and aenv's temp file and commit would land there.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PlanError, tampered } from './errors.js';

interface Step {
  path: string;
  dev: number;
  ino: number;
}

const LINK_HINT = 'the output folder holds a symbolic link or a file where a folder belongs; remove it or choose another -o DIR';

export class OutputDir {
  /** Names were committed here and the folder has not been flushed since. */
  dirty = false;

  private constructor(
    /** The folder's real path, used for every write into it. */
    readonly path: string,
    private readonly steps: readonly Step[],
    /** The first folder of the chain other users may write to without the sticky bit, or that belongs to another user (not root), if any. */
    readonly sharedWritable: string | null,
  ) {}

  /**
   * base/relDir as a real, checked path. `within`, when given, is a real path the folder must
   * lie inside (the walked PATH, for outputs written beside their envelopes); `baseId`, when
   * given, the device and inode base had when the run found it.
   */
  static resolve(base: string, relDir: string, within?: string, baseId?: { dev: number; ino: number } | null): OutputDir {
    const real = fs.realpathSync(base);
    const baseSt = fs.lstatSync(real);
    if (baseId && (baseSt.dev !== baseId.dev || baseSt.ino !== baseId.ino)) {
      throw tampered(`the folder ${base} was replaced since the run found it (it now leads to ${real})`);
    }
    if (within !== undefined && real !== within && !real.startsWith(within.endsWith(path.sep) ? within : within + path.sep)) {
      throw new PlanError(`its folder ${JSON.stringify(real)} is reached through a symbolic link and lies outside the walked PATH ${JSON.stringify(within)}; its output would land outside the tree`,
        'give -o DIR to write outputs inside one folder, or do not pass --follow-symlinks');
    }
    const steps: (Step & { mode: number; uid: number })[] = [step(real, baseSt)];
    let cur = real;
    for (const part of relDir ? relDir.split(path.sep) : []) {
      cur = path.join(cur, part);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        try {
          fs.mkdirSync(cur, 0o777); // the umask applies, as for mkdir(1)
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2; // a parallel job made it
        }
        st = fs.lstatSync(cur);
      }
      if (st.isSymbolicLink()) throw new PlanError(`refusing to write through the symbolic link ${cur}`, LINK_HINT);
      if (!st.isDirectory()) throw new PlanError(`${cur} exists and is not a folder`, LINK_HINT);
      steps.push(step(cur, st));
    }
    const uid = process.getuid?.();
    const shared = steps.find((s) => ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0) || (uid !== undefined && s.uid !== uid && s.uid !== 0));
    return new OutputDir(cur, steps.map(({ path: p, dev, ino }) => ({ path: p, dev, ino })), shared?.path ?? null);
  }

  /** Throws ETAMPERED if any folder of the chain is no longer the one resolved (or became a link). */
  verify(): void {
    for (const s of this.steps) {
      let st: fs.Stats | null = null;
      try {
        st = fs.lstatSync(s.path);
      } catch {
        /* gone */
      }
      if (!st || !st.isDirectory() || st.dev !== s.dev || st.ino !== s.ino) {
        throw tampered(`the folder ${s.path} was ${st?.isSymbolicLink() ? 'replaced by a symbolic link' : st ? 'replaced' : 'removed'} while aenv worked`);
      }
    }
  }

  /** Flushes the folder's entries, so the names committed in it are durable. */
  async flush(): Promise<void> {
    this.dirty = false;
    await fsyncDir(this.path);
  }

  /** Flushes every folder with names committed since its last flush (at the end of a run). */
  static async flushAll(dirs: Iterable<OutputDir>): Promise<void> {
    for (const d of dirs) if (d.dirty) await d.flush();
  }
}

function step(p: string, st: fs.Stats): Step & { mode: number; uid: number } {
  return { path: p, dev: st.dev, ino: st.ino, mode: st.mode, uid: st.uid };
}

/** Flushes a folder's entries (a link, rename or unlink in it is durable after this). */
export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0));
    const f = fd;
    await new Promise<void>((resolve, reject) => fs.fsync(f, (err) => (err ? reject(err) : resolve())));
  } catch (e) {
    // Some platforms and file systems cannot open or flush a folder; nothing more can be done.
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF'].includes(code)) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
