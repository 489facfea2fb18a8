// What a file ends with, what it means for the run's exit status, and what the user does about
// it (docs/CLI.md "Results" and "Exit status"): one table. A hint is one short sentence that
// says what to do, printed under a failed row (`hint:`), as age prints its hints. The decoder's
// verdicts (format/status.ts) are the first five statuses; the run adds the rest.

import type { EnvelopeStatus } from '../format/status.js';
import { TOOL_ENV, TOOL_FLAG, type ToolName } from '../foreign/ibm-cli.js';
import { sharedReach } from '../fsops/target/shared.js';
import type { TargetStatus } from '../fsops/target/errors.js';
import { showPath } from './show.js';

/** bad-name, name-conflict, too-large (TargetStatus): the output drive's rules (engine/checks/drives.ts, docs/removable-drives.md). */
export type Status = EnvelopeStatus | 'exists' | 'skipped' | 'io-error' | 'tool-error' | 'missing' | 'batch-mismatch' | TargetStatus;

/** Each status: the exit status a run with such a row gets (at least), and its hint. */
const TABLE: Record<Status, { exit: 0 | 1; hint: string }> = {
  ok: { exit: 0, hint: '' },
  'not-envelope': { exit: 1, hint: 'if it is plaintext or another tool\'s envelope, open it as it is or with that tool' },
  unsupported: { exit: 1, hint: 'use a newer aenv (the file is untouched)' },
  corrupt: { exit: 1, hint: 'the envelope is damaged, truncated or tampered with: fetch it again' },
  'wrong-password': { exit: 1, hint: 'try another password (or the header was forged)' },
  exists: { exit: 1, hint: 'use --skip-existing to leave it or --force to replace it' },
  skipped: { exit: 0, hint: '' },
  'io-error': { exit: 1, hint: 'check free space, permissions and the medium, then run again' },
  'tool-error': { exit: 1, hint: 'run IBM\'s tool by hand on a copy of the file to see its full output (what it wrote was removed)' },
  missing: { exit: 1, hint: 'fetch it again: it was deleted, renamed or lost in transfer' },
  'batch-mismatch': { exit: 1, hint: 'the batch manifest does not seal this envelope here: fetch the batch again, or, if you trust this file, decrypt it by itself (aenv decrypt FILE -o DIR)' },
  'bad-name': { exit: 1, hint: 'rename the envelope, or pass --portable-names to write it under a look-alike name the drive can hold (see docs/removable-drives.md)' },
  'name-conflict': { exit: 1, hint: 'the output drive holds these names as one (case, accents): rename one, decrypt them into separate folders, or pass --portable-names' },
  'too-large': { exit: 1, hint: 'the output drive\'s file system cannot hold a file this large (FAT32: 4 GiB - 1 byte): write it onto exFAT, NTFS or another disk' },
};

/** Every status, in the order summaries list them. */
export const STATUSES: readonly Status[] = [
  'ok', 'not-envelope', 'unsupported', 'corrupt', 'wrong-password', 'exists', 'skipped', 'io-error', 'tool-error', 'missing', 'batch-mismatch',
  'bad-name', 'name-conflict', 'too-large',
];

/** Every status but ok and skipped is a failure (exit status 1). */
export function isFailure(s: Status): boolean {
  return TABLE[s].exit !== 0;
}

/** The hint of each status ('' for ok and skipped). */
export const HINTS: Readonly<Record<Status, string>> = {
  ok: TABLE.ok.hint, 'not-envelope': TABLE['not-envelope'].hint, unsupported: TABLE.unsupported.hint, corrupt: TABLE.corrupt.hint,
  'wrong-password': TABLE['wrong-password'].hint, exists: TABLE.exists.hint, skipped: TABLE.skipped.hint,
  'io-error': TABLE['io-error'].hint, 'tool-error': TABLE['tool-error'].hint, missing: TABLE.missing.hint,
  'batch-mismatch': TABLE['batch-mismatch'].hint,
  'bad-name': TABLE['bad-name'].hint, 'name-conflict': TABLE['name-conflict'].hint, 'too-large': TABLE['too-large'].hint,
};

/** The exit status of a whole run. */
export const EXIT = {
  /** Every file ok or skipped (and the batch matches). */
  ok: 0,
  /** A file failed, or the batch does not match its manifest or checksum list. */
  failed: 1,
  /** Usage error: bad flags, no inputs, no password where one is needed. */
  usage: 2,
  /** Interrupted by SIGINT (by SIGTERM and SIGHUP: INTERRUPTS). */
  interrupted: 130,
} as const;

/** The signals that interrupt a run, and the exit status each one ends it with (128 + its number). */
export const INTERRUPTS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Hints more precise than the status's own, for some rows. */
export const ROW_HINTS = {
  /** A file whose key needs a derivation after the run's --kdf-budget was spent. */
  kdfBudget: 'raise --kdf-budget if these envelopes are expected (one derivation per password and batch), else check where they come from',
  /** A PATH or folder the walk cannot read. */
  walk: 'check that the PATH exists and is readable (permissions, a mount that went away)',
  /** A file without the AENV magic when IBM's asunprotect was not found. */
  noTool: notFoundHint('asunprotect'),
  /** decrypt --checksums: an authentic plaintext whose SHA-256 is not the list's. */
  checksumList: 'the envelope is intact and authentic: check that the checksum list is of these files (this version, names relative to the output tree)',
  /** verify without a password of a file without the AENV magic. */
  toolNeedsPassword: 'only IBM\'s asunprotect can check it, and it needs the password: give --password-file FILE or ASPERA_SCP_FILEPASS',
} as const;

/** Hints of the batch's own lines (the manifest checks), said under their error. */
export const BATCH_HINTS = {
  /** --manifest, and a folder without one. */
  noManifest: 'the batch cannot be checked without it; if the tree never had one, run without --manifest (each envelope is still checked on its own)',
  /** A manifest that cannot be opened (not damaged: an I/O error or another password). */
  manifestUnusable: 'the envelopes are still checked one by one; fetch the manifest again, or check that this is the batch\'s password',
  /** encrypt --manifest when a file was not sealed. */
  manifestNotWritten: 'fix what failed and seal the batch again into an empty -o folder (or with --force)',
} as const;

/** The hint of a file without the AENV magic when IBM's `tool` was not found. */
export function notFoundHint(tool: ToolName): string {
  return `if it is plaintext or another tool's envelope, open it so; if IBM sealed it, point aenv at IBM's ${tool} with ${TOOL_FLAG[tool]} PATH or ${TOOL_ENV[tool]}=PATH`;
}

/** The hint of a `tool-error` row. */
export function toolErrorHint(tool: ToolName): string {
  return `IBM's ${tool} failed on this file: ${tool === 'asunprotect' ? 'a wrong password is the usual cause, else ' : ''}run it by hand on a copy to see why (what it wrote was removed)`;
}

/** The hint of a tool that other users could change (foreign/trust.ts), found on PATH or in an install folder. */
export function untrustedHint(tool: ToolName): string {
  return `let nobody but root and you change IBM's ${tool} or a folder above it (e.g. chmod go-w), or name a safe copy with ${TOOL_FLAG[tool]} PATH: aenv hands it the password`;
}

/** Hints of io-errors with aenv's own codes (fsops). */
export const IO_HINTS: Readonly<Record<string, string>> = {
  ETAMPERED: 'check who can write to the output folder (see docs/shared-folders.md), then run again',
  EREPLACED: 'check who can write to its folder, then run again',
  ECHANGED: 'run again once the file is complete',
  ENOTREG: 'give regular files only',
};

/** `decrypt -`: the hints of a stream's failures (IBM's tool and a truncated stream are different there). */
export const STREAM_HINTS: Readonly<Partial<Record<Status, string>>> = {
  'not-envelope': `${TABLE['not-envelope'].hint}; IBM's asunprotect reads files, not streams: save the stream to a file and decrypt that`,
  corrupt: `${TABLE.corrupt.hint}; the output so far is a verified prefix only`,
};

/**
 * The warning of a row whose output folder other users can write to (said once per folder and
 * run), by why they can (fsops/target/shared.ts): the folder's mode, or a drive that keeps no
 * permissions; null when no other user can reach it (a FUSE mount without allow_other) or nothing
 * true can be said (Windows, whose ACLs Node cannot read).
 */
export function sharedFolderWarning(folder: string, platform: string = process.platform): string | null {
  const why = sharedReach(folder, platform);
  if (why.kind === 'none') return null;
  if (why.kind === 'permissionless') {
    const t = why.target;
    return `${showPath(folder)} is on ${t.label}, which keeps no owners or permissions here: the mount shows every file and folder as writable by everyone (mode 0777)`
      + ` and lets every local user read and change what aenv writes there; aenv checks every commit, but to keep other users out mount it with uid=, gid= and umask=077${t.kind === 'ntfs' && t.label.includes('ntfs-3g') ? ' (or a user mapping)' : ''}, or without allow_other`;
  }
  return `other users can write to ${showPath(folder)} (without the sticky bit, or as its owner): they can rename or replace files there while aenv works; aenv checks every commit, but see docs/shared-folders.md`;
}
