// The inputs of a run as one stream (docs/batches.md "Inputs from a list", "Sharding", "Large
// trees"): the PATH arguments, then the paths of --files-from (read as the list streams in, one
// per line or NUL-separated), each walked by the run's one Walker; only the files of --shard K/N
// pass; the batch manifest at the root of a folder PATH is told apart (verify checks it as an
// envelope, decrypt never decrypts it), and one below a root is reported skipped. Nothing is
// collected: what the walk finds flows through, so memory does not grow with the tree.

import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { readFilesFrom, type FilesFromItem } from '../batch/files-from.js';
import { isManifestName, manifestName } from '../batch/manifest.js';
import { toSlashPath } from '../batch/relpath.js';
import { inShard, shardKey, type Shard } from '../batch/shard.js';
import type { FileResult } from './results.js';
import { Walker, type FoundFile, type PassedKind, type WalkProblem } from '../fsops/walk.js';
import { UsageError } from './job.js';
import { showPath } from './show.js';
import { ROW_HINTS } from './statuses.js';

export interface InputSpec {
  command: 'decrypt' | 'verify' | 'encrypt';
  /** The PATH arguments. */
  paths: readonly string[];
  /** --files-from FILE (`-`: standard input), -0; `once`: it cannot be read twice (standard input, a pipe). */
  filesFrom?: { file: string; nul: boolean; once: boolean } | undefined;
  shard?: Shard | undefined;
  extension: string;
  followSymlinks: boolean;
  /** Which files of a folder the command takes (by base name). */
  accept: (name: string) => boolean;
  /** The -o folder, never walked into (null until it exists). */
  skip: () => { dev: number; ino: number; real: string } | null;
}

export type InputItem =
  /** A file to work on; `manifest`: the batch manifest at the root of a folder PATH (verify only). */
  | { kind: 'file'; file: FoundFile; manifest?: boolean }
  /** A row that is reported as it is: a problem of the walk or of the list, a manifest below a root. */
  | { kind: 'row'; result: FileResult };

export interface InputHooks {
  /** A folder PATH begins, before any of its files: its batch manifest is looked for here. */
  root?(root: string, realRoot: string): Promise<void>;
  /** The walk passed over an entry (a link not followed, a socket, ...): counted, not a row. */
  passed?(path: string, what: PassedKind): void;
}

/** The key of `f` for --shard: its path below the walked folder, or the PATH as given. */
export function shardKeyOf(f: FoundFile): string {
  return f.root === null ? shardKey(f.path, path.sep) : toSlashPath(f.rel, path.sep);
}

export class Inputs {
  /** Files the walk found so far, before --shard picked its part. */
  found = 0;
  /** Rows of problems so far (of the walk and of the list). */
  problems = 0;

  constructor(readonly spec: InputSpec) {}

  /** Whether the list can be read a second time (pre-passes over the inputs): not standard input, not a pipe. */
  get rereadable(): boolean {
    return !this.spec.filesFrom?.once;
  }

  /**
   * Whether the PATHs hold anything at all (a file, whatever --shard says, or a problem): read
   * until the first one, before any work, so that "no files" is a usage error. A list on standard
   * input cannot be read twice: then true (the run itself tells, at its end).
   */
  async any(): Promise<boolean> {
    if (!this.rereadable) return true;
    for await (const _ of filesOf(this.spec, this.spec.accept, true)) return true; // a file, or a problem (null)
    return false;
  }

  async *stream(hooks: InputHooks = {}): AsyncGenerator<InputItem> {
    const walker = new Walker({ accept: this.spec.accept, followSymlinks: this.spec.followSymlinks, skip: this.spec.skip });
    await walker.reserve(this.spec.paths);
    for (const p of this.spec.paths) yield* this.one(walker, p, hooks);
    const list = this.spec.filesFrom;
    if (!list) return;
    for await (const item of listItems(list)) {
      if (item.kind === 'path') {
        yield* this.one(walker, item.path, hooks, true);
        continue;
      }
      this.problems++;
      yield { kind: 'row', result: { path: `${list.file === '-' ? '(standard input)' : list.file}:${item.n}`, status: 'io-error', bytes: 0, detail: item.message, hint: item.hint } };
    }
  }

  private async *one(walker: Walker, p: string, hooks: InputHooks, listed = false): AsyncGenerator<InputItem> {
    const mname = manifestName(this.spec.extension);
    let root: string | null = null;
    for await (const it of listed ? walker.listed(p) : walker.path(p)) {
      if (it.kind === 'root') {
        root = it.root;
        await hooks.root?.(it.root, it.realRoot);
        continue;
      }
      if (it.kind === 'passed') {
        if (!this.spec.shard || inShard(problemKey({ path: it.path, message: '' }, root), this.spec.shard)) hooks.passed?.(it.path, it.what);
        continue;
      }
      if (it.kind === 'problem') {
        if (this.spec.shard && !inShard(problemKey(it.problem, root), this.spec.shard)) continue;
        this.problems++;
        yield { kind: 'row', result: { path: it.problem.path, status: 'io-error', bytes: 0, detail: it.problem.message, hint: ROW_HINTS.walk } };
        continue;
      }
      const f = it.file;
      this.found++;
      if (this.spec.shard && !inShard(shardKeyOf(f), this.spec.shard)) continue;
      if (this.spec.command !== 'encrypt' && f.root !== null && !f.listed && isManifestName(path.basename(f.rel), this.spec.extension)) {
        if (f.rel === mname) { // the batch manifest of this folder PATH
          if (this.spec.command === 'verify') yield { kind: 'file', file: f, manifest: true };
          continue;
        }
        yield {
          kind: 'row',
          result: {
            path: f.path, status: 'skipped', bytes: 0,
            detail: `a batch manifest below the walked folder: not used and not ${this.spec.command === 'decrypt' ? 'decrypted' : 'checked'}; to check that batch, verify its folder by itself (aenv verify ${showPath(path.dirname(f.path))})`,
          },
        };
        continue;
      }
      yield { kind: 'file', file: f };
    }
  }
}

/** A problem's key for --shard: its path below the folder PATH being walked, else as given. */
function problemKey(p: WalkProblem, root: string | null): string {
  const rel = root === null ? '' : path.relative(root, p.path);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? toSlashPath(rel, path.sep) : shardKey(p.path, path.sep) || p.path;
}

/**
 * The entries of a --files-from list, as it streams in. A list that is wrong as a whole (the
 * other separator than -0 says, before any path) is a usage error.
 */
async function* listItems(list: { file: string; nul: boolean }): AsyncGenerator<FilesFromItem> {
  const source = list.file === '-' ? process.stdin : createReadStream(list.file);
  let listed = 0;
  try {
    for await (const item of readFilesFrom(source, { nul: list.nul })) {
      if (item.kind === 'path') listed++;
      else if (listed === 0 && /looks (newline|NUL)-separated/.test(item.message)) {
        throw new UsageError(`--files-from ${showPath(list.file)}: ${item.message}`, item.hint);
      }
      yield item;
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read the --files-from list ${showPath(list.file)} (${code ?? String(e)})`, 'give a readable file, or - for standard input');
  }
}

/**
 * Every file of the run's PATHs (and of a --files-from list that is a file) that `accept` takes
 * by name, or that is named as a PATH, whatever --shard says: for the passes before any work
 * (prepass.ts). Problems are left to the run itself (with `problems`, each is a null). A list on
 * standard input is not read.
 */
export async function* filesOf(spec: InputSpec, accept: (name: string) => boolean, problems = false): AsyncGenerator<FoundFile | null> {
  const walker = new Walker({ accept, followSymlinks: spec.followSymlinks, skip: spec.skip });
  const paths = async function* (): AsyncGenerator<[string, boolean]> {
    for (const p of spec.paths) yield [p, false];
    if (spec.filesFrom && !spec.filesFrom.once) {
      for await (const item of listItems(spec.filesFrom)) if (item.kind === 'path') yield [item.path, true];
    }
  };
  for await (const [p, listed] of paths()) {
    for await (const it of listed ? walker.listed(p) : walker.path(p)) {
      if (it.kind === 'file') yield it.file;
      else if (it.kind === 'problem' && problems) yield null;
    }
  }
}
