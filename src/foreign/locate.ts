// Finding IBM's asunprotect / asprotect (issue 11, shared/CLI.md "Foreign envelopes"), in this
// order: the flag (--asunprotect PATH), aenv's variable (AENV_ASUNPROTECT), the PATH entries
// (searched here, not by a shell: absolute entries only, executable regular files only, `.exe`
// on Windows), then IBM's install folders (install-dirs.ts). A flag or variable that names
// something unusable is an error, never a silent fall-through to another copy of the tool.
// The file-system probe is injected so the search order is unit-testable for every platform;
// realProbe() is the default.

import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';
import { TOOL_ENV, TOOL_FLAG, type ToolName } from './ibm-cli.js';
import { envValue, installDirs } from './install-dirs.js';

export type ProbeKind = 'executable' | 'not-executable' | 'directory' | 'missing' | 'other';
export type Probe = (p: string) => ProbeKind;

export type Source = 'flag' | 'env' | 'path' | 'install';

export interface LocateInput {
  tool: ToolName;
  /** Value of --asunprotect / --asprotect, if given. */
  flag?: string | undefined;
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  /** The user's home folder (default: HOME, USERPROFILE on Windows; never a password-database lookup). */
  home?: string;
  /** Folder a relative flag or variable value is taken from (default process.cwd()). */
  cwd?: string;
  probe?: Probe;
}

export interface Found {
  found: true;
  tool: ToolName;
  /** Absolute path of the executable. */
  path: string;
  source: Source;
  /** Where it came from, for people: "--asunprotect", "AENV_ASUNPROTECT", "PATH", or the IBM product. */
  from: string;
  /** Every candidate looked at, in order, this one last. */
  looked: string[];
  /** Set (by the command line, foreign/trust.ts) when another user could change the tool: it is never run. */
  untrusted?: string;
}

export interface NotFound {
  found: false;
  tool: ToolName;
  looked: string[];
  /** Set when the flag or the variable names something unusable (a usage error for the CLI). */
  error?: string;
}

export type Location = Found | NotFound;

const WHY: Record<Exclude<ProbeKind, 'executable'>, string> = {
  'not-executable': 'not executable',
  directory: 'is a folder',
  missing: 'no such file',
  other: 'not a regular file, or not accessible',
};

/** What `p` is, on this machine. Follows symbolic links (a link in PATH to /opt/aspera/bin is usual). */
export function realProbe(platform: NodeJS.Platform = process.platform): Probe {
  return (p) => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'other';
    }
    if (st.isDirectory()) return 'directory';
    if (!st.isFile()) return 'other';
    if (platform === 'win32') return /\.exe$/i.test(p) ? 'executable' : 'not-executable';
    try {
      accessSync(p, constants.X_OK);
      return 'executable';
    } catch {
      return 'not-executable';
    }
  };
}

function exeName(tool: ToolName, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${tool}.exe` : tool;
}

/** PATH entries worth searching: absolute ones only (an empty or relative entry means "the current folder", where a planted file must not be run). */
export function pathEntries(value: string | undefined, platform: NodeJS.Platform): string[] {
  if (!value) return [];
  const api = platform === 'win32' ? path.win32 : path.posix;
  const sep = platform === 'win32' ? ';' : ':';
  const out: string[] = [];
  for (let entry of value.split(sep)) {
    if (platform === 'win32' && entry.length >= 2 && entry.startsWith('"') && entry.endsWith('"')) entry = entry.slice(1, -1);
    if (entry && api.isAbsolute(entry) && !out.includes(entry)) out.push(entry);
  }
  return out;
}

/** Finds `tool`; see the file comment for the order. Never throws. */
export function locateTool(input: LocateInput): Location {
  const { tool } = input;
  const platform = input.platform ?? process.platform;
  const env = input.env ?? process.env;
  // Not os.homedir(): without HOME it asks the password database, which can mean a connect() to
  // nscd's socket; an unset home only leaves out the per-user install folders below.
  const home = input.home ?? envValue(env, platform === 'win32' ? 'USERPROFILE' : 'HOME', platform) ?? '';
  const cwd = input.cwd ?? process.cwd();
  const probe = input.probe ?? realProbe(platform);
  const api = platform === 'win32' ? path.win32 : path.posix;
  const looked: string[] = [];

  // An explicit value: used as it is (made absolute), with ".exe" tried after it on Windows.
  const explicit = (value: string, label: string, source: Source): Location => {
    const abs = api.resolve(cwd, value);
    const tries = platform === 'win32' && !api.extname(abs) ? [abs, `${abs}.exe`] : [abs];
    let kind: ProbeKind = 'missing';
    for (const p of tries) {
      looked.push(p);
      kind = probe(p);
      if (kind === 'executable') return { found: true, tool, path: p, source, from: label, looked };
    }
    return { found: false, tool, looked, error: `${label} ${abs}: ${WHY[kind as Exclude<ProbeKind, 'executable'>]}` };
  };

  if (input.flag !== undefined && input.flag !== '') return explicit(input.flag, TOOL_FLAG[tool], 'flag');
  const envName = TOOL_ENV[tool];
  const fromEnv = envValue(env, envName, platform);
  if (fromEnv) return explicit(fromEnv, envName, 'env');

  const name = exeName(tool, platform);
  for (const dir of pathEntries(envValue(env, 'PATH', platform), platform)) {
    const p = api.join(dir, name);
    looked.push(p);
    if (probe(p) === 'executable') return { found: true, tool, path: p, source: 'path', from: 'PATH', looked };
  }
  for (const d of installDirs(platform, env, home)) {
    if (!api.isAbsolute(d.dir)) continue; // under an unknown home: never relative to the current folder
    const p = api.join(d.dir, name);
    if (looked.includes(p)) continue;
    looked.push(p);
    if (probe(p) === 'executable') return { found: true, tool, path: p, source: 'install', from: `IBM install folder: ${d.product}`, looked };
  }
  return { found: false, tool, looked };
}

/** One line for `aenv --version`, `--help` and `inspect`: which tool aenv would run, or why none. */
export function describeLocation(loc: Location): string {
  if (loc.found) {
    const how = loc.source === 'path' ? 'found on PATH' : loc.source === 'install' ? loc.from : `from ${loc.from}`;
    return `${loc.tool}: ${loc.path} (${how})${loc.untrusted ? `, refused: ${loc.untrusted}` : ''}`;
  }
  if (loc.error) return `${loc.tool}: unusable: ${loc.error}`;
  return `${loc.tool}: not found (looked in PATH and ${loc.looked.length} place${loc.looked.length === 1 ? '' : 's'}; ${TOOL_FLAG[loc.tool]} PATH or ${TOOL_ENV[loc.tool]}=PATH to name it)`;
}
