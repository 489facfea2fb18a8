// Where each output goes (shared/CLI.md "Output names"): `a/b.csv.aspera-env` decrypts to
// `a/b.csv`, beside its envelope or mirrored under -o DIR; encrypt adds the extension.
// No output path ever leaves DIR or the PATH's own folder, whatever the names contain, and
// folders are created under DIR without ever writing through a symbolic link.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Found } from './walk.js';

export type Direction = 'decrypt' | 'encrypt';

export interface Planned {
  /** The folder that bounds the output: -o DIR, or the envelope's own folder. */
  base: string;
  /** Output folder relative to base ('' for base itself). */
  relDir: string;
  /** Final output path. */
  output: string;
}

export class PlanError extends Error {
  /** What the user can do about it (the report's hint line). */
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

const RENAME = 'rename the envelope so that a usable file name comes before the extension';
const LINK = 'the output folder holds a symbolic link or a file where a folder belongs; remove it or choose another -o DIR';

export function outputName(name: string, direction: Direction, extension: string): string {
  if (direction === 'encrypt') return name + extension;
  if (!name.endsWith(extension)) throw new PlanError(`name does not end in ${extension}, so the output name is unknown`, RENAME);
  const out = name.slice(0, name.length - extension.length);
  if (out === '' || out === '.' || out === '..') throw new PlanError(`name ${JSON.stringify(name)} leaves no usable output name`, RENAME);
  return out;
}

export function planOutput(f: Found, direction: Direction, extension: string, outDir: string | null): Planned {
  const name = outputName(path.basename(f.rel), direction, extension);
  let base: string;
  let relDir: string;
  if (outDir === null) {
    base = path.dirname(f.path);
    relDir = '';
  } else {
    base = outDir;
    relDir = f.root === null ? '' : path.dirname(f.rel);
    if (relDir === '.') relDir = '';
  }
  const output = path.join(base, relDir, name);
  const r = path.relative(path.resolve(base), path.resolve(output));
  if (r === '' || r.startsWith('..') || path.isAbsolute(r)) {
    throw new PlanError(`output ${JSON.stringify(output)} would leave ${JSON.stringify(base)}`, RENAME);
  }
  return { base, relDir, output };
}

/** Creates base/relDir step by step, refusing to pass through a symbolic link below base. */
export async function ensureOutputDir(base: string, relDir: string): Promise<string> {
  let cur = base;
  for (const part of relDir ? relDir.split(path.sep) : []) {
    cur = path.join(cur, part);
    try {
      const st = await fsp.lstat(cur);
      if (st.isSymbolicLink()) throw new PlanError(`refusing to write through the symbolic link ${cur}`, LINK);
      if (!st.isDirectory()) throw new PlanError(`${cur} exists and is not a folder`, LINK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      try {
        await fsp.mkdir(cur);
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2; // a parallel job made it
      }
    }
  }
  return cur;
}
