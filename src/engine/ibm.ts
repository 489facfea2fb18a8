// IBM's envelopes in a run (docs/CLI.md "Foreign envelopes"; docs/IBM-TOOLS.md "Integration
// plan"): a file without the AENV magic is opened by IBM's asunprotect, and `encrypt --format
// ibm` seals with IBM's asprotect, one file per call (foreign/run-tool.ts). aenv keeps its own
// guarantees around the tool: the tool writes into a private folder aenv created in the output's
// folder and hands it as a descriptor (foreign/tool-output.ts: no other user can redirect or read
// the write; aenv's naming, so the stale clean-up and the interrupt guarantees apply); what it
// leaves there is checked (foreign/output-check.ts) and committed by engine/files.ts like any
// output; the input handed over by name is the file aenv opened, and its name must still point
// to it, unchanged, once the tool is done. A tool that another user could change is never run
// (foreign/trust.ts; engine/tools.ts finds it). Any failure of the tool is `tool-error` with its
// exit status and last line in the detail; the private folder and all in it are removed. aenv's
// SIGINT, SIGTERM and SIGHUP abort every running tool. With --password-list the tool is tried
// with each password in turn, each try into a fresh private folder, until one succeeds; a try
// that fails leaves nothing behind; the tries stop early when the tool says the file is not its
// format, or fails in a way no password changes. Every run of the tool counts against
// --kdf-budget (the tool derives keys too). `verify` runs the tool into a private folder in the
// system's temporary folder, which is removed afterwards whatever happened; without a password
// a foreign file is `unsupported`.

import { realpathSync } from 'node:fs';
import { KdfBudgetError } from '../crypto/keys.js';
import type { OutputDir } from '../fsops/dirs.js';
import { ioError } from '../fsops/errors.js';
import type { InputFile } from '../fsops/input.js';
import { checkToolPassword, protectArgs, saysNotItsFormat, unprotectArgs, VIA, type ToolName } from '../foreign/ibm-cli.js';
import type { Found } from '../foreign/locate.js';
import { runTool, type ToolResult, type ToolTiming } from '../foreign/run-tool.js';
import { ToolOutput } from '../foreign/tool-output.js';
import { checkInterrupted, Interrupted, type RunContext } from './context.js';
import { hashFile } from './file-hash.js';
import { failure, type FileResult } from './results.js';
import { ROW_HINTS, toolErrorHint, untrustedHint } from './statuses.js';
import type { Writer, Written } from './writer.js';

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

/**
 * The tool failed, what it left was refused, or it was not run at all (another user could change
 * it): the row is `tool-error`. `final` says why no other password can help (null: another
 * password might).
 */
export class ToolFailure extends Error {
  constructor(readonly tool: ToolName, readonly result: ToolResult | null, detail: string, readonly final: string | null = null,
    private readonly refusedTool: (Found & { untrusted: string }) | null = null) {
    super(detail);
  }

  /** A tool that other users could change (engine/tools.ts found it on PATH or in an install folder): never run. */
  static refused(tool: Found & { untrusted: string }): ToolFailure {
    return new ToolFailure(tool.tool, null, `refusing to run ${tool.path} (found ${tool.source === 'path' ? 'on PATH' : `in ${tool.from}`}): ${tool.untrusted}`, null, tool);
  }

  /** The file's row. */
  row(name: string, output: string | undefined): FileResult {
    const r = this.result;
    return {
      path: name, ...(output !== undefined ? { output } : {}), status: 'tool-error', bytes: 0, detail: this.message,
      hint: this.refusedTool ? untrustedHint(this.tool) : toolErrorHint(this.tool), via: VIA[this.tool],
      tool: this.refusedTool ? { exit: null, signal: null, outcome: 'refused' } : { exit: r?.code ?? null, signal: r?.signal ?? null, outcome: r?.outcome ?? 'spawn-failed' },
    };
  }
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
 * A file through IBM's tool into a new output (asunprotect: decrypt; asprotect: `encrypt --format
 * ibm`): the tool writes into a private folder in the output's folder, what it left is
 * settled there and committed by engine/files.ts as every output is.
 */
export class ToolWriter implements Writer {
  /** The tool was started on the file (a failure's row then says `via`). */
  private started = false;

  constructor(private readonly tool: Found, private readonly f: ForeignTool, private readonly src: InputFile, private readonly run: RunContext) {}

  /** A tool other users could change is never run. */
  async ready(): Promise<void> {
    if (isRefused(this.tool)) throw ToolFailure.refused(this.tool);
  }

  async write(dir: OutputDir, name: string, sha256: boolean): Promise<Written> {
    const { tool, src, run } = this;
    const input = boundInputPath(src);
    this.started = true;
    const got = await firstThatOpens(tool, this.f, src, input, () => ToolOutput.create(dir, name), run);
    try {
      run.progress(src.size);
      const digest = sha256 ? (await hashFile(got.out.ownPath, run, got.out.identity)).digest : undefined;
      return {
        out: got.out, bytes: tool.tool === 'asunprotect' ? got.s.size : src.size, ...(digest ? { sha256: digest } : {}),
        detail: `${tool.tool === 'asunprotect' ? 'opened' : 'sealed'} by ${tool.tool}`,
        fields: { via: VIA[tool.tool], ...(got.line !== undefined ? { password: got.line } : {}) },
      };
    } catch (e) {
      got.out.discard();
      throw e;
    }
  }

  failed(r: FileResult): FileResult {
    return this.started ? { ...r, via: VIA[this.tool.tool] } : r;
  }

  stop(): void {}

  release(): void {}
}

/**
 * verify of a file without the AENV magic: with a password, the tool opens it into a private
 * folder (0700, reached through a descriptor) that is always removed; `ok` means the tool opened it. Without a password:
 * `unsupported` (only the tool can check it, and it needs the password).
 */
export async function verifyByTool(name: string, src: InputFile, tool: Found, f: ForeignTool, privateTemp: () => OutputDir, run: RunContext): Promise<FileResult> {
  if (f.passwords === null) {
    return {
      path: name, status: 'unsupported', bytes: 0,
      detail: 'foreign envelope (no AENV magic): only IBM\'s asunprotect can check it, and it needs the password',
      hint: ROW_HINTS.toolNeedsPassword,
    };
  }
  let out: ToolOutput | undefined;
  let started = false;
  try {
    if (isRefused(tool)) throw ToolFailure.refused(tool);
    const input = boundInputPath(src);
    started = true;
    const dir = privateTemp();
    const got = await firstThatOpens(tool, f, src, input, () => ToolOutput.create(dir, 'verify'), run);
    out = got.out;
    run.progress(src.size);
    return {
      path: name, status: 'ok', bytes: src.size, detail: 'opened by asunprotect; plaintext discarded', via: VIA.asunprotect,
      ...(got.line !== undefined ? { password: got.line } : {}),
    };
  } catch (err) {
    if (err instanceof ToolFailure) return err.row(name, undefined);
    const r = failure(name, undefined, err); // rethrows an interruption
    return started ? { ...r, via: VIA.asunprotect } : r;
  } finally {
    out?.discard(); // never committed: truncated and removed with its private folder, whatever happened
  }
}
