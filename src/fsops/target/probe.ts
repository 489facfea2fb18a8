// Asking a folder's file system what it does, as git does to set core.ignorecase: a probe file
// with a new name and 16 random bytes in it is created in the folder (exclusively, mode 0600,
// never through a link; its name is one of aenv's temporary names, so a run killed mid-probe
// leaves nothing a later run does not remove), then read under the name in upper case (the same
// bytes: names are compared without case), linked under a second name (hard links work), and its
// mode changed and read back (modes are kept per file). A second probe named with a composed "é"
// (U+00E9) is read under a decomposed one ("e" U+0301): the same bytes, the names are compared
// after Unicode normalisation (macOS); when it cannot be created at all, the driver writes no
// names outside ASCII (fusefat). A file is known by its bytes, not its inode: FUSE drivers without
// stable inode numbers (fusefat, exfat-fuse) give each name looked up a number of its own. Every
// probe is removed by name only while that name still holds it. About a dozen calls on the
// folder, once per device and run (target.ts).

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempName } from '../atomic.js';

export interface FolderProbe {
  caseInsensitive: boolean;
  /** null when no non-ASCII probe could be made. */
  normalizationInsensitive: boolean | null;
  unicode: boolean;
  hardLinks: boolean;
  /** A file's mode is kept as set (0600 stays 0600, chmod 0640 gives 0640). */
  modes: boolean;
}

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);
const READ = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

/** A probe name: one of aenv's temporary names (fsops/atomic.ts: pid, machine tag, random bits), with an ending. */
export function probeName(ending = '.partial'): string {
  return tempName().replace(/\.partial$/, ending);
}

/** Whether the name `p` holds a regular file with exactly the bytes `token`. */
function holds(p: string, token: Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, READ);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size !== token.length) return false;
    const b = Buffer.alloc(token.length);
    return fs.readSync(fd, b, 0, b.length, 0) === b.length && b.equals(token);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function removeIfHolds(p: string, token: Buffer): void {
  try {
    if (holds(p, token)) fs.unlinkSync(p);
  } catch {
    /* gone already, or the folder turned read-only: a later run's clean-up removes it */
  }
}

/** A new probe file named `name` in `dir` holding a random token; null when it cannot be created. */
function create(dir: string, name: string): { p: string; fd: number; token: Buffer } | null {
  const p = path.join(dir, name);
  let fd: number;
  try {
    fd = fs.openSync(p, CREATE, 0o600);
  } catch {
    return null;
  }
  const token = randomBytes(16);
  try {
    fs.writeSync(fd, token, 0, token.length, 0);
  } catch {
    fs.closeSync(fd);
    removeIfEmpty(p);
    return null;
  }
  return { p, fd, token };
}

function removeIfEmpty(p: string): void {
  try {
    const st = fs.lstatSync(p);
    if (st.isFile() && st.size === 0) fs.unlinkSync(p);
  } catch {
    /* nothing to do */
  }
}

/** Probes the folder `dir` (which must exist); null when no probe file can be written there (read-only, no permission, full). */
export function probeFolder(dir: string): FolderProbe | null {
  const a = create(dir, probeName());
  if (!a) return null;
  try {
    let modes = (fs.fstatSync(a.fd).mode & 0o777) === 0o600;
    try {
      fs.fchmodSync(a.fd, 0o640);
      modes &&= (fs.fstatSync(a.fd).mode & 0o777) === 0o640;
    } catch {
      modes = false;
    }
    const base = path.basename(a.p);
    const caseInsensitive = holds(path.join(dir, base.toUpperCase()), a.token);
    let hardLinks = false;
    const b = path.join(dir, probeName());
    try {
      fs.linkSync(a.p, b);
      hardLinks = holds(b, a.token);
      removeIfHolds(b, a.token);
    } catch {
      /* no hard links here */
    }
    return { caseInsensitive, ...probeUnicode(dir), hardLinks, modes };
  } finally {
    fs.closeSync(a.fd);
    removeIfHolds(a.p, a.token);
  }
}

function probeUnicode(dir: string): { unicode: boolean; normalizationInsensitive: boolean | null } {
  const name = probeName('.probe\u00e9');
  const c = create(dir, name);
  if (!c) return { unicode: false, normalizationInsensitive: null };
  const nfd = path.join(dir, name.normalize('NFD'));
  try {
    return { unicode: true, normalizationInsensitive: holds(nfd, c.token) };
  } finally {
    fs.closeSync(c.fd);
    removeIfHolds(c.p, c.token);
    removeIfHolds(nfd, c.token); // a file system that stores names decomposed (HFS+)
  }
}
