// Turning what happened to one file into its status and a one-line detail: envelope verdicts
// keep theirs, a refused replace is `exists`, anything from the file system is `io-error`.

import { EnvelopeError } from '../format/status.js';
import { ExistsError } from '../fsops/atomic.js';
import { PlanError } from '../fsops/plan.js';
import { Interrupted, type FileResult } from './context.js';

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
  ESHRANK: 'the file changed while being read',
};

export function describeIoError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
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
    };
  }
  if (e instanceof ExistsError) return { ...base, status: 'exists', detail: 'output already exists' };
  if (e instanceof PlanError) return { ...base, status: 'io-error', detail: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { ...base, status: 'io-error', detail: describeIoError(e) };
}
