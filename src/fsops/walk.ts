// Walking the PATH arguments (docs/CLI.md "Inputs"): files as given, folders recursively,
// regular files only, symbolic links followed only when asked and then never in a loop: one set
// of visited folders (device:inode) for the whole run, so every folder is listed once however
// many links lead to it. Each found file remembers the PATH it came from (so its output can
// mirror the tree), the identity the walk saw (so the file opened later must be that file), and
// whether a followed link led to it (its real folder may then lie outside the walked tree).
//
// The walk streams (an async generator): a tree of any size is never held as a list. What it
// keeps is O(folders) (the visited set) plus the identities of the files that can be reached
// twice (more than one hard link, reached through a followed link, or named as a PATH), so each
// file is still taken once: a link to a file in a folder that is listed anyway is not taken. It never enters the -o folder (WalkOptions.skip), so a run cannot
// take its own outputs as inputs. Files the walk does not take are not even stat()ed.

import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { isTempName } from './atomic.js';
import { dropBadNames } from './names.js';

export interface FoundFile {
  /** The file as a path usable to open it. */
  path: string;
  /** The PATH argument's folder when it was a folder, else null (a PATH file). */
  root: string | null;
  /** Path of the file relative to root (or its base name for a PATH file). */
  rel: string;
  /** Size when walked (for progress totals; the file is measured again when opened). */
  size: number;
  /** Device and inode when walked: the file opened later must be this one. */
  dev: number;
  ino: number;
  /** The real path of root (null for a PATH file). */
  realRoot: string | null;
  /** Reached through a followed symbolic link. */
  viaLink: boolean;
  /** The path itself is a symbolic link that was followed (so opening it must follow it too). */
  followLink: boolean;
  /** Device and inode of the folder the walk found it in: an output beside it must go into that very folder. */
  dirId: { dev: number; ino: number } | null;
  /** A file listed by --files-from with a relative path: root is `.` and rel the path as listed (its folders are mirrored under -o). */
  listed?: boolean;
}

export interface WalkProblem {
  path: string;
  message: string;
}

/**
 * What a walk passes over in a folder without taking it (docs/CLI.md "Inputs"): a symbolic link
 * not followed (whatever its name: it may lead to a folder), and, named as the walk would take a
 * file, a socket, a FIFO or a device; with --follow-symlinks, a link that leads nowhere.
 */
export type PassedKind = 'symlink' | 'broken-symlink' | 'socket' | 'fifo' | 'device';
export const PASSED_KINDS: readonly PassedKind[] = ['symlink', 'broken-symlink', 'socket', 'fifo', 'device'];

/** What the walk yields, in order: a folder PATH before its files, files, what it passes over, and problems where they occur. */
export type WalkItem =
  | { kind: 'root'; root: string; realRoot: string }
  | { kind: 'file'; file: FoundFile }
  | { kind: 'passed'; path: string; what: PassedKind }
  | { kind: 'problem'; problem: WalkProblem };

/** The kind of a folder entry that is neither a folder nor a regular file (null: it is one of those). */
function specialKind(ent: { isSocket(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): PassedKind | null {
  return ent.isSocket() ? 'socket' : ent.isFIFO() ? 'fifo' : ent.isCharacterDevice() || ent.isBlockDevice() ? 'device' : null;
}

export interface WalkOptions {
  /** Which files to take: a predicate on the base name. */
  accept: (name: string) => boolean;
  followSymlinks: boolean;
  /** A folder never entered (the -o folder), asked at each folder so that it can be set once the folder exists; `real` is its real path. */
  skip?: () => { dev: number; ino: number; real: string } | null;
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.syscall ?? 'access'} failed` : String(e);
}

/**
 * A folder's entries in the order the walk takes them: by the UTF-8 bytes of the name, with `/`
 * after a folder's name. Walked depth-first in this order, the files of a tree come in the byte
 * order of their paths below the PATH (as `LC_ALL=C sort` orders them: `a.txt`, `a/x`, `a0`), so
 * a checksum list written as the rows come is sorted. (A followed link to a folder sorts as a file.)
 */
export function inPathOrder<T extends { name: string; isDirectory(): boolean }>(entries: T[]): T[] {
  const keyed = entries.map((e) => ({ e, key: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.e);
}

/** Entries of one folder stat()ed at once. */
const STAT_BATCH = 64;

const under = (p: string, dir: string): boolean => p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/** One run's walk: PATHs are walked one after the other with `path()`, sharing what was seen. */
export class Walker {
  /** Folders listed so far, by device:inode. */
  private readonly visited = new Set<string>();
  /** Files taken that can be reached again (see the top of this file), by device:inode. */
  private readonly taken = new Set<string>();
  /** PATH files named on the command line: remembered wherever they are first reached. */
  private readonly reserved = new Set<string>();
  /** Real paths of the folder PATHs walked so far. */
  private readonly roots: string[] = [];

  constructor(private readonly opt: WalkOptions) {}

  /** Files named as PATHs before the walk starts: a folder PATH walked first takes each of them once. */
  async reserve(paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      const st = await fsp.stat(p).catch(() => null);
      if (st?.isFile()) this.reserved.add(`${st.dev}:${st.ino}`);
    }
  }

  /** Whether the file was taken before; remembers it when it could be reached again. */
  private again(st: Stats, linked: boolean, pathArg: boolean): boolean {
    const id = `${st.dev}:${st.ino}`;
    if (this.taken.has(id)) return true;
    if (pathArg || linked || st.nlink > 1 || this.reserved.has(id)) this.taken.add(id);
    return false;
  }

  /**
   * Whether the file a followed link `link` points to is taken where it is, by the listing of its
   * own folder (listed already, or being listed): then the link is not taken too. A file reached
   * first directly is not remembered (see `again`), so this is how it is taken once.
   */
  private async listedDirectly(link: string): Promise<boolean> {
    const real = await fsp.realpath(link).catch(() => null);
    if (real === null) return false;
    const name = path.basename(real);
    if (!this.opt.accept(name) || isTempName(name)) return false;
    const dir = await fsp.stat(path.dirname(real)).catch(() => null);
    return dir !== null && this.visited.has(`${dir.dev}:${dir.ino}`);
  }

  private skipped(st: Stats): boolean {
    const s = this.opt.skip?.();
    return s != null && s.dev === st.dev && s.ino === st.ino;
  }

  /** A PATH (an argument, or a line of --files-from): a file, or a folder walked recursively. */
  async *path(p: string): AsyncGenerator<WalkItem> {
    let st: Stats;
    try {
      st = await fsp.stat(p); // a PATH named on the command line is followed, as by cp and tar
    } catch (e) {
      const hint = p.includes('\ufffd') ? '; if the name has bytes that are not UTF-8, rename it to a UTF-8 name' : '';
      yield { kind: 'problem', problem: { path: p, message: `cannot open (${errText(e)})${hint}` } };
      return;
    }
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (this.visited.has(id)) return; // the same folder named twice
      this.visited.add(id);
      const realRoot = await fsp.realpath(p);
      this.roots.push(realRoot);
      yield { kind: 'root', root: p, realRoot };
      yield* this.dir(p, realRoot, '', false, { dev: st.dev, ino: st.ino });
    } else if (st.isFile()) {
      if (this.again(st, false, true) || (await this.walkedAlready(p, st))) return;
      const link = (await fsp.lstat(p).catch(() => null))?.isSymbolicLink() ?? false;
      const parent = await fsp.stat(path.dirname(p)).catch(() => null);
      yield {
        kind: 'file',
        file: { path: p, root: null, rel: path.basename(p), realRoot: null, viaLink: false, followLink: link, dirId: parent && { dev: parent.dev, ino: parent.ino }, size: st.size, dev: st.dev, ino: st.ino },
      };
    } else {
      yield { kind: 'problem', problem: { path: p, message: 'not a regular file or folder' } };
    }
  }

  /**
   * A path of a --files-from list: a relative path to a file (no `..`) keeps its folders, as
   * `tar -T` and `rsync --files-from` do (root `.`, rel the path without `./` and doubled
   * slashes), so -o DIR mirrors them; anything else is taken as a PATH.
   */
  async *listed(p: string): AsyncGenerator<WalkItem> {
    const segs = p.split(path.sep).filter((x) => x !== '' && x !== '.');
    const st = path.isAbsolute(p) || segs.length === 0 || segs.includes('..') ? null : await fsp.stat(p).catch(() => null);
    if (!st?.isFile()) {
      yield* this.path(p);
      return;
    }
    if (this.again(st, false, true) || (await this.walkedAlready(p, st))) return;
    const link = (await fsp.lstat(p).catch(() => null))?.isSymbolicLink() ?? false;
    const parent = await fsp.stat(path.dirname(p)).catch(() => null);
    this.cwd ??= await fsp.realpath('.');
    yield {
      kind: 'file',
      file: {
        path: p, root: '.', rel: segs.join(path.sep), realRoot: this.cwd, viaLink: false, followLink: link, dirId: parent && { dev: parent.dev, ino: parent.ino },
        size: st.size, dev: st.dev, ino: st.ino, listed: true,
      },
    };
  }

  /** The real path of the working folder, the root of listed relative paths. */
  private cwd: string | null = null;

  /**
   * A PATH file that a folder PATH walked before already took (it lies in that folder's tree, and
   * the walk took files of its name): only PATHs named after the walk began (--files-from) can be,
   * since the others were reserved.
   */
  private async walkedAlready(p: string, st: Stats): Promise<boolean> {
    if (this.roots.length === 0 || this.reserved.has(`${st.dev}:${st.ino}`)) return false;
    const name = path.basename(p);
    if (!this.opt.accept(name) || isTempName(name)) return false;
    const real = await fsp.realpath(p).catch(() => null);
    if (real === null) return false;
    const skip = this.opt.skip?.();
    if (skip && under(real, skip.real)) return false;
    return this.roots.some((r) => under(real, r));
  }

  private async *dir(root: string, realRoot: string, rel: string, viaLink: boolean, dirId: { dev: number; ino: number }): AsyncGenerator<WalkItem> {
    const full = rel ? path.join(root, rel) : root;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(full, { withFileTypes: true });
    } catch (e) {
      yield { kind: 'problem', problem: { path: full, message: `cannot read folder (${errText(e)})` } };
      return;
    }
    entries = inPathOrder(entries);
    const problems: WalkProblem[] = [];
    entries = await dropBadNames(full, entries, this.opt.accept, problems); // names not valid UTF-8: reported
    for (const problem of problems) yield { kind: 'problem', problem };
    // Only what may be taken is stat()ed, STAT_BATCH entries at a time (each stat is a round
    // trip to the thread pool; one after the other they would dominate the walk of a large tree).
    const passed: WalkItem[] = [];
    const wanted = entries.filter((ent) => {
      const isLink = ent.isSymbolicLink();
      const at = (): string => path.join(full, ent.name);
      if (isLink) {
        if (!this.opt.followSymlinks) passed.push({ kind: 'passed', path: at(), what: 'symlink' }); // not followed
        return this.opt.followSymlinks;
      }
      const special = specialKind(ent);
      if (special && this.opt.accept(ent.name)) passed.push({ kind: 'passed', path: at(), what: special });
      return ent.isDirectory() || (ent.isFile() && this.opt.accept(ent.name) && !isTempName(ent.name));
    });
    yield* passed;
    entries = [];
    for (let b = 0; b < wanted.length; b += STAT_BATCH) {
      const batch = wanted.slice(b, b + STAT_BATCH);
      const stats = await Promise.all(batch.map((ent) => {
        const child = path.join(root, rel ? path.join(rel, ent.name) : ent.name);
        return (ent.isSymbolicLink() ? fsp.stat(child) : fsp.lstat(child)).then((st) => ({ st, err: null }), (err: unknown) => ({ st: null, err }));
      }));
      for (let i = 0; i < batch.length; i++) {
        const ent = batch[i]!;
        const childRel = rel ? path.join(rel, ent.name) : ent.name;
        const it = ent.isSymbolicLink() ? await this.entry(root, realRoot, childRel, viaLink, dirId, ent, stats[i]!) : this.entrySync(root, realRoot, childRel, viaLink, dirId, ent, stats[i]!);
        if (it === null) continue;
        if (it.kind === 'dir') yield* this.dir(root, realRoot, childRel, it.linked, it.id);
        else yield it;
      }
    }
  }

  /** One entry of a folder listing, with its stat() (or why it failed): an item, a folder to walk, or nothing. */
  private entrySync(root: string, realRoot: string, childRel: string, viaLink: boolean, dirId: { dev: number; ino: number },
    ent: import('node:fs').Dirent, stat: { st: Stats | null; err: unknown }): Entry {
    const isLink = ent.isSymbolicLink();
    const child = path.join(root, childRel);
    const st = stat.st;
    if (st === null) {
      if (isLink) return { kind: 'passed', path: child, what: 'broken-symlink' }; // a dangling link: nothing to read
      return { kind: 'problem', problem: { path: child, message: `cannot stat (${errText(stat.err)})` } };
    }
    if (st.isSymbolicLink()) return null; // replaced by a link since the listing: not followed
    const linked = viaLink || isLink;
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (this.visited.has(id) || this.skipped(st)) return null; // listed already (a loop, or a second link to it), or the -o folder
      this.visited.add(id);
      return { kind: 'dir', linked, id: { dev: st.dev, ino: st.ino } };
    }
    if (!st.isFile() && isLink && this.opt.accept(ent.name)) { // a followed link to a socket, FIFO or device
      const special = specialKind(st);
      if (special) return { kind: 'passed', path: child, what: special };
    }
    if (!st.isFile() || isTempName(ent.name) || !this.opt.accept(ent.name)) return null;
    if (this.again(st, linked, false)) return null; // the same file reached twice (two PATHs, or links)
    return {
      kind: 'file',
      file: { path: child, root, rel: childRel, realRoot, viaLink: linked, followLink: isLink, dirId, size: st.size, dev: st.dev, ino: st.ino },
    };
  }

  /** The same for a followed link: a link to a file that its own folder's listing takes is not taken. */
  private async entry(root: string, realRoot: string, childRel: string, viaLink: boolean, dirId: { dev: number; ino: number },
    ent: import('node:fs').Dirent, stat: { st: Stats | null; err: unknown }): Promise<Entry> {
    if (stat.st?.isFile() && this.opt.accept(ent.name) && !isTempName(ent.name) && (await this.listedDirectly(path.join(root, childRel)))) return null;
    return this.entrySync(root, realRoot, childRel, viaLink, dirId, ent, stat);
  }
}

type Entry = WalkItem | { kind: 'dir'; linked: boolean; id: { dev: number; ino: number } } | null;
