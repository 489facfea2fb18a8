// Where each output goes (docs/CLI.md "Output names"): `a/b.csv.aspera-env` decrypts to
// `a/b.csv`, beside its envelope or mirrored under -o DIR; encrypt adds the extension.
// No output path ever leaves DIR or the PATH's own folder, whatever the names contain (by name
// here; by real path in dirs.ts, which creates the folders and checks them again before every
// commit).

import * as path from 'node:path';
import { PlanError } from './errors.js';
import type { FoundFile } from './walk.js';

export type Direction = 'decrypt' | 'encrypt';

export interface Planned {
  /** The folder that bounds the output: -o DIR, or the envelope's own folder. */
  base: string;
  /** Output folder relative to base ('' for base itself). */
  relDir: string;
  /** Final output path. */
  output: string;
  /** The real path the output folder must lie inside (the walked PATH, for outputs beside their envelopes). */
  within: string | null;
  /** Device and inode base must still have when it is resolved (the folder the walk listed, or -o DIR as found). */
  baseId: { dev: number; ino: number } | null;
}

const RENAME = 'rename the envelope so that a usable file name comes before the extension';

export function outputName(name: string, direction: Direction, extension: string): string {
  if (direction === 'encrypt') return name + extension;
  if (!name.endsWith(extension)) throw new PlanError(`name does not end in ${extension}, so the output name is unknown`, RENAME);
  const out = name.slice(0, name.length - extension.length);
  if (out === '' || out === '.' || out === '..') throw new PlanError(`name ${JSON.stringify(name)} leaves no usable output name`, RENAME);
  return out;
}

export function planOutput(f: FoundFile, direction: Direction, extension: string, outDir: string | null, outDirId: { dev: number; ino: number } | null = null): Planned {
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
  return { base, relDir, output, within: outDir === null ? f.realRoot : null, baseId: outDir === null ? f.dirId : outDirId };
}
