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
// can remove those of dead runs on its own machine, and never those of a run on another machine
// that writes into the same shared folder (its pid means nothing here: a shard on another node).
// `onWrite` lets a caller see every byte written, in order (a SHA-256 of a plaintext checked
// against a checksum list before the commit, the trailer of an envelope for the manifest).
// An outside program (IBM's tool, engine/foreign.ts) may write the temporary file by name
// instead: handOver(), then adopt() what it left once checked, then commitAdopted(), which runs
// the same folder, temp-name and final-name checks as commit().

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { OutputDir } from './dirs.js';
import { tampered } from './errors.js';
import { after } from './iovec.js';
import { lstatOrNull } from './stat.js';

const TEMP_RE = /^\.aenv-(\d+)-([0-9a-f]{8})[0-9a-f]{8}\.partial$/;
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
interface FileRef {
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
  /** Set by handOver(): the temporary file is written by name by another program. */
  private handed: FileRef | null = null;
  private adopted = false;
  /** Called with each write's buffers, in file order, before they are written. */
  onWrite: ((bufs: readonly Uint8Array[]) => void) | null = null;
  private constructor(readonly dir: OutputDir, readonly tempPath: string, readonly finalPath: string,
    private readonly fd: number, private id: FileRef) {}

  /** A new temporary file for `name` in `dir` (which is checked again once the file exists). */
  static create(dir: OutputDir, name: string): AtomicOutput {
    for (;;) {
      const tmp = path.join(dir.path, tempName());
      let fd: number;
      try {
        fd = fs.openSync(tmp, CREATE_FLAGS, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      const out = new AtomicOutput(dir, tmp, path.join(dir.path, name), fd, fs.fstatSync(fd));
      try {
        dir.verify(); // the folder may have been swapped for a link just before the create
      } catch (e) {
        out.discard();
        throw e;
      }
      return out;
    }
  }

  /** The temporary file's device and inode (the created file, or the adopted one). */
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
    if (this.handed) throw new Error('commit() of a handed-over output: use commitAdopted()');
    // A small file's flush is one quick call: a thread-pool round trip would cost more than it.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the same flush, called another way), see test/mutation-equivalents.md
    if (this.written <= SMALL) fs.fsyncSync(this.fd);
    else await new Promise<void>((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
    await this.place(replace, durableName);
  }

  /** commit() after the flush: the folder and name checks, the link or rename, the final check, the folder's flush (or its mark). */
  private async place(replace: boolean, durableName: boolean): Promise<void> {
    this.dir.verify();
    this.checkTemp();
    if (replace) {
      fs.renameSync(this.tempPath, this.finalPath);
    } else {
      try {
        fs.linkSync(this.tempPath, this.finalPath);
      } catch (e) {
        // Stryker disable next-line StringLiteral: equivalent, see test/mutation-equivalents.md
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') throw new ExistsError(this.finalPath);
        if (!NO_LINK.has(code)) throw e;
        // No hard links here: check, then rename (not race-free against a second writer).
        if (lstatOrNull(this.finalPath)) throw new ExistsError(this.finalPath);
        fs.renameSync(this.tempPath, this.finalPath);
      }
    }
    if (!sameFile(lstatOrNull(this.finalPath), this.id)) {
      // Someone put another file under the temp name before the link or rename: remove what that
      // put under the final name; aenv's own data is truncated by discard().
      try {
        fs.unlinkSync(this.finalPath);
      } catch {
        /* already gone */
      }
      throw tampered(`the temporary file ${this.tempPath} was replaced by another file while aenv worked`);
    }
    if (sameFile(lstatOrNull(this.tempPath), this.id)) fs.unlinkSync(this.tempPath); // linked: the temp name goes
    this.closeFd();
    if (durableName) await this.dir.flush();
    else this.dir.dirty = true;
  }

  // ------------------------------------------------------------ written by another program

  /**
   * The temporary file is about to be written by another program through its name (IBM's tool
   * gets `tempPath` as its output). aenv keeps its handle (discard() still truncates the created
   * file wherever it went) but writes nothing more. Returns the created file's identity, from
   * the handle, for checking what the program leaves (foreign/output-check.ts).
   */
  handOver(): fs.BigIntStats {
    if (!this.open || this.handed) throw new Error('handOver() of an output that is closed or already handed over');
    const st = fs.fstatSync(this.fd, { bigint: true });
    this.handed = { dev: this.id.dev, ino: this.id.ino };
    return st;
  }

  /**
   * Takes what the program left at the temporary name as this output, once checked by the
   * caller (a regular file of aenv's user, one name, flushed): `settled` is the identity that
   * check saw, and the name must still point to it. Later checks (commitAdopted) use it.
   */
  adopt(settled: { dev: bigint; ino: bigint }): void {
    if (!this.handed) throw new Error('adopt() without handOver()');
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(this.tempPath, { bigint: true });
    } catch {
      /* gone: refused below */
    }
    if (!st || !st.isFile() || st.dev !== settled.dev || st.ino !== settled.ino) {
      throw tampered(`the temporary file ${this.tempPath} was renamed or replaced after the tool's output was checked`);
    }
    this.id = { dev: Number(st.dev), ino: Number(st.ino) };
    this.adopted = true;
  }

  /**
   * commit() for an adopted output: its data was flushed by the caller's check (through its own
   * handle on the adopted file), then the same steps as commit(): folder chain and temp name
   * verified, link (or rename with `replace`), final name checked, folder flushed.
   */
  async commitAdopted(replace: boolean, durableName: boolean): Promise<void> {
    if (!this.adopted) throw new Error('commitAdopted() without adopt()');
    await this.place(replace, durableName);
  }

  /**
   * discard() of a handed-over output, after the created file was truncated through the handle:
   * whatever the program left at the temporary name goes. A regular file there that is provably
   * aenv's (the created or adopted file, or one of aenv's user with this one name) is truncated
   * first, through a handle opened without following links, so its plaintext is gone from every
   * other name too; anything else (a link, another user's file) only loses this name.
   */
  private discardHandedOver(): void {
    const st = lstatOrNull(this.tempPath);
    if (!st) return;
    const ours = sameFile(st, this.id) || sameFile(st, this.handed!)
      || (st.isFile() && st.nlink === 1 && process.getuid !== undefined && st.uid === process.getuid());
    if (ours) {
      let fd: number | undefined;
      try {
        // Stryker disable next-line LogicalOperator: equivalent (defence in depth behind the checks), see test/mutation-equivalents.md
        fd = fs.openSync(this.tempPath, fs.constants.O_WRONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0));
        const now = fs.fstatSync(fd);
        if (now.dev === st.dev && now.ino === st.ino) fs.ftruncateSync(fd, 0);
      } catch {
        /* swapped meanwhile, or a read-only medium: the unlink below still applies */
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
    try {
      if (st.isDirectory()) fs.rmdirSync(this.tempPath);
      else fs.unlinkSync(this.tempPath);
    } catch {
      /* a non-empty folder, or a read-only folder: nothing more can be done */
    }
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
    if (this.handed) {
      this.discardHandedOver();
      return;
    }
    if (sameFile(lstatOrNull(this.tempPath), this.id)) {
      try {
        fs.unlinkSync(this.tempPath);
      } catch {
        /* read-only folder: nothing more can be done */
      }
    }
  }

  private checkTemp(): void {
    if (!sameFile(lstatOrNull(this.tempPath), this.id)) {
      throw tampered(`the temporary file ${this.tempPath} was renamed or replaced while aenv worked`);
    }
  }

  private closeFd(): void {
    // Stryker disable next-line ConditionalExpression: equivalent (never called on a closed output), see test/mutation-equivalents.md
    if (!this.open) return;
    this.open = false;
    fs.closeSync(this.fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files left in `dir` by aenv runs of this machine that are no longer alive. */
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
    try {
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      /* another run removed it, or the folder is read-only: leave it */
    }
  }
  return removed;
}
