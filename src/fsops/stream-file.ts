// Standard input that is a regular file still being written (a copy or a download under way):
// `decrypt - < FILE` reads up to where the writer is, meets the end of the file there and finds
// no trailer, which reads as a truncated envelope although the file will be whole in a moment
// (issue 22: "no trailer" once, for a 2 GiB envelope that opened on every retry). So a stream
// that is a regular file is noted before its first read, and when it ends early, a file that
// grew or was modified since is reported as such (ECHANGED, as for files read whole), not as
// damaged.

import * as fs from 'node:fs';
import { ioError } from './errors.js';

export interface StreamFile {
  fd: number;
  size: number;
  mtimeMs: number;
}

/** The regular file behind `input` (a stream with an `fd`, as process.stdin has), noted now; null for pipes, terminals and streams in memory. */
export function noteStreamFile(input: unknown): StreamFile | null {
  const fd = (input as { fd?: unknown } | null)?.fd;
  if (typeof fd !== 'number') return null;
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() ? { fd, size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** Why the stream ended early: `e`, or ECHANGED when the file noted in `f` changed since. */
export function endedEarly(f: StreamFile | null, e: unknown): unknown {
  if (!f) return e;
  let now: fs.Stats;
  try {
    now = fs.fstatSync(f.fd);
  } catch {
    return e;
  }
  if (now.size === f.size && now.mtimeMs === f.mtimeMs) return e;
  return ioError('ECHANGED', `changed while being read (size ${f.size} -> ${now.size}${now.size === f.size ? ', modified' : ''}): `
    + 'the file is still being written (a copy or download under way?), so its end was not there yet; the output so far is a verified prefix only');
}
