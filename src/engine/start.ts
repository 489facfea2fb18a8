// The first bytes of an input, read once (docs/FORMAT.md "Decoding a file", steps 1-5): every
// byte of a small file (at most INLINE_MAX, in a buffer of the run's), else the first HEADER_LEN
// bytes. They tell what the file is, the AENV magic or not (engine/files.ts chooses how it is
// opened by them), and hold an envelope's header (engine/aenv.ts envelopeOf reads it). The
// caller that read them gives them back (giveStart) once the file is done.

import { HEADER_LEN } from '../format/constants.js';
import type { InputFile } from '../fsops/input.js';
import type { RunContext } from './context.js';
import { INLINE_MAX } from './pipeline.js';

export interface Start {
  src: InputFile;
  size: number;
  bytes: Uint8Array;
  /** `bytes` is every byte of the file. */
  whole: boolean;
}

export async function readStart(src: InputFile, run: RunContext): Promise<Start> {
  const size = src.size;
  if (size <= INLINE_MAX) return { src, size, bytes: src.readExactlySync(new Uint8Array(run.buffers.take(size), 0, size), 0), whole: true };
  return { src, size, bytes: await src.readExactly(new Uint8Array(HEADER_LEN), 0), whole: false };
}

/** A start's buffer back to the run (a small file's, read whole), once nothing uses it any more (its writer released). */
export function giveStart(s: Start, run: RunContext): void {
  if (s.whole) run.buffers.give(s.bytes.buffer as ArrayBuffer);
}
