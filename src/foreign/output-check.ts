// What IBM's tool left as its output, judged before aenv commits it (issue 11, "Output"; issue 21;
// docs/IBM-TOOLS.md "Decrypt"). The tool writes into a private folder aenv created for it
// (foreign/tool-output.ts), under a name nothing is at when it starts: it may create the file,
// or write a file of its own and rename it over that name (IBM does not say which). What it left
// is accepted under checks that keep aenv's guarantees:
//  - a regular file, not a symbolic link or anything else, on the private folder's file system;
//  - one name only (a second hard link would be plaintext under a name aenv does not control);
//  - belonging to aenv's user.
// The accepted file is then opened without following links, checked to be the same inode, set
// to mode 0600 and flushed; its descriptor stays open, so that a discard can truncate it (the
// plaintext is gone from every name it may get later), until the caller closes it.

import * as fs from 'node:fs';

export interface FileIdentity {
  dev: number;
  ino: number;
}

export type Settled =
  | { ok: true; size: number; identity: FileIdentity; fd: number }
  | { ok: false; reason: string };

/**
 * Judges, fixes the mode of, and flushes the tool's output at `p` (a path into aenv's private
 * folder on device `dev`); see the file comment. `ok` hands the caller an open read-write
 * descriptor of the file.
 */
export async function settleToolOutput(p: string, dev: number, uid: number | undefined = process.getuid?.()): Promise<Settled> {
  const st = (() => {
    try {
      return fs.lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  })();
  if (!st) return { ok: false, reason: 'the tool left no output file' };
  if (st.isSymbolicLink()) return { ok: false, reason: 'the tool put a symbolic link where its output should be' };
  if (!st.isFile()) return { ok: false, reason: 'the tool\'s output is not a regular file' };
  if (st.dev !== dev) return { ok: false, reason: 'the tool\'s output is on another file system' };
  if (st.nlink !== 1) return { ok: false, reason: `the tool's output has ${st.nlink} names (hard links)` };
  if (uid !== undefined && st.uid !== uid) return { ok: false, reason: 'the tool\'s output belongs to another user' };
  const fd = fs.openSync(p, fs.constants.O_RDWR | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const now = fs.fstatSync(fd);
    if (now.dev !== st.dev || now.ino !== st.ino) {
      fs.closeSync(fd);
      return { ok: false, reason: 'the tool\'s output changed while it was being checked' };
    }
    if (process.platform !== 'win32') fs.fchmodSync(fd, 0o600);
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    return { ok: true, size: now.size, identity: { dev: now.dev, ino: now.ino }, fd };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
