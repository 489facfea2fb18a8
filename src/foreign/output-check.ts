// What IBM's tool left at the temporary path aenv gave it, judged before aenv commits it
// (issue 11, "Output"; docs/IBM-TOOLS.md "Decrypt"). aenv creates the temporary file itself
// (exclusive, mode 0600, aenv's temp naming) and records its identity; the tool then either
// writes into that same file, or (IBM does not say which) writes a file of its own and renames
// it over the path. Both are accepted, under checks that keep aenv's guarantees:
//  - a regular file, not a symbolic link or anything else, on the same file system;
//  - one name only (a second hard link would be plaintext under a name aenv does not control);
//  - a replacement must belong to aenv's user;
//  - a file with the created identity, still empty and with an unchanged status-change time,
//    was never opened for writing: the tool "succeeded" without producing anything.
// The accepted file is then opened without following links, checked to be the same inode,
// set to mode 0600 and flushed to disk, ready for aenv's no-replace commit by name.

import { constants, promises as fsp, type BigIntStats } from 'node:fs';

export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  ctimeNs: bigint;
}

export type Settled =
  | { ok: true; size: number; replaced: boolean; identity: FileIdentity }
  | { ok: false; reason: string };

function identity(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, ctimeNs: st.ctimeNs };
}

/** The identity of the file at `p` (not following a link): record it right after creating the temporary file. */
export async function snapshot(p: string): Promise<FileIdentity> {
  return identity(await fsp.lstat(p, { bigint: true }));
}

/** Judges, fixes the mode of, and flushes the tool's output at `p`; see the file comment. */
export async function settleToolOutput(p: string, created: FileIdentity, uid: number | undefined = process.getuid?.()): Promise<Settled> {
  let st: BigIntStats;
  try {
    st = await fsp.lstat(p, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'the tool left no output file' };
    throw e;
  }
  if (st.isSymbolicLink()) return { ok: false, reason: 'the tool put a symbolic link where its output should be' };
  if (!st.isFile()) return { ok: false, reason: 'the tool\'s output is not a regular file' };
  if (st.dev !== created.dev) return { ok: false, reason: 'the tool\'s output is on another file system' };
  if (st.nlink !== 1n) return { ok: false, reason: `the tool's output has ${st.nlink} names (hard links)` };
  const replaced = st.ino !== created.ino;
  if (!replaced && st.size === 0n && st.ctimeNs === created.ctimeNs) {
    return { ok: false, reason: 'the tool exited without writing its output' };
  }
  if (replaced && uid !== undefined && st.uid !== BigInt(uid)) {
    return { ok: false, reason: 'the tool\'s output belongs to another user' };
  }
  const fh = await fsp.open(p, constants.O_RDWR | (constants.O_NOFOLLOW ?? 0));
  try {
    const now = await fh.stat({ bigint: true });
    if (now.dev !== st.dev || now.ino !== st.ino) return { ok: false, reason: 'the tool\'s output changed while it was being checked' };
    if (process.platform !== 'win32') await fh.chmod(0o600);
    await fh.sync();
    return { ok: true, size: Number(now.size), replaced, identity: identity(now) };
  } finally {
    await fh.close();
  }
}

/** Removes whatever the tool left at `p` (file, link, or an empty folder); never throws. */
export async function removeToolOutput(p: string): Promise<void> {
  try {
    await fsp.unlink(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM') await fsp.rmdir(p).catch(() => undefined);
  }
}
