// Payload layout of AENV/1 (docs/FORMAT.md "Payload", "Trailer", "Decoding a file" steps 7-8,
// "Overhead"): chunk count from the payload length, chunk nonces, the trailer.

import { HEADER_LEN, TAG_LEN, TRAILER_LEN, TRAILER_MAGIC } from './constants.js';
import { EnvelopeError } from './status.js';
import { constantTimeEqual } from './header.js';

export interface Layout {
  /** Number of chunks n (>= 1). */
  chunks: number;
  /** Sealed size B of every chunk but the last. */
  sealedChunk: number;
  /** Sealed size of the last chunk (16..B). */
  lastSealed: number;
  /** Plaintext length. */
  plaintextLen: number;
  payloadLen: number;
}

/** Step 7 for an envelope of known size: the payload length must be a possible one. */
export function layoutForSize(size: number, chunkSize: number): Layout {
  const L = size - HEADER_LEN - TRAILER_LEN;
  const B = chunkSize + TAG_LEN;
  const r = L % B;
  if (L < TAG_LEN || (L > TAG_LEN && r >= 1 && r <= TAG_LEN)) {
    throw new EnvelopeError('corrupt', `impossible payload length ${L} for ${chunkSize}-byte chunks (truncated or extended)`);
  }
  const chunks = Math.ceil(L / B); // L = 16, the empty plaintext's one chunk, gives 1 too
  const lastSealed = L - (chunks - 1) * B;
  return { chunks, sealedChunk: B, lastSealed, plaintextLen: L - chunks * TAG_LEN, payloadLen: L };
}

/** Size of the envelope of a plaintext of `len` bytes. */
export function envelopeSize(len: number, chunkSize: number): number {
  return HEADER_LEN + TAG_LEN * Math.max(1, Math.ceil(len / chunkSize)) + len + TRAILER_LEN;
}

/** Byte offset of chunk i in the envelope. */
export function chunkOffset(i: number, chunkSize: number): number {
  return HEADER_LEN + i * (chunkSize + TAG_LEN);
}

/** nonce_i = i as 11-byte big-endian || last flag. Writes into `out` (12 bytes) when given. */
export function chunkNonce(i: number, last: boolean, out: Uint8Array = new Uint8Array(12)): Uint8Array {
  out.fill(0, 0, 5);
  // i < 2^53: the top 5 of the 11 counter bytes stay 0; write the low 6 bytes big-endian.
  let v = i;
  for (let k = 10; k >= 5; k--) {
    out[k] = v % 256;
    v = Math.floor(v / 256);
  }
  out[11] = last ? 1 : 0;
  return out;
}

/** Step 8: the trailer's magic. Returns its content digest. */
export function parseTrailer(trailer: Uint8Array): Uint8Array {
  if (trailer.length !== TRAILER_LEN || !constantTimeEqual(trailer.subarray(0, 8), TRAILER_MAGIC)) {
    throw new EnvelopeError('corrupt', 'no trailer (the envelope is truncated or its end is damaged)');
  }
  return trailer.slice(8);
}

export function encodeTrailer(digest: Uint8Array): Uint8Array {
  const t = new Uint8Array(TRAILER_LEN);
  t.set(TRAILER_MAGIC, 0);
  t.set(digest, 8);
  return t;
}
