// Running a command's inputs (cli/inputs.ts, a stream) through the engine (engine/batch.ts
// runAll, `--jobs` lanes, in-order delivery): the interrupt handler, the progress accounting per
// file, the report, and the set-up the batch flags share: --shard, --files-from and -0, and the
// -o folder, which the walk never enters (so a run never takes its own outputs as inputs).

import { availableParallelism } from 'node:os';
import { accessSync, constants as fsc, promises as fsp, statSync } from 'node:fs';
import { BatchError } from '../batch/errors.js';
import { formatShard, parseShard, type Shard } from '../batch/shard.js';
import { Lookahead, runAll } from '../engine/batch.js';
import { Interrupted, type RunContext } from '../engine/context.js';
import type { FileResult } from '../engine/results.js';
import { OutputDir } from '../fsops/dirs.js';
import type { Found } from '../fsops/walk.js';
import { UsageError } from './errors.js';
import type { Input, InputHooks, Inputs } from './inputs.js';
import { colorWanted, Reporter } from './report.js';
import { showPath } from './text.js';

/** What the batch flags add to every command over files. */
export interface ListArgs {
  filesFrom?: string | undefined;
  null?: boolean | undefined;
  shard?: string | undefined;
}

/** The exit status of a run ended by each signal (shared/CLI.md "Exit status"). */
export const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * SIGINT, SIGTERM (Slurm's scancel, kill) and SIGHUP set the run's flag (files in flight clean
 * up) and stop IBM's tools (`abort`); a second one exits at once. `status()`: the exit status
 * of the first signal (130 when none came).
 */
export function onInterrupt(ctx: RunContext, abort?: AbortController): { stop: () => void; status: () => number } {
  let status: number = SIGNAL_STATUS.SIGINT;
  const handler = (sig: keyof typeof SIGNAL_STATUS): void => {
    if (ctx.interrupted) process.exit(status);
    status = SIGNAL_STATUS[sig];
    ctx.interrupted = true;
    abort?.abort();
  };
  for (const sig of Object.keys(SIGNAL_STATUS) as (keyof typeof SIGNAL_STATUS)[]) process.on(sig, handler);
  return {
    stop: () => {
      for (const sig of Object.keys(SIGNAL_STATUS)) process.off(sig, handler);
    },
    status: () => status,
  };
}

export function reporter(a: { json: boolean; quiet: boolean; progress: boolean }, verb: string): Reporter {
  return new Reporter({
    json: a.json, quiet: a.quiet, out: process.stdout, err: process.stderr, verb,
    color: { out: colorWanted(process.stdout), err: colorWanted(process.stderr) }, progress: a.progress && !a.quiet && Boolean(process.stderr.isTTY),
  });
}

/** --shard, -0 and --files-from checked before any work; the shard, if any. */
export function checkListArgs(a: ListArgs): Shard | undefined {
  if (a.null && a.filesFrom === undefined) throw new UsageError('-0 is for --files-from lists', 'e.g. find DIR -print0 | aenv verify --files-from - -0');
  if (a.filesFrom !== undefined && a.filesFrom !== '-') {
    try {
      accessSync(a.filesFrom, fsc.R_OK);
      if (statSync(a.filesFrom).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    } catch (e) {
      throw new UsageError(`cannot read the --files-from list ${showPath(a.filesFrom)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give a file with one path per line (or NUL-separated with -0), or - for standard input');
    }
  }
  if (a.shard === undefined) return undefined;
  try {
    return parseShard(a.shard);
  } catch (e) {
    if (e instanceof BatchError) throw new UsageError(e.message, e.hint);
    throw e;
  }
}

/** The summary's "shard", when the run is one part. */
export function shardField(s: Shard | undefined): { shard?: string } {
  return s ? { shard: formatShard(s) } : {};
}

/** The usage error of a run whose PATHs hold nothing it takes. */
export function noInputs(paths: readonly string[], filesFrom: string | undefined, what: string): UsageError {
  const where = [...paths.map(showPath), ...(filesFrom !== undefined ? [`the paths listed in ${filesFrom === '-' ? 'standard input' : showPath(filesFrom)}`] : [])];
  return new UsageError(`no ${what} found in ${where.join(', ') || 'the list'}`,
    what.startsWith('files ending') ? 'check the PATHs, or pass --extension if your envelopes use another one' : 'check the PATHs');
}

/** The -o folder: its identity once it exists, so that the walk never enters it. */
export class OutFolder {
  id: { dev: number; ino: number; real: string } | null = null;

  constructor(readonly dir: string | null) {}

  /** The folder as it is now, if it exists already. */
  async look(): Promise<void> {
    if (this.dir === null) return;
    const st = await fsp.stat(this.dir).catch(() => null);
    if (st?.isDirectory()) this.id = { dev: st.dev, ino: st.ino, real: await fsp.realpath(this.dir) };
  }

  /** Creates it if needed; a usage error when it cannot be a folder. */
  async make(): Promise<void> {
    if (this.dir === null) return;
    try {
      await fsp.mkdir(this.dir, { recursive: true });
      if (!(await fsp.stat(this.dir)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UsageError(`cannot use ${showPath(this.dir)} as the output folder (${code === 'EEXIST' || code === 'ENOTDIR' ? 'it exists and is not a folder' : code})`,
        'give -o a folder that exists or can be created');
    }
    await this.look();
  }

  readonly skip = (): { dev: number; ino: number; real: string } | null => this.id;

  get baseId(): { dev: number; ino: number } | null {
    return this.id && { dev: this.id.dev, ino: this.id.ino };
  }
}

export interface Work {
  hooks?: InputHooks;
  /** One file, start to end. */
  file(f: Found, manifest: boolean, ctx: RunContext): Promise<FileResult>;
  /** The row as reported (null: held back, reported at the end). */
  report?(it: Input, r: FileResult): FileResult | null;
}

/**
 * Runs the inputs through `w`, `jobs` at a time. Each file gets a context of its own that counts
 * its progress, so that when it ends (ok or not) the display is topped up to the file's whole
 * size: the bar reaches 100 % exactly when the last file is done. `total` is null when it is
 * unknown (no progress display, or a list on standard input). Returns 130 when interrupted
 * (143 by SIGTERM, 129 by SIGHUP), else -1 (the caller reports the rest).
 */
export async function runFiles(a: { jobs?: number | undefined }, ctx: RunContext, rep: Reporter, inputs: Inputs, w: Work,
  total: { files: number; bytes: number } | null, abort?: AbortController): Promise<number> {
  rep.start(total?.files ?? -1, total?.bytes ?? 0);
  const signals = onInterrupt(ctx, abort);
  const perInput = async (it: Input): Promise<{ it: Input; r: FileResult }> => {
    if (it.kind === 'row') return { it, r: it.result };
    let counted = 0;
    // Object.create: the file's context reads `interrupted` (and the rest) from the run's.
    const fctx = Object.create(ctx, {
      progress: { value: (n: number) => { counted += n; rep.progress(n); } },
    }) as RunContext;
    const r = await w.file(it.file, it.manifest ?? false, fctx);
    const rest = it.file.size - counted;
    if (rest > 0) rep.progress(rest, true);
    return { it, r };
  };
  try {
    const source = Lookahead.of(inputs.stream(w.hooks ?? {}));
    await runAll(source, a.jobs ?? availableParallelism(), ctx, perInput, ({ it, r }) => {
      const shown = w.report ? w.report(it, r) : r;
      if (shown) rep.file(shown);
    });
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    await OutputDir.flushAll(ctx.dirs.values());
    // the part and the files done (ok + failed + skipped), so that `aenv report` can say how far it got
    const done = [...rep.counts.values()].reduce((x, y) => x + y, 0);
    rep.summary({ interrupted: true, files_done: done, ...shardField(inputs.spec.shard), exit_status: signals.status() }, 'interrupted');
    process.stderr.write('aenv: interrupted: finished files stay; the unfinished ones left nothing\n');
    return signals.status();
  } finally {
    signals.stop();
    await ctx.pool?.close();
  }
  // The names committed in the run's output folders are made durable once per folder, here.
  await OutputDir.flushAll(ctx.dirs.values());
  return -1;
}
