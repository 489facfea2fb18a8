// `decrypt -` in process: an envelope fed to decryptStream in pieces, the plaintext gathered in
// memory, and how it ended (the outcome, or the error it threw), for the tests that judge the
// stream path beside the file path (forgery, forgery-paths, property, vectors).

import { Readable, Writable } from 'node:stream';
import type { RunContext } from '../../src/engine/context.js';
import { decryptStream, type StreamOutcome } from '../../src/engine/stdio.js';

/** `bytes` cut into pieces of `size` bytes (the last one shorter). */
export function pieces(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  return out;
}

export interface Streamed {
  /** Everything written to standard output, in order. */
  out: Buffer;
  outcome: StreamOutcome | null;
  /** What decryptStream threw (an EnvelopeError for a damaged stream), or null. */
  error: (Error & { status?: string; chunk?: number }) | null;
}

export async function decryptPieces(parts: Uint8Array[], run: RunContext): Promise<Streamed> {
  const got: Buffer[] = [];
  // A copy of each write: decryptStream reuses its buffer once the write is done.
  const sink = new Writable({ write(c: Buffer, _e, cb) { got.push(Buffer.from(c)); cb(); } });
  try {
    const outcome = await decryptStream(Readable.from(parts), sink, run);
    return { out: Buffer.concat(got), outcome, error: null };
  } catch (e) {
    return { out: Buffer.concat(got), outcome: null, error: e as Streamed['error'] };
  }
}
