// Walking the PATH arguments (shared/CLI.md "Commands"): files as given, folders recursively,
// regular files only, symbolic links followed only when asked and then never in a loop: one set
// of visited folders (device:inode) for the whole run, so every folder is listed once however
// many links lead to it. Each found file remembers the PATH it came from (so its output can
// mirror the tree), the identity the walk saw (so the file opened later must be that file), and
// whether a followed link led to it (its real folder may then lie outside the walked tree).

import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { isTempName } from './atomic.js';
import { dropBadNames } from './names.js';

export interface Found {
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
}

export interface WalkProblem {
  path: string;
  message: string;
}

export interface WalkOptions {
  /** Which files to take: a predicate on the base name. */
  accept: (name: string) => boolean;
  followSymlinks: boolean;
}

export interface WalkResult {
  files: Found[];
  problems: WalkProblem[];
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.syscall ?? 'access'} failed` : String(e);
}

export async function walk(paths: readonly string[], opt: WalkOptions): Promise<WalkResult> {
  const files: Found[] = [];
  const problems: WalkProblem[] = [];
  const seenFiles = new Set<string>();

  const visited = new Set<string>(); // folders listed so far, by device:inode

  const add = (f: Omit<Found, 'size' | 'dev' | 'ino'>, st: Stats): void => {
    const id = `${st.dev}:${st.ino}`;
    if (seenFiles.has(id)) return; // the same file reached twice (two PATHs, or links)
    seenFiles.add(id);
    files.push({ ...f, size: st.size, dev: st.dev, ino: st.ino });
  };

  async function dir(root: string, realRoot: string, rel: string, viaLink: boolean, dirId: { dev: number; ino: number }): Promise<void> {
    const full = rel ? path.join(root, rel) : root;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(full, { withFileTypes: true });
    } catch (e) {
      problems.push({ path: full, message: `cannot read folder (${errText(e)})` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    entries = await dropBadNames(full, entries, opt.accept, problems); // names not valid UTF-8: reported
    for (const ent of entries) {
      const childRel = rel ? path.join(rel, ent.name) : ent.name;
      const child = path.join(root, childRel);
      let st: Stats;
      try {
        st = ent.isSymbolicLink() && opt.followSymlinks ? await fsp.stat(child) : await fsp.lstat(child);
      } catch (e) {
        if (ent.isSymbolicLink()) continue; // a dangling link: nothing to read
        problems.push({ path: child, message: `cannot stat (${errText(e)})` });
        continue;
      }
      if (st.isSymbolicLink()) continue; // not followed
      const linked = viaLink || ent.isSymbolicLink();
      if (st.isDirectory()) {
        const id = `${st.dev}:${st.ino}`;
        if (visited.has(id)) continue; // listed already (a loop, or a second link to it): never twice
        visited.add(id);
        await dir(root, realRoot, childRel, linked, { dev: st.dev, ino: st.ino });
      } else if (st.isFile() && !isTempName(ent.name) && opt.accept(ent.name)) {
        add({ path: child, root, rel: childRel, realRoot, viaLink: linked, followLink: ent.isSymbolicLink(), dirId }, st);
      }
    }
  }

  for (const p of paths) {
    let st: Stats;
    try {
      st = await fsp.stat(p); // a PATH named on the command line is followed, as by cp and tar
    } catch (e) {
      const hint = p.includes('\ufffd') ? '; if the name has bytes that are not UTF-8, rename it to a UTF-8 name' : '';
      problems.push({ path: p, message: `cannot open (${errText(e)})${hint}` });
      continue;
    }
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (visited.has(id)) continue; // the same folder named twice
      visited.add(id);
      await dir(p, await fsp.realpath(p), '', false, { dev: st.dev, ino: st.ino });
    } else if (st.isFile()) {
      const link = (await fsp.lstat(p).catch(() => null))?.isSymbolicLink() ?? false;
      const parent = await fsp.stat(path.dirname(p)).catch(() => null);
      add({ path: p, root: null, rel: path.basename(p), realRoot: null, viaLink: false, followLink: link, dirId: parent && { dev: parent.dev, ino: parent.ino } }, st);
    } else {
      problems.push({ path: p, message: 'not a regular file or folder' });
    }
  }
  return { files, problems };
}
