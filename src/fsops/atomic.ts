// Atomic, durable output (shared/CLI.md "Outputs appear under their final name only when
// complete"), bound to the file aenv wrote: a temporary file created exclusively (mode 0600,
// never through a link) in the checked output folder, written through its handle, flushed, then
// committed under the final name without replacing anything (link, then unlink the temp name)
// unless replacing was asked for (rename). Another user who can write to the folder can rename
// names under aenv's feet, so every step is checked against the temp file's device and inode:
// before the commit the folder chain and the temp name, after it the final name. If the final
// name does not point to aenv's file, what was linked is removed and the file fails. Discarding
// truncates through the handle, so the plaintext is gone wherever its name was moved.
// Temporary names carry the writer's pid and a tag of its machine's host name, so a later run
// can remove those of dead runs on its own machine (also the private folders IBM's tool writes
// into, fsops/private-folder.ts), and never those of a run on another machine that writes into
// the same shared folder (its pid means nothing here: a shard on another node).
// `onWrite` lets a caller see every byte written, in order (a SHA-256 of a plaintext checked
// against a checksum list before the commit, the trailer of an envelope for the manifest).
// placeFile() is the commit's naming step on its own, for a file another program wrote
// (IBM's tool, foreign/tool-output.ts): the same folder, temp-name and final-name checks.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { OutputDir } from './dirs.js';
import { tampered } from './errors.js';
import { after } from './iovec.js';
import { removeStalePrivate } from './private-folder.js';
import { lstatOrNull } from './stat.js';

// A temporary file, or a probe of the output folder's file system (fsops/target/probe.ts), whose
// second kind is named with a composed "é" (which a file system may store decomposed).
const TEMP_RE = /^\.aenv-(\d+)-([0-9a-f]{8})[0-9a-f]{8}(?:\.partial|\.probe(?:\u00e9|e\u0301))$/;
const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

const PID = process.pid;

/** 8 hex digits of SHA-256 of a host name: which machine's pids a temporary name's pid is. */
export function hostTag(host = hostname()): string {
  return createHash('sha256').update(host, 'utf8').digest('hex').slice(0, 8);
}

const HOST = hostTag();

/** `.aenv-PID-HHHHHHHHRRRRRRRR.partial`: this process's pid, this machine's tag, 32 random bits. */
export function tempName(): string {
  return `.aenv-${PID}-${HOST}${randomBytes(4).toString('hex')}.partial`;
}

export class ExistsError extends Error {
  constructor(readonly target: string) {
    super(`output exists: ${target}`);
  }
}

// Errors from link() on file systems without hard links (FAT, exFAT, some network mounts).
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV', 'EACCES']);

/** A file's device and inode. */
export interface FileRef {
  dev: number;
  ino: number;
}

function sameFile(a: fs.Stats | null, b: FileRef): boolean {
  // Stryker disable next-line ConditionalExpression: equivalent, see test/mutation-equivalents.md
  return a !== null && a.isFile() && a.dev === b.dev && a.ino === b.ino;
}

/** Outputs up to this size are flushed with a direct call (see commit). */
const SMALL = 1 << 20;

export class AtomicOutput {
  private open = true;
  private written = 0;
  /** Called with each write's buffers, in file order, before they are written. */
  onWrite: ((bufs: readonly Uint8Array[]) => void) | null = null;
  private constructor(readonly dir: OutputDir, readonly tempPath: string, readonly finalPath: string,
    private readonly fd: number, private readonly id: FileRef) {}

  /** A new temporary file for `name` in `dir` (which is checked again once the file exists). */
  static create(dir: OutputDir, name: string): AtomicOutput {
    return createTemp(dir, (tmp) => {
      const fd = fs.openSync(tmp, CREATE_FLAGS, 0o600);
      return new AtomicOutput(dir, tmp, path.join(dir.path, name), fd, fs.fstatSync(fd));
    });
  }

  /** The temporary file's device and inode. */
  get identity(): { dev: number; ino: number } {
    return { dev: this.id.dev, ino: this.id.ino };
  }

  /** Writes all of `bufs` at the current end of the file. */
  async write(bufs: readonly Uint8Array[]): Promise<void> {
    this.onWrite?.(bufs);
    // Stryker disable next-line AssignmentOperator: equivalent (the count only picks how the flush is called), see test/mutation-equivalents.md
    for (const b of bufs) this.written += b.length;
    let rest = [...bufs];
    while (rest.length) {
      const n = await new Promise<number>((resolve, reject) =>
        fs.writev(this.fd, rest as Uint8Array[], (err, k) => (err ? reject(err) : resolve(k))));
      rest = after(rest, n);
    }
  }

  writeSync(bufs: readonly Uint8Array[]): void {
    this.onWrite?.(bufs);
    // Stryker disable next-line AssignmentOperator: equivalent (the count only picks how the flush is called), see test/mutation-equivalents.md
    for (const b of bufs) this.written += b.length;
    let rest = [...bufs];
    while (rest.length) rest = after(rest, fs.writevSync(this.fd, rest as Uint8Array[]));
  }

  /**
   * Flushes the data, then gives it the final name (replacing an existing file only when
   * `replace`) and checks the name points to this file. The folder (the name itself) is flushed
   * now when `durableName` (--remove-source deletes the input next), else marked for
   * OutputDir.flushAll() at the end of the run: the data is on disk before its name exists
   * either way. Throws ExistsError when the name exists and replacing was not asked for,
   * ETAMPERED when the folder or a name was changed under aenv's feet (then nothing of aenv's
   * is left under the final name).
   */
  async commit(replace: boolean, durableName: boolean): Promise<void> {
    // A small file's flush is one quick call: a thread-pool round trip would cost more than it.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the same flush, called another way), see test/mutation-equivalents.md
    if (this.written <= SMALL) fs.fsyncSync(this.fd);
    else await new Promise<void>((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
    await this.place(replace, durableName);
  }

  /** The output's modification time (ms since the epoch), set on the open descriptor before commit(); its access time is now. */
  keepTime(mtimeMs: number): void {
    fs.futimesSync(this.fd, Date.now() / 1000, mtimeMs / 1000);
  }

  /** commit() after the flush: placeFile(), then the descriptor is closed and the folder flushed (or marked). */
  private async place(replace: boolean, durableName: boolean): Promise<void> {
    placeFile(this.dir, this.tempPath, this.finalPath, this.id, replace);
    this.closeFd();
    await settleName(this.dir, durableName);
  }

  // ------------------------------------------------------------

  /** Truncates (the plaintext is gone wherever the name went), closes, and removes the temp name if it is still this file. Never throws. */
  discard(): void {
    if (this.open) {
      try {
        fs.ftruncateSync(this.fd, 0);
      } catch {
        /* a read-only or failing medium: the unlink below still applies */
      }
      this.closeFd();
    }
    if (sameFile(lstatOrNull(this.tempPath), this.id)) {
      try {
        fs.unlinkSync(this.tempPath);
      } catch {
        /* read-only folder: nothing more can be done */
      }
    }
  }

  private closeFd(): void {
    // Stryker disable next-line ConditionalExpression: equivalent (never called on a closed output), see test/mutation-equivalents.md
    if (!this.open) return;
    this.open = false;
    fs.closeSync(this.fd);
  }
}

/**
 * `make(tmp)` with a fresh temporary name in `dir` (made exclusively: EEXIST tries another name),
 * then `dir` checked again, since the folder may have been swapped for a link just before the
 * create; what was made is discarded if it was.
 */
export function createTemp<T extends { discard(): void }>(dir: OutputDir, make: (tmp: string) => T): T {
  for (;;) {
    let out: T;
    try {
      out = make(path.join(dir.path, tempName()));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    try {
      dir.verify();
    } catch (e) {
      out.discard();
      throw e;
    }
    return out;
  }
}

/**
 * Gives the flushed file `id`, now at `from` (a temporary name in `dir`, or a path into a private
 * folder in it), the name `to` in `dir`: the folder chain and `from` are checked first, then a
 * hard link (no replace; a rename on file systems without links, after a check) or a rename
 * (`replace`), then `to` must be `id`, and the name `from` goes. Throws ExistsError when `to`
 * exists and replacing was not asked for, ETAMPERED when the folder or a name was changed under
 * aenv's feet (then nothing under `to` is left that was not there: the caller discards its data).
 */
export function placeFile(dir: OutputDir, from: string, to: string, id: FileRef, replace: boolean): void {
  dir.verify();
  if (!sameFile(lstatOrNull(from), id)) throw tampered(`the temporary file ${from} was renamed or replaced while aenv worked`);
  if (replace) {
    fs.renameSync(from, to);
  } else {
    try {
      fs.linkSync(from, to);
    } catch (e) {
      // Stryker disable next-line StringLiteral: equivalent, see test/mutation-equivalents.md
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new ExistsError(to);
      if (!NO_LINK.has(code)) throw e;
      // No hard links here: check, then rename (not race-free against a second writer).
      if (lstatOrNull(to)) throw new ExistsError(to);
      fs.renameSync(from, to);
    }
  }
  if (!sameFile(lstatOrNull(to), id)) {
    // Someone put another file under the temp name before the link or rename: remove what that
    // put under the final name; aenv's own data is truncated by the caller's discard.
    try {
      fs.unlinkSync(to);
    } catch {
      /* already gone */
    }
    throw tampered(`the temporary file ${from} was replaced by another file while aenv worked`);
  }
  if (sameFile(lstatOrNull(from), id)) fs.unlinkSync(from); // linked: the temp name goes
}

/** After placeFile(): the folder is flushed now when `durableName` (--remove-source deletes the input next), else marked for OutputDir.flushAll(). */
export async function settleName(dir: OutputDir, durableName: boolean): Promise<void> {
  if (durableName) await dir.flush();
  else dir.dirty = true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files and private folders left in `dir` by aenv runs of this machine that are no longer alive. */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || m[2] !== HOST || alive(Number(m[1]))) continue;
    const p = path.join(dir, name);
    if (lstatOrNull(p)?.isDirectory()) {
      if (removeStalePrivate(p)) removed.push(p);
      continue;
    }
    try {
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      /* another run removed it, or the folder is read-only: leave it */
    }
  }
  return removed;
}
