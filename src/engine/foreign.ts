// Foreign envelopes (issue 11; shared/CLI.md "Foreign envelopes"; docs/IBM-TOOLS.md "Integration
// plan"): a file without the AENV magic (decoding step 1) is opened by IBM's asunprotect, and
// `encrypt --format ibm` seals with IBM's asprotect, one file per call (foreign/run-tool.ts).
// aenv keeps its own guarantees around the tool: the tool writes into a private folder aenv
// created in the output's folder and hands it as a descriptor (foreign/tool-output.ts, issue 21:
// no other user can redirect or read the write; aenv's naming, so the stale clean-up and the
// interrupt guarantees apply); what it leaves there is checked (foreign/output-check.ts) and
// committed by aenv's own no-replace commit; the input handed over by name is the file aenv
// opened, and its name must still point to it, unchanged, once the tool is done. A tool that
// another user could change is never run (foreign/trust.ts; cli/foreign.ts finds it).
// Any failure of the tool is `tool-error` with its exit status and last line in the detail;
// the private folder and all in it are removed. aenv's SIGINT, SIGTERM and SIGHUP abort every
// running tool. With --password-list the tool is tried with each password in turn, each try into
// a fresh private folder, until one succeeds; a try that fails leaves nothing behind; the tries
// stop early when the tool says the file is not its format, or fails in a way no password
// changes. Every run of the tool counts against --kdf-budget (the tool derives keys too). With
// decrypt --checksums the tool's output is hashed before it is committed (a mismatch is not
// committed: corrupt). `verify` runs the tool into a private folder in the system's temporary
// folder, which is removed afterwards whatever happened; without a password a foreign file is
// `unsupported`.

import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KdfBudgetError } from '../crypto/keys.js';
import { EnvelopeError } from '../format/status.js';
import { ioError } from '../fsops/errors.js';
import type { InputFile } from '../fsops/input.js';
import type { Planned } from '../fsops/plan.js';
import { checkToolPassword, notFoundHint, protectArgs, saysNotItsFormat, toolErrorHint, unprotectArgs, untrustedHint, VIA, type ToolName } from '../foreign/ibm-cli.js';
import type { Found } from '../foreign/locate.js';
import { runTool, type ToolResult, type ToolTiming } from '../foreign/run-tool.js';
import { ToolOutput } from '../foreign/tool-output.js';
import { checkInterrupted, Interrupted, type RunContext } from './context.js';
import { hashFile } from './file-hash.js';
import { checksumRefusal, open, outputDir, precheck, removeSource, sharedFolder, writeFailure, type InputPath, type WriteOptions } from './files.js';
import { failure, type FileResult } from './results.js';

/** How a run uses IBM's tool (set up once per run by the command line). */
export interface ForeignTool {
  /** The tool found for this run, or null (then a file without the magic stays not-envelope, with a hint). */
  tool: Found | null;
  /**
   * The passwords as given (IBM's tool gets each unchanged, in ASPERA_SCP_FILEPASS), with their
   * --password-list line when there is a list; null: passwordless verify.
   */
  passwords: { text: string; line?: number }[] | null;
  timing: Partial<ToolTiming>;
  /** Aborted by aenv's SIGINT handler: running tools are stopped, their temporary files removed. */
  signal: AbortSignal;
}

/** Decoding step 1 failed: no AENV magic (or fewer bytes than the magic). */
export function isNoMagic(e: unknown): e is EnvelopeError {
  return e instanceof EnvelopeError && e.status === 'not-envelope';
}

export const VERIFY_NO_PASSWORD_HINT = 'IBM\'s envelope can only be checked by IBM\'s asunprotect, which needs the password: give --password-file FILE or ASPERA_SCP_FILEPASS';

/**
 * The tool failed (or what it left was refused): the row is `tool-error`. `final` says why no
 * other password can help (null: another password might).
 */
class ToolFailure extends Error {
  constructor(readonly tool: ToolName, readonly result: ToolResult | null, detail: string, readonly final: string | null = null) {
    super(detail);
  }
}

function toolErrorRow(name: string, output: string | undefined, f: ToolFailure): FileResult {
  const r = f.result;
  return {
    path: name, ...(output !== undefined ? { output } : {}), status: 'tool-error', bytes: 0, detail: f.message,
    hint: toolErrorHint(f.tool), via: VIA[f.tool],
    tool: { exit: r?.code ?? null, signal: r?.signal ?? null, outcome: r?.outcome ?? 'spawn-failed' },
  };
}

/** A tool that other users could change (cli/foreign.ts found it on PATH or in an install folder): never run. */
function refusedRow(name: string, output: string | undefined, tool: Found & { untrusted: string }): FileResult {
  return {
    path: name, ...(output !== undefined ? { output } : {}), status: 'tool-error', bytes: 0,
    detail: `refusing to run ${tool.path} (found ${tool.source === 'path' ? 'on PATH' : `in ${tool.from}`}): ${tool.untrusted}`,
    hint: untrustedHint(tool.tool), via: VIA[tool.tool], tool: { exit: null, signal: null, outcome: 'refused' },
  };
}

function isRefused(tool: Found): tool is Found & { untrusted: string } {
  return tool.untrusted !== undefined;
}

/** Why no other password can change how this run of the tool ended; null when one might. */
function passwordIndependent(r: ToolResult): string | null {
  if (r.outcome !== 'exited') return 'its failure does not depend on the password';
  if (saysNotItsFormat(r.code, r.lastLine)) return 'the tool says the file is not its format';
  if (r.code === 0) return 'its failure does not depend on the password';
  return null;
}

/**
 * The path the tool gets for the input: the real path of the file aenv opened (absolute, as the
 * interface needs), checked to point to that very file now.
 */
function boundInputPath(src: InputFile): string {
  let real: string;
  try {
    real = realpathSync(src.path);
  } catch {
    real = '';
  }
  if (!real || !src.nameStillPointsHere(real)) throw ioError('EREPLACED', 'replaced by another file since it was opened; nothing was written');
  return real;
}

/**
 * Runs `tool` from `input` into `out`'s private folder, and settles what it left there. Throws
 * ToolFailure (the tool failed or its output was refused), Interrupted, or an io-error when the
 * input changed or was replaced while the tool read it. The run's wall time counts against the
 * run's key-derivation budget.
 */
async function runInto(tool: Found, f: ForeignTool, password: string, src: InputFile, input: string, out: ToolOutput, run: RunContext): Promise<{ size: number }> {
  checkInterrupted(run);
  const args = (tool.tool === 'asunprotect' ? unprotectArgs : protectArgs)(out.toolPath, input);
  const result = await runTool({
    tool: tool.path, args, password, output: out.ownPath, fds: out.fds, inputBytes: src.size, signal: f.signal, timing: f.timing,
  });
  run.keys?.charge(result.elapsedMs);
  if (result.outcome === 'aborted') throw new Interrupted();
  checkInterrupted(run);
  if (!result.ok) throw new ToolFailure(tool.tool, result, result.detail, passwordIndependent(result));
  // Bound to what was opened: the file aenv opened, unchanged, and its name still leading to it.
  src.checkUnchanged();
  if (!src.nameStillPointsHere(input)) {
    throw ioError('EREPLACED', `its name was pointed at another file while ${tool.tool} read it; nothing was committed`);
  }
  const s = await out.settle();
  if (!s.ok) throw new ToolFailure(tool.tool, result, `${tool.tool} exited with status 0, but ${s.reason}`, 'its failure does not depend on the password');
  return s;
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Runs the tool with each password in turn, each try into a fresh private folder from `fresh`,
 * until one succeeds: returns that try's output (not yet committed) and which password it was.
 * A try that fails is discarded at once; when all fail, or a failure no other password can
 * change (the tool says the file is not its format; a crash, a stall, a refused output), the
 * last failure is thrown (its detail says how many were tried). Before each try the run's
 * --kdf-budget is checked: once it is used up the file is not tried further (KdfBudgetError:
 * unsupported). Interruptions and io-errors end the tries at once.
 */
async function firstThatOpens(tool: Found, f: ForeignTool, src: InputFile, input: string, fresh: () => ToolOutput, run: RunContext):
  Promise<{ out: ToolOutput; s: { size: number }; line: number | undefined }> {
  const passwords = f.passwords!;
  let last: ToolFailure | null = null;
  let tried = 0;
  for (const [i, pw] of passwords.entries()) {
    try {
      checkToolPassword(pw.text);
    } catch (e) {
      last = new ToolFailure(tool.tool, null, `could not start ${tool.tool}: ${(e as Error).message}`);
      continue;
    }
    try {
      run.keys?.checkBudget();
    } catch (e) {
      if (e instanceof KdfBudgetError && tried > 0) {
        e.message = `${e.message.replace(/: not tried$/, '')}: ${tool.tool} was tried with ${tried} of the ${plural(passwords.length, 'password')}; the last: ${last!.message}`;
      }
      throw e;
    }
    tried++;
    const out = fresh();
    try {
      const s = await runInto(tool, f, pw.text, src, input, out, run);
      return { out, s, line: pw.line };
    } catch (e) {
      out.discard();
      if (!(e instanceof ToolFailure)) throw e;
      last = e;
      const rest = passwords.length - i - 1;
      if (e.final && rest > 0) {
        throw new ToolFailure(e.tool, e.result, `${e.message}; not tried with the other ${plural(rest, 'password')}: ${e.final}`);
      }
    }
  }
  if (passwords.length > 1 && last) {
    throw new ToolFailure(last.tool, last.result, `${tool.tool} failed with each of the ${passwords.length} passwords of the list; the last: ${last.message}`);
  }
  throw last!;
}

/**
 * One file through `tool` into its planned output: the same precheck-free sequence as an AENV
 * file from the output folder on (the caller did the existing-output precheck).
 */
async function throughTool(tool: Found, name: string, src: InputFile, p: Planned, opt: WriteOptions, f: ForeignTool, run: RunContext): Promise<FileResult> {
  const verb = tool.tool === 'asunprotect' ? 'decrypted' : 'encrypted';
  if (isRefused(tool)) return refusedRow(name, p.output, tool);
  let out: ToolOutput | undefined;
  let shared: string | undefined;
  let started = false;
  let bytes = 0;
  let verdict: FileResult['checksum'];
  const withVerdict = (r: FileResult): FileResult => (verdict ? { ...r, checksum: verdict } : r);
  try {
    const dir = outputDir(p, run);
    shared = sharedFolder(dir, run);
    const input = boundInputPath(src);
    started = true;
    const got = await firstThatOpens(tool, f, src, input, () => ToolOutput.create(dir, path.basename(p.output)), run);
    out = got.out;
    const s = got.s;
    run.progress(src.size);
    bytes = tool.tool === 'asunprotect' ? s.size : src.size;
    if (opt.judge && tool.tool === 'asunprotect') {
      verdict = opt.judge((await hashFile(out.ownPath, run, out.identity)).digest);
      if (verdict.kind === 'mismatch') throw checksumRefusal(verdict.detail);
    }
    checkInterrupted(run);
    await out.commit(opt.force, opt.removeSource);
    out = undefined;
    if (opt.removeSource) await removeSource(src);
    const what = tool.tool === 'asunprotect' ? 'opened' : 'sealed';
    return withVerdict({
      path: name, output: p.output, status: 'ok', bytes,
      detail: `${what} by ${tool.tool}${opt.removeSource ? `, ${verb === 'decrypted' ? 'envelope' : 'source'} removed` : ''}`,
      via: VIA[tool.tool],
      ...(got.line !== undefined ? { password: got.line } : {}),
      ...(shared ? { sharedFolder: shared } : {}),
    });
  } catch (e) {
    if (e instanceof ToolFailure) return { ...toolErrorRow(name, p.output, e), ...(shared ? { sharedFolder: shared } : {}) };
    const r = withVerdict(writeFailure(name, p, opt, e, bytes, verb, shared)); // rethrows an interruption
    return started ? { ...r, via: VIA[tool.tool] } : r;
  } finally {
    out?.discard();
  }
}

/** decrypt of a file without the AENV magic (`e`: the decoder's not-envelope verdict). */
export async function decryptForeign(name: string, src: InputFile, p: Planned, opt: WriteOptions, f: ForeignTool, run: RunContext, e: EnvelopeError): Promise<FileResult> {
  if (!f.tool) return { ...failure(name, p.output, e), hint: notFoundHint('asunprotect') };
  return throughTool(f.tool, name, src, p, opt, f, run);
}

/** `encrypt --format ibm` of one file with IBM's asprotect (`f.tool`), into aenv's atomic output. */
export async function protectFile(input: InputPath, p: Planned, opt: WriteOptions, f: ForeignTool & { tool: Found }, run: RunContext): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  const early = precheck(name, p, opt, run);
  if (early) return early;
  let src: InputFile | undefined;
  try {
    src = open(input);
    return await throughTool(f.tool, name, src, p, opt, f, run);
  } catch (e) {
    return failure(name, p.output, e);
  } finally {
    src?.close();
  }
}

/** The folder verify's private folders go in: the system's temporary folder (verify must work on read-only media). */
function privateTemp(run: RunContext): ReturnType<typeof outputDir> {
  const base = tmpdir();
  return outputDir({ base, relDir: '', output: path.join(base, 'verify'), within: null, baseId: null }, run);
}

/**
 * verify of a file without the AENV magic: with a password, the tool opens it into a private
 * folder (0700, reached through a descriptor) that is always removed; `ok` means the tool opened it. Without a password:
 * `unsupported` (only the tool can check it, and it needs the password).
 */
export async function verifyForeign(name: string, src: InputFile, f: ForeignTool, run: RunContext, e: EnvelopeError): Promise<FileResult> {
  if (!f.tool) return { ...failure(name, undefined, e), hint: notFoundHint('asunprotect') };
  if (f.passwords === null) {
    return {
      path: name, status: 'unsupported', bytes: 0,
      detail: 'foreign envelope (no AENV magic): only IBM\'s asunprotect can check it, and it needs the password',
      hint: VERIFY_NO_PASSWORD_HINT,
    };
  }
  if (isRefused(f.tool)) return refusedRow(name, undefined, f.tool);
  let out: ToolOutput | undefined;
  let started = false;
  try {
    const input = boundInputPath(src);
    started = true;
    const dir = privateTemp(run);
    const got = await firstThatOpens(f.tool, f, src, input, () => ToolOutput.create(dir, 'verify'), run);
    out = got.out;
    run.progress(src.size);
    return {
      path: name, status: 'ok', bytes: src.size, detail: 'opened by asunprotect; plaintext discarded', via: VIA.asunprotect,
      ...(got.line !== undefined ? { password: got.line } : {}),
    };
  } catch (err) {
    if (err instanceof ToolFailure) return toolErrorRow(name, undefined, err);
    const r = failure(name, undefined, err); // rethrows an interruption
    return started ? { ...r, via: VIA.asunprotect } : r;
  } finally {
    out?.discard(); // never committed: truncated and removed with its private folder, whatever happened
  }
}
