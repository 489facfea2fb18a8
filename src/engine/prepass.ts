// Passes over the inputs before any work starts, each by names and in bounded memory, because the
// run itself streams its inputs (inputs.ts) and never holds the whole list:
//
// - the total for the progress display on a terminal (files and bytes of this run's part);
// - the guarantee that a run in which one file's output is another of its inputs is a
//   usage error before anything is touched (`x.aspera-env.aspera-env` decrypts to `x.aspera-env`).
//   Only a decrypt input whose name ends in the extension twice can have an output that is an
//   input, so the first pass collects just those (usually none); only if there are any, a second
//   pass looks for inputs with their outputs' names. For encrypt, only a PATH file named with the
//   extension can be an output (the walk takes no such file), so only those are looked for.
//   A --files-from list on standard input cannot be read twice; its entries are checked as they
//   come instead (engine/run.ts).

import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { HEADER_LEN } from '../format/constants.js';
import { chunkSize, parseHeader } from '../format/header.js';
import { layoutForSize } from '../format/layout.js';
import { PlanError } from '../fsops/errors.js';
import type { FoundFile } from '../fsops/walk.js';
import { UsageError } from './job.js';
import { filesOf, Inputs, type InputSpec } from './inputs.js';
import { showPath } from './show.js';

/**
 * What the progress display counts for one file, as the summary counts it: for decrypt its
 * plaintext (from the envelope's size and its header's chunk size: FORMAT.md "Layout"; a file
 * whose header does not tell, IBM's envelopes, its size), for verify and encrypt the file's size.
 */
export async function progressSize(command: InputSpec['command'], file: string, size: number): Promise<number> {
  if (command !== 'decrypt') return size;
  const fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK).catch(() => null);
  if (!fh) return size;
  try {
    const b = new Uint8Array(HEADER_LEN);
    const { bytesRead } = await fh.read(b, 0, HEADER_LEN, 0);
    return layoutForSize(size, chunkSize(parseHeader(b.subarray(0, bytesRead), size))).plaintextLen;
  } catch {
    return size;
  } finally {
    await fh.close();
  }
}

/** Files and bytes of the run (its --shard part), for the progress display's total. */
export async function precount(spec: InputSpec): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const it of new Inputs(spec).stream()) {
    if (it.kind !== 'file') continue;
    files++;
    bytes += await progressSize(spec.command, it.file.path, it.file.size);
  }
  return { files, bytes };
}

const HINT = 'decrypt them in two runs, or use -o DIR so that no output lands on an input';

/** Throws a UsageError when the output of one input (`output(f)`, may throw PlanError) is another input of the run. */
export async function refuseOutputsThatAreInputs(spec: InputSpec, output: (f: FoundFile) => string): Promise<void> {
  const ext = spec.extension;
  const planned = (f: FoundFile): string | null => {
    try {
      return output(f);
    } catch (e) {
      if (e instanceof PlanError) return null; // that file fails on its own, with its own row
      throw e;
    }
  };
  // resolved output -> the input it comes from, and the output as shown
  const outputs = new Map<string, { from: string; output: string }>();
  if (spec.command === 'decrypt') {
    for await (const f of filesOf(spec, (n) => n.endsWith(ext + ext))) {
      if (!f || !path.basename(f.path).endsWith(ext + ext)) continue;
      const out = planned(f);
      if (out !== null) outputs.set(path.resolve(out), { from: f.path, output: out });
    }
    if (outputs.size === 0) return;
    const names = new Set([...outputs.keys()].map((o) => path.basename(o)));
    for await (const f of filesOf(spec, (n) => names.has(n))) {
      const hit = f && outputs.get(path.resolve(f.path));
      if (f && hit && path.resolve(hit.from) !== path.resolve(f.path)) {
        throw new UsageError(`the output of ${showPath(hit.from)} would be ${showPath(hit.output)}, which is another input of this run`, HINT);
      }
    }
    return;
  }
  // encrypt: PATH files that end in the extension (skipped, but an output must not replace them)
  const named = new Map<string, string>();
  for await (const f of filesOf(spec, () => false)) {
    if (f && (f.root === null || f.listed) && path.basename(f.path).endsWith(ext)) named.set(path.resolve(f.path), f.path);
  }
  if (named.size === 0) return;
  const stems = new Set([...named.keys()].map((p) => path.basename(p).slice(0, -ext.length)));
  for await (const f of filesOf(spec, (n) => stems.has(n))) {
    if (!f || path.basename(f.path).endsWith(ext)) continue;
    const out = planned(f);
    if (out !== null && named.has(path.resolve(out))) {
      throw new UsageError(`the output of ${showPath(f.path)} would be ${showPath(out)}, which is another input of this run`, HINT);
    }
  }
}
