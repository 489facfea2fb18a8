// The four commands over files and trees (shared/CLI.md): walk the PATHs, plan outputs, take
// the password, run the files through the engine in parallel, report, and give the exit status.
// Files without the AENV magic go to IBM's tool when one is found (cli/foreign.ts, engine/foreign.ts).

import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Backend, BackendName } from '../crypto/backend.js';
import { loadBackend } from '../crypto/load.js';
import { KeyCache, passwordBytes } from '../crypto/keys.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, SUITE_CHACHA20_POLY1305, type KdfId, type SuiteId } from '../format/constants.js';
import { DEFAULT_PARAMS } from '../format/kdf-params.js';
import { runAll } from '../engine/batch.js';
import { Interrupted, newContext, type RunContext } from '../engine/context.js';
import { decryptFile, encryptFile, verifyFile, type Sealing, type WriteOptions } from '../engine/files.js';
import { protectFile } from '../engine/foreign.js';
import { inspectFile, type InspectResult } from '../engine/inspect.js';
import { locateTool, type Location } from '../foreign/locate.js';
import { failure, type FileResult } from '../engine/results.js';
import { PlanError, planOutput, type Direction, type Planned } from '../fsops/plan.js';
import { OutputDir } from '../fsops/dirs.js';
import { walk, type Found } from '../fsops/walk.js';
import { UsageError } from './errors.js';
import { foreignSetup, protectTool, toolFor, toolText, type ToolArgs } from './foreign.js';
import { getPassword, PASSWORD_ENV, readPasswordList, type Passwords } from './password.js';
import { colorWanted, Reporter } from './report.js';
import { VERSION } from '../version.js';
import { showPath } from './text.js';

export interface CommonArgs extends ToolArgs {
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
}

export interface WriteArgs extends CommonArgs {
  output?: string | undefined;
  force: boolean;
  skipExisting: boolean;
  removeSource: boolean;
}

export interface EncryptArgs extends WriteArgs {
  suite: 'aes-256-gcm' | 'chacha20-poly1305';
  kdf: 'scrypt' | 'argon2id' | 'pbkdf2';
  chunkSize: number;
  format?: 'aenv' | 'ibm';
}

export const SUITES: Record<EncryptArgs['suite'], SuiteId> = { 'aes-256-gcm': SUITE_AES_256_GCM, 'chacha20-poly1305': SUITE_CHACHA20_POLY1305 };
export const KDFS: Record<EncryptArgs['kdf'], KdfId> = { scrypt: KDF_SCRYPT, argon2id: KDF_ARGON2ID, pbkdf2: KDF_PBKDF2 };

/** SIGINT sets the run's flag (files in flight clean up) and stops IBM's tools (`abort`); a second one exits at once. */
export function onInterrupt(ctx: RunContext, abort?: AbortController): () => void {
  const handler = (): void => {
    if (ctx.interrupted) process.exit(130);
    ctx.interrupted = true;
    abort?.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

function reporter(a: CommonArgs, verb: string): Reporter {
  return new Reporter({
    json: a.json, quiet: a.quiet, out: process.stdout, err: process.stderr, verb,
    color: { out: colorWanted(process.stdout), err: colorWanted(process.stderr) }, progress: a.progress && !a.quiet && Boolean(process.stderr.isTTY),
  });
}

async function collect(a: CommonArgs, accept: (name: string) => boolean, what: string): Promise<{ files: Found[]; problems: FileResult[] }> {
  const { files, problems } = await walk(a.paths, { accept, followSymlinks: a.followSymlinks });
  if (files.length === 0 && problems.length === 0) {
    throw new UsageError(`no ${what} found in ${a.paths.map(showPath).join(', ')}`,
      what.startsWith('files ending') ? 'check the PATHs, or pass --extension if your envelopes use another one' : 'check the PATHs');
  }
  const hint = 'check that the PATH exists and is readable (permissions, a mount that went away)';
  return { files, problems: problems.map((p) => ({ path: p.path, status: 'io-error', bytes: 0, detail: p.message, hint })) };
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

async function passwordOrUsage(a: CommonArgs, confirm: boolean, verb: string): Promise<string> {
  const pw = await getPassword({ passwordFile: a.passwordFile, prompt: true, confirm, stdinFree: !a.paths.includes('-') });
  if (pw === null) {
    throw new UsageError(`${verb} needs a password`, 'use --password-file FILE or set ASPERA_SCP_FILEPASS (or run on a terminal to be asked)');
  }
  return pw;
}

/**
 * Runs `work` over the files, `jobs` at a time. Each file gets a context of its own that
 * counts its progress, so that when it ends (ok or not) the display is topped up to the
 * file's whole size: the bar reaches 100 % exactly when the last file is done.
 */
async function runFiles(a: CommonArgs, ctx: RunContext, rep: Reporter, items: Found[], problems: FileResult[],
  work: (f: Found, ctx: RunContext) => Promise<FileResult>, abort?: AbortController): Promise<number> {
  for (const p of problems) rep.file(p);
  rep.start(items.length, items.reduce((n, f) => n + f.size, 0)); // sizes from the walk: no second stat
  const stop = onInterrupt(ctx, abort);
  const perFile = async (f: Found): Promise<FileResult> => {
    let counted = 0;
    // Object.create: the file's context reads `interrupted` (and the rest) from the run's.
    const fctx = Object.create(ctx, {
      progress: { value: (n: number) => { counted += n; rep.progress(n); } },
    }) as RunContext;
    const r = await work(f, fctx);
    const rest = f.size - counted;
    if (rest > 0) rep.progress(rest, true);
    return r;
  };
  try {
    await runAll(items, a.jobs ?? availableParallelism(), ctx, perFile, (r) => rep.file(r));
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    await OutputDir.flushAll(ctx.dirs.values());
    rep.summary({ interrupted: true }, 'interrupted');
    process.stderr.write('aenv: interrupted: finished files stay; the unfinished ones left nothing\n');
    return 130;
  } finally {
    stop();
    await ctx.pool?.close();
  }
  // The names committed in the run's output folders are made durable once per folder, here.
  await OutputDir.flushAll(ctx.dirs.values());
  return -1;
}

function writeOptions(a: WriteArgs): WriteOptions {
  return { force: Boolean(a.force), skipExisting: Boolean(a.skipExisting), removeSource: Boolean(a.removeSource) };
}

async function planAll(a: WriteArgs, files: Found[], dir: Direction): Promise<Map<Found, ReturnType<typeof planOutput> | FileResult>> {
  const out = a.output ?? null;
  if (out !== null) {
    try {
      await fsp.mkdir(out, { recursive: true });
      if (!(await fsp.stat(out)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UsageError(`cannot use ${showPath(out)} as the output folder (${code === 'EEXIST' || code === 'ENOTDIR' ? 'it exists and is not a folder' : code})`,
        'give -o a folder that exists or can be created');
    }
  }
  const outId = out === null ? null : await fsp.stat(out).then((st) => ({ dev: st.dev, ino: st.ino }));
  const plans = new Map<Found, Planned | FileResult>();
  for (const f of files) {
    try {
      plans.set(f, planOutput(f, dir, a.extension, out, outId));
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      plans.set(f, failure(f.path, undefined, e));
    }
  }
  refuseOutputsThatAreInputs(files, plans);
  return plans;
}

/**
 * A run in which one file's output is another of its inputs (`x.aspera-env.aspera-env` decrypts
 * to `x.aspera-env`) would overwrite, or with --remove-source delete, an input it has not
 * read yet: refused before any work.
 */
function refuseOutputsThatAreInputs(files: Found[], plans: Map<Found, Planned | FileResult>): void {
  const inputs = new Map(files.map((f) => [path.resolve(f.path), f]));
  for (const [f, p] of plans) {
    if ('status' in p) continue;
    const other = inputs.get(path.resolve(p.output));
    if (other && other !== f) {
      throw new UsageError(`the output of ${showPath(f.path)} would be ${showPath(p.output)}, which is another input of this run`,
        'decrypt them in two runs, or use -o DIR so that no output lands on an input');
    }
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
  const { files, problems } = await collect(a, (n) => n.endsWith(a.extension), `files ending in ${a.extension}`);
  const tool = toolFor('asunprotect', a.asunprotect);
  const pws = (await passwordsFor(a, () => passwordOrUsage(a, false, 'decrypt')))!;
  const backend = await loadBackend(a.backend);
  const rep = reporter(a, 'decrypt');
  const ctx = newContext(backend, keyCacheFor(backend, pws, a), (n) => rep.progress(n));
  ctx.passwordLines = rep.passwordLines = pws.lines;
  const plans = await planAll(a, files, 'decrypt');
  const abort = new AbortController();
  const opt = { ...writeOptions(a), foreign: foreignSetup(a, tool, pws, abort.signal) };
  const code = await runFiles(a, ctx, rep, files, problems, async (f, fctx) => {
    const p = plans.get(f)!;
    return 'status' in p ? p : decryptFile(f, p, opt, fctx);
  }, abort);
  if (code >= 0) return code;
  // key_derivations: how many KDFs the run paid for (files sealed in one run share one)
  return rep.summary({ key_derivations: ctx.keys?.derivations ?? 0 }) ? 1 : 0;
}

export async function runVerify(a: CommonArgs & { passwordPrompt: boolean }): Promise<number> {
  const { files, problems } = await collect(a, (n) => n.endsWith(a.extension), `files ending in ${a.extension}`);
  const tool = toolFor('asunprotect', a.asunprotect);
  const pw = await passwordsFor(a, async () => {
    const one = await getPassword({ passwordFile: a.passwordFile, prompt: a.passwordPrompt, confirm: false, stdinFree: true });
    if (a.passwordPrompt && one === null) throw new UsageError('--password-prompt needs a terminal on standard input', 'use --password-file FILE or ASPERA_SCP_FILEPASS in scripts');
    return one;
  });
  const backend = await loadBackend(a.backend);
  const rep = reporter(a, pw === null ? 'verify (passwordless)' : 'verify');
  const ctx = newContext(backend, pw === null ? null : keyCacheFor(backend, pw, a), (n) => rep.progress(n));
  ctx.passwordLines = rep.passwordLines = pw?.lines ?? null;
  const abort = new AbortController();
  const foreign = foreignSetup(a, tool, pw, abort.signal);
  const code = await runFiles(a, ctx, rep, files, problems, (f, fctx) => verifyFile(f, fctx, foreign), abort);
  if (code >= 0) return code;
  const kind = pw === null ? 'passwordless' : 'keyed';
  const note = pw === null
    ? 'passwordless check: structure and content digest only (proves the envelope arrived whole, not that it is authentic; give a password for the full check)'
    : 'keyed check: every chunk authenticated and every content digest matched';
  return rep.summary({ verify: kind, key_derivations: ctx.keys?.derivations ?? 0 }, note) ? 1 : 0;
}

export async function sealingFor(a: EncryptArgs, keys: KeyCache): Promise<Sealing> {
  const chunkLog2 = Math.log2(a.chunkSize);
  const params = DEFAULT_PARAMS[KDFS[a.kdf]];
  const salt = randomBytes(32);
  return { suite: SUITES[a.suite], chunkLog2, params, salt, master: await keys.master(params, salt) };
}

export async function runEncrypt(a: EncryptArgs): Promise<number> {
  const { files, problems } = await collect(a, (n) => !n.endsWith(a.extension), 'files');
  const ibm = a.format === 'ibm' ? protectTool(a) : null; // --format ibm: IBM's asprotect seals
  const pw = await passwordOrUsage(a, true, 'encrypt');
  const backend = await loadBackend(a.backend);
  const rep = reporter(a, 'encrypt');
  const keys = ibm ? null : new KeyCache(backend, passwordBytes(pw));
  const ctx = newContext(backend, keys, (n) => rep.progress(n));
  const sealing = keys ? await sealingFor(a, keys) : null;
  const plans = await planAll(a, files, 'encrypt');
  const opt = writeOptions(a);
  const abort = new AbortController();
  const foreign = ibm ? { ...foreignSetup(a, ibm, { bytes: [], texts: [pw], lines: null }, abort.signal), tool: ibm } : null;
  const code = await runFiles(a, ctx, rep, files, problems, async (f, fctx) => {
    if (f.root === null && path.basename(f.path).endsWith(a.extension)) {
      return { path: f.path, status: 'skipped', bytes: 0, detail: `already ends in ${a.extension}` };
    }
    const p = plans.get(f)!;
    if ('status' in p) return p;
    return foreign ? protectFile(f, p, opt, foreign, fctx) : encryptFile(f, p, opt, fctx, sealing!);
  }, abort);
  if (code >= 0) return code;
  return rep.summary({}) ? 1 : 0;
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
