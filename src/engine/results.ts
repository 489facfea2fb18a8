// The row of one file (docs/CLI.md "Results"), and how a failure becomes a status with a
// one-line detail: envelope verdicts keep theirs, a refused replace is `exists`, a spent
// --kdf-budget `unsupported`, anything from the file system `io-error` (the statuses and their
// hints: engine/statuses.ts).

import { KdfBudgetError } from '../crypto/keys.js';
import { EnvelopeError, WrongPassword } from '../format/status.js';
import { ExistsError } from '../fsops/atomic.js';
import { PlanError } from '../fsops/errors.js';
import { TargetError } from '../fsops/target/errors.js';
import { Interrupted } from './context.js';
import { IO_HINTS, ROW_HINTS, type Status } from './statuses.js';

/** The account of one file, as reported in human lines and JSON. */
export interface FileResult {
  path: string;
  output?: string;
  status: Status;
  /** decrypt/encrypt: plaintext bytes written; verify: envelope bytes checked. */
  bytes: number;
  detail: string;
  warning?: string;
  /** A folder written into that other users can write to too (warned about once per run). */
  sharedFolder?: string;
  /** A hint more precise than the status's usual one (human output only). */
  hint?: string;
  chunk?: number;
  offset?: number;
  /** With --password-list: the line of the password that opened the file. */
  password?: number;
  /** The IBM tool that ran on this file (engine/foreign.ts): "asunprotect" or "asprotect". */
  via?: string;
  /** How that tool ended, on a `tool-error` row: exit status, signal, and how the run ended (foreign/run-tool.ts ToolOutcome). */
  tool?: { exit: number | null; signal: string | null; outcome: string };
  /**
   * What was read of an AENV envelope (hex file nonce; content digest as computed, else as the
   * trailer stores it; plaintext size), or written of one by encrypt: for the batch manifest.
   * Never printed as it is.
   */
  envelope?: { nonce: string; digest: string | null; size: number | null };
  /** Against the batch manifest (src/batch/manifest-check.ts): the kind, and a detail unless ok. */
  batch?: { kind: string; detail?: string };
  /** Against a checksum list (src/batch/checksum-check.ts): ok, mismatch, extra or missing. */
  checksum?: { kind: string; detail: string };
  /** --portable-names renamed the output (engine/checks/drives.ts): the planned path, the renamed part below the output base before and after, and why. */
  renamed?: { from: string; fromRel: string; toRel: string; reason: string };
  /** A wrong-password row: its batch (the salt's first 8 bytes, hex), so that people see one line per batch. */
  batchId?: string;
}

const IO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system or limit',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  EIO: 'input/output error (failing medium?)',
  EISDIR: 'is a folder',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
};

/** aenv's own codes (fsops): their messages are the detail as they are. */
const OWN_CODES = new Set(['ESHRANK', 'ECHANGED', 'EREPLACED', 'ENOTREG', 'ETAMPERED']);

export function describeIoError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    if (OWN_CODES.has(err.code)) return err.message;
    const what = IO_TEXT[err.code] ?? err.message.split('\n')[0];
    return `${what} (${err.code}${err.syscall ? ` in ${err.syscall}` : ''})`;
  }
  return err instanceof Error ? err.message.split('\n')[0]! : String(e);
}

/** The result for a failure; rethrows an interruption (it ends the run, not just the file). */
export function failure(path: string, output: string | undefined, e: unknown): FileResult {
  if (e instanceof Interrupted) throw e;
  const base = { path, ...(output !== undefined ? { output } : {}), bytes: 0 };
  if (e instanceof EnvelopeError) {
    return {
      ...base, status: e.status, detail: e.message,
      ...(e.chunk !== undefined ? { chunk: e.chunk, offset: e.offset } : {}),
      ...(e instanceof WrongPassword ? { batchId: e.batchId } : {}),
    };
  }
  if (e instanceof ExistsError) return { ...base, status: 'exists', detail: 'output already exists' };
  if (e instanceof KdfBudgetError) {
    return { ...base, status: 'unsupported', detail: e.message, hint: ROW_HINTS.kdfBudget };
  }
  if (e instanceof TargetError) return { ...base, status: e.status, detail: e.message, hint: e.hint };
  if (e instanceof PlanError) return { ...base, status: 'io-error', detail: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  const code = (e as NodeJS.ErrnoException)?.code;
  const hint = code ? IO_HINTS[code] : undefined;
  return { ...base, status: 'io-error', detail: describeIoError(e), ...(hint ? { hint } : {}) };
}
