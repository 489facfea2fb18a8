// Atomic, durable output (shared/CLI.md "Outputs appear under their final name only when
// complete"): a temporary file in the target folder, flushed, then committed under the final
// name without replacing anything (link then unlink) unless replacing was asked for (rename).
// Temporary names carry the writer's pid, so a later run can remove those whose writer is dead.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

const TEMP_RE = /^\.aenv-(\d+)-[0-9a-f]{16}\.partial$/;

export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

export interface TempFile {
  path: string;
  fh: fsp.FileHandle;
}

/** A new temporary file (mode 0600, exclusive create) in `dir`. */
export async function createTemp(dir: string): Promise<TempFile> {
  for (;;) {
    const p = path.join(dir, `.aenv-${process.pid}-${randomBytes(8).toString('hex')}.partial`);
    try {
      return { path: p, fh: await fsp.open(p, 'wx', 0o600) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Flushes and closes the temporary file (the data is on disk before it gets its name). */
export async function finishTemp(t: TempFile): Promise<void> {
  await t.fh.sync();
  await t.fh.close();
}

/** Closes (if open) and removes a temporary file; never throws. */
export async function discardTemp(t: TempFile): Promise<void> {
  await t.fh.close().catch(() => undefined);
  await fsp.unlink(t.path).catch(() => undefined);
}

export class ExistsError extends Error {
  constructor(readonly target: string) {
    super(`output exists: ${target}`);
  }
}

// Errors from link() on file systems without hard links (FAT, exFAT, some network mounts).
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV', 'EACCES']);

/**
 * Gives the finished temporary file its final name. Without `replace`, an existing file is
 * never replaced, even by a racing run: link() fails with EEXIST atomically. Where the file
 * system has no hard links, falls back to a check then rename (not race-free there).
 */
export async function commit(tmp: string, target: string, replace: boolean): Promise<void> {
  if (replace) {
    await fsp.rename(tmp, target);
  } else {
    try {
      await fsp.link(tmp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new ExistsError(target);
      if (!NO_LINK.has(code)) throw e;
      if (await exists(target)) throw new ExistsError(target);
      await fsp.rename(tmp, target);
      await fsyncDir(path.dirname(target));
      return;
    }
    await fsp.unlink(tmp);
  }
  await fsyncDir(path.dirname(target));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Flushes a folder's entries (a rename or unlink in it is durable after this). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms and file systems cannot open or flush a folder; nothing more can be done.
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF'].includes(code)) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files left in `dir` by aenv runs that are no longer alive. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const p = path.join(dir, name);
    try {
      await fsp.unlink(p);
      removed.push(p);
    } catch {
      /* another run removed it, or the folder is read-only: leave it */
    }
  }
  return removed;
}
