// A run (docs/CLI.md): the engine's front door. Given a job (engine/job.ts) and a view, it
// checks before any work what can be checked (usage errors: exit status 2), takes the password,
// pulls the inputs (engine/inputs.ts) through `jobs` lanes (engine/lanes.ts), each file through
// its step (engine/steps.ts: its output planned, the file opened, written and committed, the
// run's checks told), hands every row to the checks (engine/checks/) and the view in input
// order, handles an interruption, and ends with the summary and the exit status. `decrypt -`
// and `encrypt -` come through here too: one stream in, one out (engine/stdio.ts).

import { accessSync, constants as fsc, promises as fsp, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { formatShard, type Shard } from '../batch/shard.js';
import { KeyCache, passwordBytes } from '../crypto/keys.js';
import { loadBackend } from '../crypto/load.js';
import { OutputDir } from '../fsops/dirs.js';
import { planOutput } from '../fsops/plan.js';
import type { Check, CheckModule, CheckSetup, FilesJob, Refusal } from './checks/check.js';
import { checksumList } from './checks/checksums.js';
import { outputDrives } from './checks/drives.js';
import { treeManifest } from './checks/manifest.js';
import { ownOutputs } from './checks/own-outputs.js';
import { batchManifest } from './checks/seal-manifest.js';
import { writeChecksums } from './checks/write-checksums.js';
import { Interrupted, newContext } from './context.js';
import { DIGEST_WARNING } from './aenv.js';
import { Inputs, type InputSpec } from './inputs.js';
import { onInterrupt, onStreamInterrupt } from './interrupt.js';
import { PassedOver } from './passed.js';
import { UsageError, type DecryptJob, type EncryptJob, type Job, type RunView, type StreamInputs } from './job.js';
import { Lookahead, runAll } from './lanes.js';
import { OutFolder } from './out-folder.js';
import { keyCacheFor, passwordsFor } from './passwords.js';
import { precount, refuseOutputsThatAreInputs } from './prepass.js';
import { failure, type FileResult } from './results.js';
import { showPath } from './show.js';
import { EXIT, isFailure } from './statuses.js';
import { retryWrongPassword } from './retry.js';
import { sealingFor, stepFor } from './steps.js';
import { Tally } from './tally.js';
import { TOOL_ENV } from '../foreign/ibm-cli.js';
import { defaultUnprotect, foreignSetup, protectTool, toolFor, type Found } from './tools.js';
import { decryptStream, encryptStream } from './stdio.js';

/**
/**
 * The run's checks, in the order they see each event (and their fields appear in the summary).
 * The output drive's first, so that the others see each output under the name it gets;
 * writeChecksums before treeManifest, which holds some rows back until the end: the list takes
 * every row as it comes, in input order.
 */
const CHECKS: readonly CheckModule[] = [outputDrives, ownOutputs, writeChecksums, treeManifest, checksumList, batchManifest];

/** Runs `job`, shown through `view`; resolves with the exit status. Usage errors are thrown (UsageError). */
export async function runJob(job: Job, view: RunView): Promise<number> {
  if (job.inputs.kind === 'stream') {
    if (job.command === 'verify') throw new Error('verify reads files, not standard input');
    return runStream(job, job.inputs, view);
  }
  const inputs = job.inputs;
  return runFiles({ ...job, inputs }, view);
}

/** The summary's "shard", when the run is one part. */
function shardField(s: Shard | undefined): { shard?: string } {
  return s ? { shard: formatShard(s) } : {};
}

/** What the run found out before any work: its inputs, output folder, checks and tool; or that it refuses to run. */
interface Preflight {
  inputs: Inputs;
  out: OutFolder | null;
  modules: CheckModule[];
  tool: Found | null;
  refusal: Refusal | null;
}

/**
 * Before any work, and before the password is asked for: what can be checked in the file
 * system (usage errors, thrown), and whether a check refuses the run (exit status 1).
 */
async function preflight(job: FilesJob): Promise<Preflight> {
  const { paths, extension } = job.inputs;
  await refuseMissingPaths(paths);
  if (job.command === 'decrypt') await refuseUnnamedPaths(paths, extension);
  const out = job.command === 'verify' ? null : new OutFolder(job.output.dir);
  await out?.look();
  const inputs = new Inputs(inputSpec(job, out));
  const modules = CHECKS.filter((m) => m.applies(job));
  let refusal: Refusal | null = null;
  for (const m of modules) {
    const r = (await m.preflight?.(job)) ?? null;
    refusal ??= r;
  }
  if (!(await inputs.any())) throw noInputs(job);
  if (out) await refuseOutputsThatAreInputs(inputs.spec, (f) => planOutput(f, job.command === 'encrypt' ? 'encrypt' : 'decrypt', extension, out.dir).output);
  // asunprotect named by the flag or the variable is checked now (a usage error); else looked for when a file needs it
  const named = job.command !== 'encrypt' && (job.opening.asunprotect !== undefined || process.env[TOOL_ENV.asunprotect] !== undefined);
  const tool = job.command !== 'encrypt' ? (named ? toolFor('asunprotect', job.opening.asunprotect) : null)
    : job.sealing.format === 'ibm' ? protectTool(job.sealing.asprotect) : null;
  return { inputs, out, modules, tool, refusal };
}

async function runFiles(job: FilesJob, view: RunView): Promise<number> {
  const tally = new Tally();
  const { inputs, out, modules, tool, refusal } = await preflight(job);
  if (refusal) {
    for (const n of refusal.notes) view.note(n);
    view.summary(tally.summary(job.command, { ...refusal.fields, ...shardField(job.inputs.shard), exit_status: EXIT.failed }));
    return EXIT.failed;
  }

  // The password, the keys, the run's context and checks, the output folder.
  let pws = await passwordsFor(job.password, job, job.inputs.filesFrom?.file === '-');
  const verb = job.command === 'verify' && pws === null ? 'verify (passwordless)' : job.command;
  const backend = await loadBackend(job.backend);
  let keys = pws === null || (job.command === 'encrypt' && tool) ? null
    : job.command === 'encrypt' ? new KeyCache(backend, pws.bytes) : keyCacheFor(backend, pws, job.opening.kdfBudget);
  // A password typed at the prompt that does not open the first envelope is asked again (engine/retry.ts).
  if (job.command !== 'encrypt' && pws?.prompted && job.password.ask && inputs.rereadable) {
    const budget = job.opening.kdfBudget;
    const r = await retryWrongPassword({
      spec: inputs.spec, ask: job.password.ask, confirm: false, pws, backend, keysOf: (p) => keyCacheFor(backend, p, budget), bytesOf: passwordBytes,
    });
    ({ pws, keys } = r);
    if (r.refused) {
      view.note({ level: 'error', text: r.refused });
      view.note({ level: 'hint', text: 'check the password (Caps Lock, keyboard layout), or give it with --password-file FILE; no file was touched' });
      view.summary(tally.summary(verb, { ...shardField(job.inputs.shard), exit_status: EXIT.failed }, { note: 'wrong password' }));
      return EXIT.failed;
    }
  }
  const ctx = newContext(backend, keys, (n) => view.progress(n, false));
  if (job.command !== 'encrypt') ctx.passwordLines = tally.passwordLines = pws?.lines ?? null;
  if (job.command === 'decrypt' && job.checkDigest) ctx.checkDigest = 'always';
  const sealing = job.command === 'encrypt' && keys && job.sealing.format === 'aenv' ? await sealingFor(job.sealing, keys) : null;
  await out?.make();
  const abort = new AbortController();
  const timeout = job.command === 'encrypt' ? (job.sealing.format === 'ibm' ? job.sealing.toolTimeout : 0) : job.opening.toolTimeout;
  const foreign = job.command !== 'encrypt' ? foreignSetup(tool ?? defaultUnprotect, timeout, pws, abort.signal)
    : tool ? foreignSetup(tool, timeout, pws, abort.signal) : null;
  const emit = (r: FileResult): void => {
    tally.add(r);
    view.row(r);
  };
  // Rows made at the end (missing files of a checksum list or manifest: possibly millions) wait for a slow reader.
  const emitLate = async (r: FileResult): Promise<void> => {
    emit(r);
    await view.drained?.();
  };
  const setup: CheckSetup = { job, inputs: job.inputs, stream: inputs, ctx, keyed: keys !== null, out, sealing, note: (n) => view.note(n), emit: emitLate };
  const checks: Check[] = [];
  for (const m of modules) checks.push(await m.start(setup));

  // The files, `jobs` at a time, each through its step; the rows in input order, through the checks.
  view.start(verb, view.wantsTotals && inputs.rereadable ? await precount(inputs.spec) : null);
  const fileStep = stepFor(job, ctx, { out, checks, sealing, foreign, progress: (n, quiet) => view.progress(n, quiet), counting: view.wantsTotals });
  // A slow reader of the rows holds the run back (they do not pile up in memory); an interruption does not wait for it.
  const step: typeof fileStep = async (it) => {
    await view.drained?.(abort.signal);
    return fileStep(it);
  };
  const interrupt = onInterrupt(ctx, abort);
  const passed = new PassedOver();
  try {
    const source = Lookahead.of(inputs.stream({
      root: async (root) => { for (const c of checks) await c.begin?.(root); },
      passed: (p, what) => { passed.add(what); view.passed?.(p, what); },
    }));
    await runAll(source, job.jobs ?? availableParallelism(), ctx, step, ({ it, r }) => {
      let shown: FileResult | null = r;
      for (const c of checks) if (shown && c.row) shown = c.row(shown, it);
      if (shown) emit(shown);
    });
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    await OutputDir.flushAll(ctx.dirs.values());
    await out?.removeIfMadeAndEmpty();
    // the part and the files done, so that `aenv report` can say how far it got
    const code = interrupt.code();
    view.summary(tally.summary(verb, { interrupted: true, files_done: tally.rows, ...shardField(job.inputs.shard), exit_status: code }, { note: 'interrupted' }));
    view.note({ level: 'interrupted', text: `finished files stay; the unfinished ones left nothing; ${continueHint(job)}` });
    return code;
  } finally {
    interrupt.stop();
    await ctx.pool?.close();
  }
  // The names committed in the run's output folders are made durable once per folder, here.
  await OutputDir.flushAll(ctx.dirs.values());
  await out?.removeIfMadeAndEmpty();

  // What the checks add once every file is reported, and the summary.
  if (inputs.found === 0 && inputs.problems === 0) throw noInputs(job);
  for (const c of checks) await c.finish?.();
  const parts = checks.map((c) => c.summary?.() ?? {});
  const mismatch = parts.some((p) => p.mismatch);
  const code = tally.failed > 0 || mismatch ? EXIT.failed : EXIT.ok;
  const fields = {
    ...(job.command === 'verify' ? { verify: pws === null ? 'passwordless' : 'keyed' } : {}),
    ...(job.command !== 'encrypt' ? { key_derivations: ctx.keys?.derivations ?? 0 } : {}),
    ...shardField(job.inputs.shard),
    ...Object.assign({}, ...parts.map((p) => p.fields ?? {})),
    ...passed.fields(),
    exit_status: code,
  };
  const note = job.command !== 'verify' ? ''
    : pws === null ? 'passwordless check: structure and content digest only (proves the envelope arrived whole, not that it is authentic; give a password for the full check)'
      : keyedNote(tally);
  view.summary(tally.summary(verb, fields, { lines: [...parts.flatMap((p) => p.lines ?? []), ...passed.lines()], note, mismatch }));
  return code;
}

/** What a keyed verify proved: only of the files that are ok (a summary never claims what the rows contradict). */
function keyedNote(tally: Tally): string {
  const ok = tally.count('ok');
  if (tally.rows === ok) return 'keyed check: every chunk authenticated and every content digest matched';
  if (ok === 0) return 'keyed check: no file was fully authenticated';
  return `keyed check: every chunk authenticated and every content digest matched in the ${ok} ok file${ok === 1 ? '' : 's'} only`;
}

/** How to go on after an interruption: what is done is left as it is (--skip-existing), not failed as `exists`. */
function continueHint(job: FilesJob): string {
  if (job.command === 'verify') return 'run it again to check the rest';
  return job.output.existing === 'skip' ? 'run the same command again to go on' : 'to go on, run the same command with --skip-existing';
}

/** A PATH that does not exist is a mistyped command line, said before any work (issue 22), not a failed file (exit 2, not 1). */
async function refuseMissingPaths(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const code = await fsp.lstat(p).then(() => null, (e: NodeJS.ErrnoException) => e.code ?? 'error');
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`${showPath(p)}: no such file or folder`, 'check the PATH (a typo, or a drive that is not mounted?)');
    }
  }
}

/** decrypt: a PATH file must end in the extension, else its output name is unknown. */
async function refuseUnnamedPaths(paths: readonly string[], extension: string): Promise<void> {
  for (const p of paths) {
    const st = await fsp.stat(p).catch(() => null);
    if (st?.isFile() && !path.basename(p).endsWith(extension)) {
      throw new UsageError(`${showPath(p)} does not end in ${extension}, so its output name is unknown`,
        'rename it, or pass --extension with the ending your envelopes use');
    }
  }
}

/** The stream of a run's inputs; a --files-from list that cannot be read is a usage error. */
function inputSpec(job: FilesJob, out: OutFolder | null): InputSpec {
  const { paths, filesFrom, shard, extension, followSymlinks } = job.inputs;
  if (filesFrom !== undefined && filesFrom.file !== '-') {
    try {
      accessSync(filesFrom.file, fsc.R_OK);
      if (statSync(filesFrom.file).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    } catch (e) {
      throw new UsageError(`cannot read the --files-from list ${showPath(filesFrom.file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        'give a file with one path per line (or NUL-separated with -0), or - for standard input');
    }
  }
  const accept = job.command === 'encrypt' ? (n: string) => !n.endsWith(extension) : (n: string) => n.endsWith(extension);
  return {
    command: job.command, paths,
    filesFrom: filesFrom === undefined ? undefined : { file: filesFrom.file, nul: filesFrom.nul, once: filesFrom.file === '-' || !statSync(filesFrom.file).isFile() },
    shard, extension, followSymlinks, accept, skip: out ? out.skip : () => null,
  };
}

/** The usage error of a run whose PATHs hold nothing it takes. */
function noInputs(job: FilesJob): UsageError {
  const { paths, extension } = job.inputs;
  const filesFrom = job.inputs.filesFrom?.file;
  const what = job.command === 'encrypt' ? 'files' : `files ending in ${extension}`;
  const where = [...paths.map(showPath), ...(filesFrom !== undefined ? [`the paths listed in ${filesFrom === '-' ? 'standard input' : showPath(filesFrom)}`] : [])];
  return new UsageError(`no ${what} found in ${where.join(', ') || 'the list'}`,
    what.startsWith('files ending') ? 'check the PATHs, or pass --extension if your envelopes use another one' : 'check the PATHs');
}

/**
 * `decrypt -` and `encrypt -`: standard input to standard output. The row goes to the view;
 * SIGINT ends the run at once (what was written is a verified prefix, or an envelope without
 * its last chunk and trailer, which every decoder rejects).
 */
async function runStream(job: DecryptJob | EncryptJob, io: StreamInputs, view: RunView): Promise<number> {
  const pws = await passwordsFor(job.password, job, true);
  if (pws === null) throw new Error('a stream without a password');
  const backend = await loadBackend(job.backend);
  const keys = keyCacheFor(backend, pws, job.command === 'decrypt' ? job.opening.kdfBudget : Infinity);
  const ctx = newContext(backend, keys);
  ctx.passwordLines = pws.lines;
  const stop = onStreamInterrupt(ctx, () => view.note({ level: 'interrupted', text: 'the output is incomplete' }));
  try {
    if (job.command === 'encrypt') {
      if (job.sealing.format !== 'aenv') throw new Error('IBM\'s asprotect cannot seal a stream');
      const out = await encryptStream(io.input, io.output, ctx, await sealingFor(job.sealing, keys));
      view.row({ path: '-', output: '-', status: 'ok', bytes: out.bytes, detail: 'sealed' });
      return EXIT.ok;
    }
    const out = await decryptStream(io.input, io.output, ctx);
    const line = ctx.passwordLines && out.password !== undefined ? ctx.passwordLines[out.password] : undefined;
    view.row({
      path: '-', output: '-', status: 'ok', bytes: out.bytes, detail: 'decrypted',
      ...(line !== undefined ? { password: line } : {}), ...(out.digestOk === false ? { warning: DIGEST_WARNING } : {}),
    });
    return EXIT.ok;
  } catch (e) {
    if (ctx.interrupted) return EXIT.interrupted;
    const r = failure('-', '-', e);
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') r.detail = 'standard output was closed before the end (the reader went away)';
    view.row(r);
    return isFailure(r.status) ? EXIT.failed : EXIT.ok;
  } finally {
    stop();
    await ctx.pool?.close();
  }
}
