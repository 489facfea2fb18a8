// A private folder for a program that writes its output by name (IBM's tool; issue 21): created
// exclusively by aenv in an output folder (so it is on the output's file system and the result
// can be linked into place), mode 0700, aenv's user, named like aenv's temporary files (so a
// later run's stale clean-up finds the folder of a run that was killed), and holding a marker
// file that says aenv made it. aenv keeps it open as a folder descriptor.
//
// On Linux every path into it goes through that descriptor: `/proc/self/fd/N/NAME` in aenv, and
// `/proc/self/fd/3/NAME` in a child that inherits the descriptor as its fd 3. Such a path never
// looks the folder up by name, so another user who can rename entries of the output folder
// (even the private folder's own name) cannot redirect a write; and no other user can enter a
// 0700 folder to plant, read or rename anything inside. Elsewhere (`how` = 'name') the folder is
// reached by its name, which is safe only where no other user can rename names on the way: the
// caller must check that (foreign/tool-output.ts does). Windows cannot open a folder as a
// descriptor at all: there it is reached by name only, and its identity comes from lstat.
//
// Removing it: everything inside goes (the descriptor path again), then the folder's name, if it
// still names this folder. A stale folder (its run is dead) is removed only when it is aenv's user's,
// mode 0700 and holds the marker: another user who renames some folder of the victim's to a
// temporary-looking name must not get it emptied by aenv.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { tampered } from './errors.js';
import { lstatOrNull } from './stat.js';

/** The marker file of a private folder (created empty, first, by aenv). */
export const MARKER = '.aenv-private';
const DIR_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0) | (fs.constants.O_NOFOLLOW ?? 0);
/** Deepest folder tree removed inside a private folder (a program's own subfolders). */
const MAX_DEPTH = 32;

let fdPaths: boolean | undefined;

/** True where `/proc/self/fd/N/NAME` resolves NAME inside the folder open as N (Linux with /proc). */
export function fdPathsWork(): boolean {
  if (fdPaths !== undefined) return fdPaths;
  fdPaths = false;
  if (process.platform !== 'linux') return false;
  let fd: number | undefined;
  try {
    fd = fs.openSync('/', DIR_FLAGS);
    const via = fs.statSync(`/proc/self/fd/${fd}/.`);
    const own = fs.fstatSync(fd);
    fdPaths = via.isDirectory() && via.dev === own.dev && via.ino === own.ino;
  } catch {
    /* no /proc: names only */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return fdPaths;
}

export type Reach = 'fd' | 'name';

export class PrivateFolder {
  private closed = false;
  private constructor(
    /** The folder's name in the output folder (for messages and the clean-up by name). */
    readonly path: string,
    /** aenv's descriptor of it (null on Windows). */
    readonly fd: number | null,
    readonly dev: number,
    readonly ino: number,
    readonly reach: Reach,
  ) {}

  /**
   * Creates a private folder named `name` in `parent` (aenv's temporary naming; EEXIST: the
   * caller tries another name) and its marker. Throws ETAMPERED if what was opened is not the
   * folder aenv just made (another user swapped the name in between).
   */
  static create(parent: string, name: string, reach: Reach = fdPathsWork() ? 'fd' : 'name'): PrivateFolder {
    const p = path.join(parent, name);
    fs.mkdirSync(p, 0o700);
    if (process.platform === 'win32') {
      const st = fs.lstatSync(p);
      const f = new PrivateFolder(p, null, st.dev, st.ino, 'name');
      f.mark();
      return f;
    }
    let fd: number;
    try {
      fd = fs.openSync(p, DIR_FLAGS);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw swapped(p);
      throw e;
    }
    const st = fs.fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
      fs.closeSync(fd);
      throw swapped(p);
    }
    const f = new PrivateFolder(p, fd, st.dev, st.ino, reach);
    try {
      fs.fchmodSync(fd, 0o700); // exactly, whatever the umask
    } catch (e) {
      f.remove();
      throw e;
    }
    f.mark();
    return f;
  }

  /** Creates the marker (removing the folder if that fails). */
  private mark(): void {
    try {
      fs.closeSync(fs.openSync(this.own(MARKER), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600));
    } catch (e) {
      this.remove();
      throw e;
    }
  }

  /** `name` inside the folder, as aenv reaches it. */
  own(name: string): string {
    return this.reach === 'fd' ? `/proc/self/fd/${this.fd}/${name}` : path.join(this.path, name);
  }

  /** `name` inside the folder, as a child reaches it when given `childFds()` from fd 3 on. */
  forChild(name: string): string {
    return this.reach === 'fd' ? `/proc/self/fd/3/${name}` : path.join(this.path, name);
  }

  /** The descriptors a child needs, to be placed from fd 3 on. */
  childFds(): number[] {
    return this.reach === 'fd' && this.fd !== null ? [this.fd] : [];
  }

  /** Removes everything inside (never following a link out of it), then the folder and its descriptor. Never throws. */
  remove(): void {
    if (this.closed) return;
    emptyTree(this.reach === 'fd' ? `/proc/self/fd/${this.fd}/` : `${this.path}${path.sep}`, 0);
    this.removeName();
    this.closed = true;
    if (this.fd !== null) fs.closeSync(this.fd);
  }

  /** rmdir of the folder's name if it still names this folder; else (another user renamed it) of the name that does now, if any. */
  private removeName(): void {
    const same = (st: fs.Stats | null): boolean => st !== null && st.isDirectory() && st.dev === this.dev && st.ino === this.ino;
    let target: string | null = same(lstatOrNull(this.path)) ? this.path : null;
    if (!target) {
      // Renamed by another user: find it in the same folder (it can only be renamed within
      // folders that user may write to; this looks only in the one it was made in).
      const parent = path.dirname(this.path);
      try {
        for (const n of fs.readdirSync(parent)) {
          const q = path.join(parent, n);
          if (same(lstatOrNull(q))) {
            target = q;
            break;
          }
        }
      } catch {
        /* unreadable folder: the empty private folder stays where it went */
      }
    }
    if (target) {
      try {
        fs.rmdirSync(target); // only an empty folder goes: never one swapped in meanwhile with content
      } catch {
        /* swapped again, or a read-only folder */
      }
    }
  }
}

/**
 * Another user renamed the new folder away and put something else under its name before aenv
 * opened it (ETAMPERED, with `swapped` set: the caller may try again under a new name; nothing
 * of aenv's is in the folder that went, it was empty).
 */
function swapped(p: string): NodeJS.ErrnoException & { swapped: true } {
  return Object.assign(tampered(`the private folder ${p} was replaced by another user's file, folder or link as aenv created it`), { swapped: true as const });
}

/** Removes everything below `dir` (a path that ends in `/`), links as links, `depth` levels deep at most. Never throws. */
function emptyTree(dir: string, depth: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = `${dir}${n}`;
    const st = lstatOrNull(p);
    try {
      if (st?.isDirectory()) {
        if (depth < MAX_DEPTH) emptyTree(`${p}/`, depth + 1);
        fs.rmdirSync(p);
      } else {
        fs.unlinkSync(p);
      }
    } catch {
      /* read-only, or too deep: left */
    }
  }
}

/**
 * Removes the stale private folder at `p` (its run is dead) if it is one: aenv's user's, mode
 * 0700, with the marker inside; true when it went. Never throws.
 */
export function removeStalePrivate(p: string): boolean {
  if (process.platform === 'win32') {
    // No folder descriptors: by name (Windows is untested here, see docs/IBM-TOOLS.md).
    if (!lstatOrNull(p)?.isDirectory() || !lstatOrNull(path.join(p, MARKER))?.isFile()) return false;
    emptyTree(`${p}${path.sep}`, 0);
    try {
      fs.rmdirSync(p);
      return true;
    } catch {
      return false;
    }
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, DIR_FLAGS);
    const st = fs.fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o777) !== 0o700) return false;
    const inside = fdPathsWork() ? `/proc/self/fd/${fd}/` : `${p}${path.sep}`;
    if (!lstatOrNull(`${inside}${MARKER}`)?.isFile()) return false;
    emptyTree(inside, 0);
    const now = lstatOrNull(p);
    if (!now || now.dev !== st.dev || now.ino !== st.ino) return false;
    fs.rmdirSync(p);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
