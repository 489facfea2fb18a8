// Opening an input file so that everything done with it is bound to the file actually opened
// (device and inode), never to its name looked up again: opened without following a final
// symbolic link and without blocking (a FIFO put in its place cannot hang the run), then
// checked to be a regular file and, when the walk saw it, the very file the walk saw. Its size
// and times at open let a reader notice that it changed while being read, and let
// --remove-source delete it only while its name still points to it.

import * as fs from 'node:fs';
import { ioError } from './errors.js';
import { after } from './iovec.js';

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export interface FileId {
  dev: number;
  ino: number;
}

interface Snapshot extends FileId {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

function snapshot(st: fs.Stats): Snapshot {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

export class InputFile {
  private closed = false;
  private constructor(readonly path: string, readonly fd: number, private readonly at: Snapshot) {}

  /**
   * Opens `path` read-only; `expected` is the identity the walk saw, when there was a walk. A
   * final symbolic link is followed only when `followLink` (the walk followed it, as asked).
   */
  static open(path: string, expected?: FileId, followLink = false): InputFile {
    let fd: number;
    try {
      fd = fs.openSync(path, OPEN_FLAGS | (followLink ? 0 : NOFOLLOW));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw ioError('ENOTREG', 'is a symbolic link (not followed here)');
      throw e;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw ioError('ENOTREG', `not a regular file (${kind(st)})`);
      if (expected && (st.dev !== expected.dev || st.ino !== expected.ino)) {
        throw ioError('EREPLACED', 'replaced by another file since the folder was listed');
      }
      return new InputFile(path, fd, snapshot(st));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The modification time when it was opened (ms since the epoch). */
  get mtimeMs(): number {
    return this.at.mtimeMs;
  }

  get size(): number {
    return this.at.size;
  }

  get id(): FileId {
    return { dev: this.at.dev, ino: this.at.ino };
  }

  /** Reads still under way (close() after settled() never pulls the descriptor from under one). */
  private readonly reading = new Set<Promise<unknown>>();

  /** Resolves once no read started through this file is under way any more. */
  async settled(): Promise<void> {
    while (this.reading.size) await Promise.allSettled([...this.reading]);
  }

  /** Fills `buf` from `pos`; a short read means the file shrank. */
  readExactly(buf: Uint8Array, pos: number): Promise<Uint8Array> {
    return this.readvExactly([buf], pos).then(() => buf);
  }

  readExactlySync(buf: Uint8Array, pos: number): Uint8Array {
    this.readvExactlySync([buf], pos);
    return buf;
  }

  /** Fills every view of `views` in turn from `pos` (scattered: one system call for many places). */
  readvExactly(views: Uint8Array[], pos: number): Promise<void> {
    const p = (async () => {
      let rest = views.filter((v) => v.length > 0);
      let at = pos;
      while (rest.length) {
        const n = await new Promise<number>((resolve, reject) =>
          fs.readv(this.fd, rest, at, (err, k) => (err ? reject(err) : resolve(k))));
        if (n === 0) throw shrank(at);
        at += n;
        rest = after(rest, n);
      }
    })();
    this.reading.add(p);
    const done = (): void => void this.reading.delete(p);
    p.then(done, done);
    return p;
  }

  readvExactlySync(views: Uint8Array[], pos: number): void {
    let rest = views.filter((v) => v.length > 0);
    let at = pos;
    while (rest.length) {
      const n = fs.readvSync(this.fd, rest, at);
      if (n === 0) throw shrank(at);
      at += n;
      rest = after(rest, n);
    }
  }

  /** Throws ECHANGED if the file's size or times differ from when it was opened, or it has more bytes. */
  checkUnchanged(): void {
    const now = snapshot(fs.fstatSync(this.fd));
    const more = fs.readSync(this.fd, new Uint8Array(1), 0, 1, this.at.size) > 0;
    if (more || now.size !== this.at.size || now.mtimeMs !== this.at.mtimeMs || now.ctimeMs !== this.at.ctimeMs) {
      throw ioError('ECHANGED', `changed while being read (size ${this.at.size} -> ${now.size}${more && now.size === this.at.size ? '+' : ''}, or modified): nothing was written, the source is kept`);
    }
  }

  /** Whether the name (or `name`, another path of it) still points to this very file, unchanged (device, inode, size, mtime). */
  nameStillPointsHere(name: string = this.path): boolean {
    try {
      const st = snapshot(fs.lstatSync(name));
      return st.dev === this.at.dev && st.ino === this.at.ino && st.size === this.at.size && st.mtimeMs === this.at.mtimeMs;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function shrank(at: number): NodeJS.ErrnoException {
  return ioError('ESHRANK', `the file shrank while being read (short read at offset ${at})`);
}

export function kind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a named pipe';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}
