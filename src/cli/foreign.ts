// The command line's side of foreign envelopes (issue 11; shared/CLI.md "Foreign envelopes"):
// which IBM tool a run uses (--asunprotect / --asprotect, else AENV_*, PATH, IBM's install
// folders; a flag or variable naming something unusable is a usage error, never a silent
// fall-through; nor a tool another user could change, foreign/trust.ts), the no-progress window (--tool-timeout), the usage rules of
// `encrypt --format ibm`, and the lines `--version`, `--help` and `inspect` print about the tools.

import type { ForeignTool } from '../engine/foreign.js';
import { TOOL_ENV, TOOL_FLAG, type ToolName } from '../foreign/ibm-cli.js';
import { describeLocation, locateTool, type Found, type Location } from '../foreign/locate.js';
import { programProblem } from '../foreign/trust.js';
import { UsageError } from './errors.js';
import type { Passwords } from './password.js';

/** Longest --tool-timeout accepted: a day. */
const MAX_TIMEOUT_S = 86_400;

export interface ToolArgs {
  asunprotect?: string | undefined;
  asprotect?: string | undefined;
  toolTimeout?: number | undefined;
}

/**
 * The tool a run uses, or null when none was found; a usage error when the flag or AENV_* names
 * something unusable, or a tool another user could change (foreign/trust.ts). Such a tool found
 * on PATH or in an install folder is returned marked `untrusted`: each file that needs it fails
 * (tool-error, outcome "refused"), and the rest of the run goes on.
 */
export function toolFor(tool: ToolName, flag: string | undefined): Found | null {
  const loc = trusted(locateTool({ tool, flag }));
  if (loc.found && loc.untrusted && (loc.source === 'flag' || loc.source === 'env')) {
    throw new UsageError(`refusing to run IBM's ${tool} ${loc.path} (from ${loc.from}): ${loc.untrusted}`,
      `aenv hands the tool the password, so nobody but root and you may be able to change it or a folder above it: fix the modes or owners (e.g. chmod go-w), or name a copy that is safe`);
  }
  if (loc.found) return loc;
  if (loc.error) {
    throw new UsageError(`cannot use IBM's ${tool}: ${loc.error}`,
      `give the path of the ${tool} executable with ${TOOL_FLAG[tool]} PATH (or ${TOOL_ENV[tool]}=PATH), or leave both unset to look in PATH and IBM's install folders`);
  }
  return null;
}

/** A found tool marked `untrusted` when another user could change it. */
function trusted(loc: Location): Location {
  if (!loc.found) return loc;
  const why = programProblem(loc.path);
  return why ? { ...loc, untrusted: why } : loc;
}

/** --tool-timeout SECONDS as the no-progress window of foreign/run-tool.ts. */
export function toolTimeoutMs(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_S) {
    throw new UsageError(`--tool-timeout takes a number of seconds above 0, at most ${MAX_TIMEOUT_S}`, 'e.g. --tool-timeout 120 (default 60)');
  }
  return Math.round(seconds * 1000);
}

/** How a run of decrypt or verify uses asunprotect (`pws` null: passwordless verify). */
export function foreignSetup(a: ToolArgs, tool: Found | null, pws: Passwords | null, signal: AbortSignal): ForeignTool {
  const stallMs = toolTimeoutMs(a.toolTimeout);
  const passwords = pws ? pws.texts.map((text, i) => ({ text, ...(pws.lines ? { line: pws.lines[i]! } : {}) })) : null;
  return { tool, passwords, signal, timing: stallMs === undefined ? {} : { stallMs } };
}

/** asprotect for `encrypt --format ibm`: a usage error when it is not found. */
export function protectTool(a: ToolArgs): Found {
  const t = toolFor('asprotect', a.asprotect);
  if (!t) {
    throw new UsageError('--format ibm needs IBM\'s asprotect, which was not found (looked in PATH and IBM\'s install folders)',
      `it ships with IBM Aspera HST Server, HST Endpoint and Desktop Client: point aenv at it with ${TOOL_FLAG.asprotect} PATH or ${TOOL_ENV.asprotect}=PATH`);
  }
  return t;
}

/**
 * The usage rules of `encrypt --format`: with `ibm`, IBM's tool takes files and chooses its own
 * parameters, so --suite, --kdf, --chunk-size and `-` are refused; --asprotect only with `ibm`.
 */
export function checkFormatArgs(a: { format?: unknown; paths: string[]; [k: string]: unknown }): void {
  if (a.format !== 'ibm') {
    if (a['asprotect'] !== undefined) throw new UsageError('--asprotect is used only with --format ibm', 'add --format ibm to seal with IBM\'s asprotect');
    return;
  }
  for (const flag of ['suite', 'kdf', 'chunk-size']) {
    if (a[flag] !== undefined) {
      throw new UsageError(`--${flag} cannot be used with --format ibm`, 'IBM\'s asprotect chooses its own parameters; drop the flag, or use --format aenv');
    }
  }
  if (a.paths.includes('-')) {
    throw new UsageError('--format ibm cannot seal standard input', 'IBM\'s asprotect reads files: save the data to a file first, or use --format aenv for a stream');
  }
}

/** Which IBM tools aenv would run, one line each (for --version and --help). */
export function toolLines(): string {
  return (['asunprotect', 'asprotect'] as const).map((t) => describeLocation(trusted(locateTool({ tool: t })))).join('\n');
}

/** inspect's line about asunprotect, without the tool's name in front. */
export function toolText(loc: Location): string {
  return describeLocation(trusted(loc)).replace(/^[a-z]+: /, '');
}
