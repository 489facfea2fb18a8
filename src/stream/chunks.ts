// The chunk walk of the AENV/1 payload (docs/FORMAT.md "Payload", "Decoding a file" step 10), the
// one place in aenv that turns a run of chunks into AEAD calls: chunk i is sealed under
// nonce_i = i (11 bytes, big-endian) || 1 if it is the file's last chunk else 0, with empty
// associated data. Pure (no I/O, no threads); the worker threads run these same functions.
//
// Blocks are worked on in place. A block of k whole chunks holds, when sealed, chunk j at
// [j·B, j·B + B) (the last one maybe shorter), B = C + 16; opened, its plaintext moves to
// [j·C, ...), so the plaintexts end up contiguous at the block's start. Sealing goes the other
// way: plaintext chunk j is laid out at j·B (a gap of 16 bytes after each), and its ciphertext
// and tag take its place. Only whole chunks are ever released: on a failed tag, the block
// holds no plaintext at all.

import type { Aead } from '../crypto/backend.js';
import { TAG_LEN } from '../format/constants.js';
import { chunkNonce, chunkOffset } from '../format/layout.js';
import { EnvelopeError } from '../format/status.js';

/** What opening a block gave: its plaintext length, or the first chunk whose tag failed. */
export type Opened = { ok: true; length: number } | { ok: false; chunk: number };

/**
 * Step 10 over `block` (sealed chunks first, first + 1, ...), in place. `final` is the index of
 * the file's last chunk (the one sealed with the last flag), or -1 while it is not known to be
 * in this block (a stream): then no chunk here may be the last one.
 */
export function openBlock(aead: Aead, block: Uint8Array, first: number, final: number, chunkSize: number): Opened {
  const B = chunkSize + TAG_LEN;
  const nonce = new Uint8Array(12);
  let out = 0;
  for (let pos = 0, i = first; pos < block.length; pos += B, i++) {
    const sealed = block.subarray(pos, Math.min(pos + B, block.length));
    const n = sealed.length - TAG_LEN;
    // Stryker disable next-line ConditionalExpression: equivalent (openInto refuses fewer bytes than a tag), see test/mutation-equivalents.md
    if (n < 0 || !aead.openInto(chunkNonce(i, i === final, nonce), sealed, block.subarray(out, out + n))) {
      // Stryker disable next-line MethodExpression: equivalent (openInto zeroes its own output when it fails), see test/mutation-equivalents.md
      block.fill(0, 0, out + Math.max(0, n)); // what was opened before it is released with it, or not at all
      return { ok: false, chunk: i };
    }
    out += n;
  }
  return { ok: true, length: out };
}

/**
 * Seals `length` plaintext bytes laid out chunk by chunk at multiples of B in `block` (chunks
 * first, first + 1, ...; every one C bytes but the last), in place. Returns the sealed length.
 */
export function sealBlock(aead: Aead, block: Uint8Array, first: number, final: number, chunkSize: number, length: number): number {
  const nonce = new Uint8Array(12);
  let pos = 0;
  let i = first;
  for (let left = length; ; i++) {
    const n = Math.min(chunkSize, left);
    aead.sealInto(chunkNonce(i, i === final, nonce), block.subarray(pos, pos + n), block.subarray(pos, pos + n + TAG_LEN));
    pos += n + TAG_LEN;
    left -= n;
    if (left === 0) break; // an empty plaintext is one empty chunk: the loop runs once
  }
  return pos;
}

/** The verdict on a chunk whose tag failed, worded the same on every path. */
export function chunkError(chunk: number, final: number, chunkSize: number): EnvelopeError {
  const offset = chunkOffset(chunk, chunkSize);
  return new EnvelopeError('corrupt',
    `chunk ${chunk} at offset ${offset} failed authentication${chunk === final ? ' (as the last chunk)' : ''}: damaged, tampered, reordered or truncated`,
    { chunk, offset });
}
