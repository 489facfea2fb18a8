// Which of IBM's tools a run uses (docs/CLI.md "Foreign envelopes"; docs/IBM-TOOLS.md "Finding
// the tools"): --asunprotect / --asprotect, else AENV_*, PATH, IBM's install folders. A flag or
// variable naming something unusable is a usage error, never a silent fall-through; nor is a
// tool another user could change run (foreign/trust.ts). And what --version, --help and inspect
// say about the tools.

import { TOOL_ENV, TOOL_FLAG, type ToolName } from '../foreign/ibm-cli.js';
import { describeLocation, locateTool, type Found, type Location } from '../foreign/locate.js';
import { programProblem } from '../foreign/trust.js';
import type { ForeignTool } from './ibm.js';
import { UsageError } from './job.js';
import type { Passwords } from './passwords.js';

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

/** Where asunprotect would be found (for inspect); a usage error when the flag or AENV_ASUNPROTECT names something unusable. */
export function unprotectLocation(flag: string | undefined): Location {
  toolFor('asunprotect', flag);
  return locateTool({ tool: 'asunprotect', flag });
}

/** How a run of decrypt or verify uses a tool (`pws` null: passwordless verify); `timeout` in seconds. */
export function foreignSetup(tool: Found | null | (() => Found | null), timeout: number, pws: Passwords | null, signal: AbortSignal): ForeignTool {
  const passwords = pws ? pws.texts.map((text, i) => ({ text, ...(pws.lines ? { line: pws.lines[i]! } : {}) })) : null;
  // A lookup is made when the first file without the AENV magic asks for the tool, once (issue 22: not on every run).
  let found: Found | null | undefined = typeof tool === 'function' ? undefined : tool;
  const lookup = typeof tool === 'function' ? tool : null;
  return {
    get tool(): Found | null {
      if (found === undefined) found = lookup!();
      return found;
    },
    passwords, signal, timing: { stallMs: Math.round(timeout * 1000) },
  };
}

/** asunprotect from PATH and IBM's install folders, for a run that names none (a lookup that fails finds none). */
export function defaultUnprotect(): Found | null {
  try {
    return toolFor('asunprotect', undefined);
  } catch {
    return null;
  }
}

/** asprotect for `encrypt --format ibm`: a usage error when it is not found. */
export function protectTool(flag: string | undefined): Found {
  const t = toolFor('asprotect', flag);
  if (!t) {
    throw new UsageError('--format ibm needs IBM\'s asprotect, which was not found (looked in PATH and IBM\'s install folders)',
      `it ships with IBM Aspera HST Server, HST Endpoint and Desktop Client: point aenv at it with ${TOOL_FLAG.asprotect} PATH or ${TOOL_ENV.asprotect}=PATH`);
  }
  return t;
}

/** Which IBM tools aenv would run, one line each, and whether each can be used (for `aenv doctor`). */
export function toolReport(): { line: string; found: boolean }[] {
  return (['asunprotect', 'asprotect'] as const).map((t) => {
    const loc = trusted(locateTool({ tool: t }));
    return { line: describeLocation(loc), found: loc.found };
  });
}

/** inspect's line about asunprotect, without the tool's name in front. */
export function toolText(loc: Location): string {
  return describeLocation(trusted(loc)).replace(/^[a-z]+: /, '');
}

export type { Found, Location };
