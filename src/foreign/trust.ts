// Who besides root and aenv's own user could change a path (issue 21; the rule of OpenSSH's
// StrictModes): a program aenv hands the password to, and the folders it runs IBM's tool in
// where no descriptor path exists, must be changeable by nobody else. The path is resolved one
// component at a time, as the kernel does, so every folder passed through (also the folders
// symbolic links lead into) is checked, and the object it ends at:
//  - a folder must belong to root or to aenv's user, and must not be writable by its group or
//    by all users unless it has the sticky bit (then other users may add names, but never rename
//    or remove names they do not own: /tmp is fine);
//  - a file must belong to root or to aenv's user and must not be writable by its group or by
//    all users;
//  - a program that starts with `#!` names an interpreter, which is checked the same way (one
//    level: an interpreter is a binary).
// A symbolic link's own mode means nothing; the folder holding it decides. Windows: access is
// decided by ACLs, which Node.js does not show; nothing is checked there (docs/IBM-TOOLS.md).

import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_LINKS = 40; // the kernel's own limit (ELOOP)

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function ownerProblem(p: string, st: fs.Stats, uid: number): string | null {
  return st.uid !== 0 && st.uid !== uid ? `${p} belongs to another user (uid ${st.uid})` : null;
}

function writers(mode: number): string {
  return mode & 0o002 ? 'all users' : 'its group';
}

/** Why other users could rename or replace the names in folder `p`, or null. */
export function folderProblem(p: string, st: fs.Stats, uid: number): string | null {
  const owner = ownerProblem(p, st, uid);
  if (owner) return owner;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `${p} is writable by ${writers(st.mode)} (mode ${octal(st.mode)}, no sticky bit)`;
  return null;
}

/** Why other users could change file `p`, or null. */
export function fileProblem(p: string, st: fs.Stats, uid: number): string | null {
  const owner = ownerProblem(p, st, uid);
  if (owner) return owner;
  if ((st.mode & 0o022) !== 0) return `${p} is writable by ${writers(st.mode)} (mode ${octal(st.mode)})`;
  return null;
}

/**
 * Resolves the absolute path `p` one component at a time and returns the first problem: a
 * folder on the way, or the object it ends at (a folder when `folder`, else a regular file),
 * that another user could change; null when there is none. Also the real path it led to.
 */
export function chainProblem(p: string, folder: boolean, uid: number): { problem: string | null; real: string } {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  let cur = '/';
  let links = 0;
  const stat = (q: string): fs.Stats | string => {
    try {
      return fs.lstatSync(q);
    } catch (e) {
      return `${q} cannot be checked (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
  };
  const root = stat('/');
  if (typeof root === 'string') return { problem: root, real: p };
  const rootProblem = folderProblem('/', root, uid);
  if (rootProblem) return { problem: rootProblem, real: p };
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      cur = path.posix.dirname(cur); // `cur` is resolved: its parent is its real parent
      continue;
    }
    const next = path.posix.join(cur, part);
    const st = stat(next);
    if (typeof st === 'string') return { problem: st, real: next };
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { problem: `${p}: too many symbolic links`, real: next };
      const target = fs.readlinkSync(next);
      parts.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      if (target.startsWith('/')) cur = '/';
      continue;
    }
    const last = parts.length === 0;
    if (!last || folder) {
      if (!st.isDirectory()) return { problem: `${next} is not a folder`, real: next };
      const why = folderProblem(next, st, uid);
      if (why) return { problem: why, real: next };
    } else {
      if (!st.isFile()) return { problem: `${next} is not a regular file`, real: next };
      const why = fileProblem(next, st, uid);
      if (why) return { problem: why, real: next };
    }
    cur = next;
  }
  return { problem: null, real: cur };
}

/** The interpreter a `#!` script names (its first word), or null for anything else. */
export function interpreterOf(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n < 2 || buf[0] !== 0x23 || buf[1] !== 0x21) return null;
    const line = buf.subarray(2, n).toString('latin1').split('\n')[0]!.trim();
    const word = line.split(/[ \t]/)[0] ?? '';
    return word.startsWith('/') ? word : null;
  } catch {
    return null; // unreadable: the chain check of the file itself says what is wrong
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Why the program at `file` (absolute) must not be given a password: it, a folder above it, a
 * folder a link on its way leads into, or the interpreter it names with `#!` could be changed by
 * a user other than root and aenv's user. Null when none could (and always on Windows).
 */
export function programProblem(file: string, platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.()): string | null {
  if (platform === 'win32' || uid === undefined) return null;
  const own = chainProblem(file, false, uid);
  if (own.problem) return own.problem;
  const interp = interpreterOf(own.real);
  if (interp === null) return null;
  const i = chainProblem(interp, false, uid).problem;
  return i ? `its interpreter: ${i}` : null;
}

/**
 * Why the folder `dir` (absolute) lets another user rename or replace names in it or in a folder
 * above it; null when no other user can (and always on Windows).
 */
export function folderChainProblem(dir: string, platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.()): string | null {
  if (platform === 'win32' || uid === undefined) return null;
  return chainProblem(dir, true, uid).problem;
}
