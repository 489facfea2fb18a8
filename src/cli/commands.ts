// The commands over files and trees (shared/CLI.md): take the inputs as a stream (the PATHs,
// --files-from, --shard; cli/inputs.ts), check before any work what must be checked before
// (nothing found, an output that is another input), take the password, run the files through
// the engine in parallel, check the batch against its manifest and checksum list, report, and
// give the exit status. Files without the AENV magic go to IBM's tool when one is found
// (cli/foreign.ts, engine/foreign.ts). encrypt is in cli/encrypt.ts.

import { promises as fsp, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Backend, BackendName } from '../crypto/backend.js';
import { loadBackend } from '../crypto/load.js';
import { KeyCache, passwordBytes } from '../crypto/keys.js';
import { manifestName } from '../batch/manifest.js';
import { toSlashPath } from '../batch/relpath.js';
import { inShard } from '../batch/shard.js';
import { newContext, Interrupted } from '../engine/context.js';
import { hashFile, type FileHash } from '../engine/file-hash.js';
import { decryptFile, verifyFile } from '../engine/files.js';
import { inspectFile, type InspectResult } from '../engine/inspect.js';
import { locateTool, type Location } from '../foreign/locate.js';
import { failure, type FileResult } from '../engine/results.js';
import { outputName, PlanError, planOutput, type Planned } from '../fsops/plan.js';
import type { Found } from '../fsops/walk.js';
import { UsageError } from './errors.js';
import { foreignSetup, toolFor, toolText, type ToolArgs } from './foreign.js';
import { Inputs, type InputSpec } from './inputs.js';
import { BatchRun } from './manifest-run.js';
import { ChecksumRun, ChecksumWriter, decryptRow, verifyRow } from './checksum-run.js';
import { getPassword, PASSWORD_ENV, readPasswordList, type Passwords } from './password.js';
import { precount, refuseOutputsThatAreInputs } from './prepass.js';
import type { Reporter } from './report.js';
import { checkListArgs, noInputs, OutFolder, reporter, runFiles, shardField, type ListArgs } from './run-files.js';
import { VERSION } from '../version.js';
import { showPath } from './text.js';

export interface CommonArgs extends ToolArgs, ListArgs {
  paths: string[];
  passwordList?: string | undefined;
  kdfBudget?: number | undefined;
  json: boolean;
  quiet: boolean;
  jobs?: number | undefined;
  extension: string;
  followSymlinks: boolean;
  passwordFile?: string | undefined;
  backend: BackendName;
  progress: boolean;
  /** verify, decrypt: a batch manifest is required; encrypt: one is written. */
  manifest?: boolean | undefined;
  checksums?: string | undefined;
}

export interface WriteArgs extends CommonArgs {
  output?: string | undefined;
  force: boolean;
  skipExisting: boolean;
  removeSource: boolean;
}

export interface VerifyArgs extends CommonArgs {
  passwordPrompt: boolean;
  writeChecksums?: string | undefined;
}

/**
 * The run's passwords: a --password-list (which combines with no other source), or the one
 * password of the usual sources (null when there is none).
 */
export async function passwordsFor(a: CommonArgs & { passwordPrompt?: boolean }, one: () => Promise<string | null>): Promise<Passwords | null> {
  if (a.passwordList === undefined) {
    const pw = await one();
    return pw === null ? null : { bytes: [passwordBytes(pw)], texts: [pw], lines: null };
  }
  const clash = a.passwordFile !== undefined ? '--password-file' : process.env[PASSWORD_ENV] !== undefined ? PASSWORD_ENV : a.passwordPrompt ? '--password-prompt' : null;
  if (clash) {
    throw new UsageError(`--password-list combines with no other password source, and ${clash} is given too`,
      clash === PASSWORD_ENV ? `unset ${PASSWORD_ENV} for this run, or put its password into the list` : `drop ${clash}, or put its password into the list`);
  }
  return readPasswordList(a.passwordList);
}

/** The run's key cache for `pws`, within --kdf-budget. */
export function keyCacheFor(backend: Backend, pws: Passwords, a: CommonArgs): KeyCache {
  return new KeyCache(backend, pws.bytes, (a.kdfBudget ?? Infinity) * 1000);
}

/** Standard input is not the data or the list, so a prompt may read it. */
export function stdinFree(a: CommonArgs): boolean {
  return !a.paths.includes('-') && a.filesFrom !== '-';
}

export async function passwordOrUsage(a: CommonArgs, confirm: boolean, verb: string): Promise<string> {
  const pw = await getPassword({ passwordFile: a.passwordFile, prompt: true, confirm, stdinFree: stdinFree(a) });
  if (pw === null) {
    throw new UsageError(`${verb} needs a password`, 'use --password-file FILE or set ASPERA_SCP_FILEPASS (or run on a terminal to be asked)');
  }
  return pw;
}

/** The stream of a run's inputs, with the usage errors that come before any work. */
export function inputSpec(a: CommonArgs, command: InputSpec['command'], out: OutFolder): InputSpec {
  const shard = checkListArgs(a);
  const accept = command === 'encrypt' ? (n: string) => !n.endsWith(a.extension) : (n: string) => n.endsWith(a.extension);
  return {
    command, paths: a.paths,
    filesFrom: a.filesFrom === undefined ? undefined : { file: a.filesFrom, nul: Boolean(a.null), once: a.filesFrom === '-' || !statSync(a.filesFrom).isFile() },
    shard, extension: a.extension, followSymlinks: a.followSymlinks, accept, skip: out.skip,
  };
}

/** --checksums and --write-checksums name files relative to one folder: exactly one folder PATH. */
async function oneFolder(a: CommonArgs, flag: string): Promise<string> {
  const st = a.paths.length === 1 ? await fsp.stat(a.paths[0]!).catch(() => null) : null;
  if (!st?.isDirectory() || a.filesFrom !== undefined) {
    throw new UsageError(`${flag} needs exactly one folder PATH (the list's names are relative to it), and no --files-from`, `e.g. aenv verify incoming ${flag} incoming.sha256`);
  }
  return a.paths[0]!;
}

/** --manifest on verify and decrypt: folder PATHs, each with a manifest at its root. */
async function manifestRequired(a: CommonArgs, rep: Reporter): Promise<boolean> {
  const dirs: string[] = [];
  for (const p of a.paths) if ((await fsp.stat(p).catch(() => null))?.isDirectory()) dirs.push(p);
  if (dirs.length === 0 || a.filesFrom !== undefined) {
    throw new UsageError('--manifest needs a folder PATH (the batch manifest sits at its root), and no --files-from', 'e.g. aenv verify outgoing --manifest --password-file pw.txt');
  }
  const lacking = dirs.filter((d) => !BatchRun.present(d, a.extension));
  if (lacking.length === 0) return true;
  rep.note(`aenv: error: --manifest: no batch manifest (${manifestName(a.extension)}) at the root of ${lacking.map(showPath).join(', ')}`);
  rep.note('aenv: hint: the batch cannot be checked without it; if the tree never had one, run without --manifest (each envelope is still checked on its own)');
  rep.summary({ batch: { manifest: 'absent', matches: false }, ...shardField(checkListArgs(a)), exit_status: 1 });
  return false;
}

/** `file`'s path below the folder `root`, `/`-separated, or null when it is not below it. */
function keyBelow(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : toSlashPath(rel, path.sep);
}

/** Files and bytes of this run for the progress display (only when it is shown and the list can be read twice). */
async function totals(rep: Reporter, inputs: Inputs): Promise<{ files: number; bytes: number } | null> {
  return rep.showsProgress && inputs.rereadable ? precount(inputs.spec) : null;
}

/** The exit status and the summary's last fields, once every row is out. */
function finish(rep: Reporter, extra: Record<string, unknown>, mismatch: boolean, note = '', lines: string[] = []): number {
  const code = rep.failed > 0 || mismatch ? 1 : 0;
  rep.summary({ ...extra, exit_status: code }, note, lines, mismatch);
  return code;
}

/**
 * A decrypt output that ends in the extension and lands inside a walked folder could be taken
 * as an input later in the same (streaming) walk: refused. The -o folder is never walked, so
 * outputs below it are safe when it lies inside the walked folder.
 */
function refuseOutputInTree(p: Planned, ext: string, roots: readonly string[], out: string | null, risky: boolean): void {
  if (!path.basename(p.output).endsWith(ext)) return;
  const o = path.resolve(p.output);
  const under = (x: string, d: string): boolean => x.startsWith(d.endsWith(path.sep) ? d : d + path.sep);
  const od = out === null ? null : path.resolve(out);
  const inTree = roots.some((r) => under(o, r) && !(od !== null && under(od, r) && under(o, od)));
  if (inTree || risky) {
    throw new PlanError(`its output ${JSON.stringify(p.output)} ends in ${ext} and ${inTree ? 'would land inside a walked folder, where this run could take it as an input' : 'exists: it may be another input of this run'}`,
      'decrypt it in a separate run, or use -o DIR outside the walked folders');
  }
}

export async function runDecrypt(a: WriteArgs): Promise<number> {
  for (const p of a.paths) {
    const st = await fsp.stat(p).catch(() => null);
    if (st?.isFile() && !path.basename(p).endsWith(a.extension)) {
      throw new UsageError(`${showPath(p)} does not end in ${a.extension}, so its output name is unknown`,
        `rename it, or pass --extension with the ending your envelopes use`);
    }
  }
  const out = new OutFolder(a.output ?? null);
  await out.look();
  const inputs = new Inputs(inputSpec(a, 'decrypt', out));
  const checksumRoot = a.checksums !== undefined ? await oneFolder(a, '--checksums') : null;
  if (!(await inputs.any())) throw noInputs(a.paths, a.filesFrom, `files ending in ${a.extension}`);
  await refuseOutputsThatAreInputs(inputs.spec, (f) => planOutput(f, 'decrypt', a.extension, a.output ?? null).output);
  const tool = toolFor('asunprotect', a.asunprotect);
  const rep = reporter(a, 'decrypt');
  if (a.manifest && !(await manifestRequired(a, rep))) return 1;
  const pws = (await passwordsFor(a, () => passwordOrUsage(a, false, 'decrypt')))!;
  const backend = await loadBackend(a.backend);
  const ctx = newContext(backend, keyCacheFor(backend, pws, a), (n) => rep.progress(n));
  ctx.passwordLines = rep.passwordLines = pws.lines;
  await out.make();
  const shard = inputs.spec.shard;
  const batch = new BatchRun({ run: ctx, keyed: true, extension: a.extension, shard, filesFrom: a.filesFrom !== undefined, required: Boolean(a.manifest), note: (l) => rep.note(l) });
  // the list names plaintexts; a shard answers for the ones whose envelope falls in its part
  const checks = a.checksums !== undefined ? await ChecksumRun.load(a.checksums, shard ? (k) => inShard(k + a.extension, shard) : undefined) : null;
  const roots: string[] = [];
  const abort = new AbortController();
  const opt = { force: Boolean(a.force), skipExisting: Boolean(a.skipExisting), removeSource: Boolean(a.removeSource), foreign: foreignSetup(a, tool, pws, abort.signal) };
  const keyOf = (f: Found): string | null => {
    try {
      return toSlashPath(path.join(path.dirname(f.rel), outputName(path.basename(f.rel), 'decrypt', a.extension)), path.sep);
    } catch {
      return null;
    }
  };
  const code = await runFiles(a, ctx, rep, inputs, {
    hooks: {
      root: async (root) => {
        roots.push(path.resolve(root));
        await batch.root(root);
      },
    },
    file: async (f, _manifest, fctx) => {
      const key = checks && f.root !== null ? keyOf(f) : null;
      let p: Planned;
      try {
        p = planOutput(f, 'decrypt', a.extension, out.dir, out.baseId);
        const exists = !inputs.rereadable && opt.force && (await fsp.lstat(p.output).catch(() => null)) !== null;
        refuseOutputInTree(p, a.extension, roots, out.dir, exists);
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        if (key !== null) checks!.seen(key);
        return failure(f.path, undefined, e);
      }
      const r = await decryptFile(f, p, key !== null ? { ...opt, checkOutput: (sha) => checks!.verdict(key, sha) } : opt, fctx);
      if (key !== null && !r.checksum) checks!.seen(key);
      return decryptRow(r);
    },
    report: (it, r) => {
      if (it.kind === 'file') return batch.annotate(it.file, r);
      const key = checks && checksumRoot !== null ? keyBelow(checksumRoot, r.path) : null;
      if (key !== null) checks!.seen(key.endsWith(a.extension) ? key.slice(0, -a.extension.length) : key);
      return batch.annotateProblem(r);
    },
  }, await totals(rep, inputs), abort);
  if (code >= 0) return code;
  for (const r of batch.finish()) rep.file(r);
  if (checks && checksumRoot !== null) {
    const base = out.dir ?? checksumRoot;
    for (const r of checks.missingRows((k) => ({ path: path.join(checksumRoot, ...(k + a.extension).split('/')), output: path.join(base, ...k.split('/')) }))) rep.file(r);
    for (const l of checks.problems()) rep.note(`aenv: ${l}`);
  }
  if (inputs.found === 0 && inputs.problems === 0) throw noInputs(a.paths, a.filesFrom, `files ending in ${a.extension}`);
  const bsum = batch.summary();
  return finish(rep, {
    key_derivations: ctx.keys?.derivations ?? 0, ...shardField(shard), ...(bsum ? { batch: bsum } : {}), ...(checks ? { checksums: checks.summary() } : {}),
  }, batch.mismatch || Boolean(checks?.mismatch), '', [...batch.lines(), ...(checks ? [checks.line()] : [])]);
}

export async function runVerify(a: VerifyArgs): Promise<number> {
  const out = new OutFolder(null);
  const inputs = new Inputs(inputSpec(a, 'verify', out));
  const listRoot = a.checksums !== undefined ? await oneFolder(a, '--checksums') : a.writeChecksums !== undefined ? await oneFolder(a, '--write-checksums') : null;
  if (!(await inputs.any())) throw noInputs(a.paths, a.filesFrom, `files ending in ${a.extension}`);
  const tool = toolFor('asunprotect', a.asunprotect);
  const pw = await passwordsFor(a, async () => {
    const one = await getPassword({ passwordFile: a.passwordFile, prompt: a.passwordPrompt, confirm: false, stdinFree: stdinFree(a) });
    if (a.passwordPrompt && one === null) throw new UsageError('--password-prompt needs a terminal on standard input', 'use --password-file FILE or ASPERA_SCP_FILEPASS in scripts');
    return one;
  });
  if (a.manifest && pw === null) throw new UsageError('--manifest needs the password: the manifest is sealed, its contents are private and authenticated', 'give --password-file FILE or ASPERA_SCP_FILEPASS (or --password-prompt)');
  const rep = reporter(a, pw === null ? 'verify (passwordless)' : 'verify');
  if (a.manifest && !(await manifestRequired(a, rep))) return 1;
  const backend = await loadBackend(a.backend);
  const ctx = newContext(backend, pw === null ? null : keyCacheFor(backend, pw, a), (n) => rep.progress(n));
  ctx.passwordLines = rep.passwordLines = pw?.lines ?? null;
  const shard = inputs.spec.shard;
  const batch = new BatchRun({ run: ctx, keyed: pw !== null, extension: a.extension, shard, filesFrom: a.filesFrom !== undefined, required: Boolean(a.manifest), note: (l) => rep.note(l) });
  const checks = a.checksums !== undefined ? await ChecksumRun.load(a.checksums, shard ? (k) => inShard(k, shard) : undefined) : null;
  const writer = a.writeChecksums !== undefined ? new ChecksumWriter(a.writeChecksums) : null;
  const abort = new AbortController();
  const foreign = foreignSetup(a, tool, pw, abort.signal);
  const code = await runFiles(a, ctx, rep, inputs, {
    hooks: { root: (root) => batch.root(root) },
    file: async (f, isManifest, fctx) => {
      let r = await verifyFile(f, fctx, foreign);
      if (isManifest) r = { ...r, detail: `batch manifest; ${r.detail}` };
      if ((!checks && !writer) || f.root === null) return r;
      const key = toSlashPath(f.rel, path.sep);
      let h: FileHash;
      try {
        h = await hashFile(f.path, fctx, { dev: f.dev, ino: f.ino }, f.followLink);
      } catch (e) {
        if (e instanceof Interrupted) throw e;
        checks?.seen(key);
        if (r.status !== 'ok') return r;
        const bad = failure(f.path, undefined, e);
        return { ...bad, detail: `could not be hashed for the checksum list: ${bad.detail}` };
      }
      writer?.add(key, h.digest);
      return checks ? verifyRow(r, checks.verdict(key, h.digest), h.magic) : r;
    },
    report: (it, r) => {
      if (it.kind === 'file') return it.manifest ? r : batch.annotate(it.file, r);
      const key = checks && listRoot !== null ? keyBelow(listRoot, r.path) : null;
      if (key !== null) checks!.seen(key);
      return batch.annotateProblem(r);
    },
  }, await totals(rep, inputs), abort);
  if (code >= 0) return code;
  for (const r of batch.finish()) rep.file(r);
  if (checks && listRoot !== null) {
    for (const r of checks.missingRows((k) => ({ path: path.join(listRoot, ...k.split('/')) }))) rep.file(r);
    for (const l of checks.problems()) rep.note(`aenv: ${l}`);
  }
  if (inputs.found === 0 && inputs.problems === 0) throw noInputs(a.paths, a.filesFrom, `files ending in ${a.extension}`);
  let written: Record<string, unknown> = {};
  if (writer) {
    await writer.write();
    written = { write_checksums: { file: writer.file, entries: writer.size } };
  }
  const kind = pw === null ? 'passwordless' : 'keyed';
  const note = pw === null
    ? 'passwordless check: structure and content digest only (proves the envelope arrived whole, not that it is authentic; give a password for the full check)'
    : 'keyed check: every chunk authenticated and every content digest matched';
  const bsum = batch.summary();
  const lines = [...batch.lines(), ...(checks ? [checks.line()] : []), ...(writer ? [`checksums: ${writer.size} written to ${showPath(writer.file)}`] : [])];
  return finish(rep, {
    verify: kind, key_derivations: ctx.keys?.derivations ?? 0, ...shardField(shard), ...(bsum ? { batch: bsum } : {}),
    ...(checks ? { checksums: checks.summary() } : {}), ...written,
  }, batch.mismatch || Boolean(checks?.mismatch), note, lines);
}

export async function runInspect(a: { paths: string[]; json: boolean; asunprotect?: string | undefined }): Promise<number> {
  toolFor('asunprotect', a.asunprotect); // a flag or AENV_ASUNPROTECT naming something unusable: usage error
  const tool = locateTool({ tool: 'asunprotect', flag: a.asunprotect });
  let failed = 0;
  for (const p of a.paths) {
    const r: InspectResult = await inspectFile(p, tool);
    if (r.status !== 'ok') failed++;
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : inspectText(r, tool));
  }
  return failed ? 1 : 0;
}

function inspectText(r: InspectResult, tool: Location): string {
  const lines = [`${showPath(r.path)}: ${r.status}${r.status === 'ok' ? '' : ` (${r.detail})`}`];
  const row = (k: string, v: unknown): void => {
    if (v !== undefined) lines.push(`  ${k.padEnd(16)}${String(v)}`);
  };
  row('size', r.size !== undefined ? `${r.size} bytes` : undefined);
  row('format', r.version !== undefined ? `AENV/${r.version}` : r.format === 'foreign' ? 'foreign envelope (no AENV magic)' : undefined);
  row('asunprotect', r.format === 'foreign' ? toolText(tool) : undefined);
  row('suite', r.suite);
  row('kdf', r.kdf_text);
  row('chunk size', r.chunk_size);
  row('chunks', r.chunks);
  row('plaintext', r.plaintext_bytes !== undefined ? `${r.plaintext_bytes} bytes` : undefined);
  row('batch id', r.batch_id !== undefined ? `${r.batch_id} (salt prefix: files sealed in one run share it)` : undefined);
  row('content digest', r.content_digest);
  return lines.join('\n') + '\n';
}

/** `aenv selftest`: one line per check, then a summary; exit 0 when every check passed. */
export async function runSelftest(): Promise<number> {
  const { selftest } = await import('../selftest/run.js');
  const t0 = performance.now();
  const checks = await selftest((c) => {
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name} (${Math.round(c.ms)} ms)${c.ok ? '' : `: ${c.detail}`}\n`);
  });
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(`selftest: ${checks.length - failed} passed, ${failed} failed in ${((performance.now() - t0) / 1000).toFixed(2)} s (aenv ${VERSION}, node ${process.version}, ${process.platform}-${process.arch})\n`);
  return failed ? 1 : 0;
}

export { finish as finishRun, totals };
