// The payload of an opened envelope of known size: step 10 (every chunk opened in order, the
// final flag on chunk n-1 only) with the content digest computed alongside (steps 9, 11).

import type { promises as fsp } from 'node:fs';
import type { Hash } from '../crypto/backend.js';
import { HEADER_LEN, TRAILER_LEN } from '../format/constants.js';
import { chunkSize } from '../format/header.js';
import { constantTimeEqual } from '../format/header.js';
import { EnvelopeError } from '../format/status.js';
import { ChunkOpener } from '../stream/chunks.js';
import { borrowHasher } from '../crypto/hasher.js';
import { readBlocks, readExactly } from './blocks.js';
import { checkInterrupted, type RunContext } from './context.js';
import type { Opened } from './open.js';

/** Bytes per read: whole chunks, about 4 MiB (at least one chunk). */
export const TARGET_BLOCK = 4 * 1024 * 1024;

export type Sink = (plaintexts: Uint8Array[]) => Promise<void>;

/**
 * Memory for payloads in flight, shared by the files of a run that are opened at once. A file
 * needs about four times its read block (the plaintexts, the cipher's own copies) besides its
 * read buffers (two, or three when the hash worker reads them); a header may ask for 16 MiB chunks, so without this budget `--jobs N` hostile files
 * would take N times 100 MiB. Files beyond the budget wait for memory (one always runs).
 */
export const PAYLOAD_BUDGET = 256 * 1024 * 1024;
let inUse = 0;
const waiting: (() => void)[] = [];

export async function reserveMemory(blockBytes: number, readBuffers = 2): Promise<() => void> {
  const n = Math.min(PAYLOAD_BUDGET, (readBuffers + 4) * blockBytes);
  while (inUse > 0 && inUse + n > PAYLOAD_BUDGET) await new Promise<void>((r) => waiting.push(r));
  inUse += n;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inUse -= n;
    for (const w of waiting.splice(0)) w();
  };
}

/** Payloads at least this long hash on the worker thread (below, starting it costs more). */
export const OFF_THREAD_MIN = 8 * 1024 * 1024;

/**
 * Step 10, feeding verified plaintext to `sink`; returns whether the digest matched (step 11).
 * Three things overlap: the next block is read while this one is decrypted, the content digest
 * of large payloads is computed on the hash worker (the other core), and a block's plaintext is
 * written while the next block is decrypted. Plaintext is handed to `sink` only after its
 * chunk's tag verified, and blocks are written strictly in order.
 */
export async function openPayload(fh: fsp.FileHandle, o: Opened, ctx: RunContext, sink: Sink | null): Promise<boolean> {
  if (!o.keys) throw new Error('openPayload needs keys');
  const C = chunkSize(o.header);
  const B = o.layout.sealedChunk;
  const opener = new ChunkOpener(ctx.backend, o.header.suite, o.keys.payloadKey, C);
  const blockBytes = Math.max(1, Math.floor(TARGET_BLOCK / B)) * B;
  const total = o.layout.payloadLen;
  const last = o.layout.chunks - 1;
  const hasher = ctx.backend.name === 'node' && total >= OFF_THREAD_MIN ? borrowHasher() : null;
  // Read slots: three in shared memory when the worker hashes them (a slot is reused only once
  // hashed), else two ordinary buffers.
  const K = hasher ? 3 : 2;
  const size = Math.min(blockBytes, total);
  const release = await reserveMemory(size, K); // never throws: it only waits
  const shared = hasher ? new SharedArrayBuffer(K * size + HEADER_LEN) : null;
  const slots = Array.from({ length: K }, (_, k) => (shared ? Buffer.from(shared, k * size, size) : Buffer.allocUnsafe(size)));
  const slotFree: Promise<void>[] = slots.map(() => Promise.resolve());
  const inline = hasher ? null : ctx.backend.sha256();
  const hashed = (p: Promise<void>): Promise<void> => {
    p.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
    return p;
  };
  if (hasher) {
    const head = Buffer.from(shared!, K * size, HEADER_LEN);
    head.set(o.header.raw);
    slotFree[0] = hashed(hasher.update(head));
  } else {
    inline!.update(o.header.raw);
  }

  const blocks = Math.ceil(total / blockBytes);
  const read = (b: number): Promise<Uint8Array> => {
    const p = (async () => {
      await slotFree[b % K];
      return readExactly(fh, slots[b % K]!, Math.min(blockBytes, total - b * blockBytes), HEADER_LEN + b * blockBytes);
    })();
    p.catch(() => undefined);
    return p;
  };
  let next: Promise<Uint8Array> | null = blocks > 0 ? read(0) : null;
  let writing: Promise<void> = Promise.resolve();
  let i = 0;
  try {
    for (let b = 0; b < blocks; b++) {
      const block = await next!;
      next = b + 1 < blocks ? read(b + 1) : null;
      checkInterrupted(ctx);
      if (hasher) slotFree[b % K] = hashed(hasher.update(block));
      else inline!.update(block);
      const pts: Uint8Array[] = [];
      for (let pos = 0; pos < block.length; pos += B, i++) {
        pts.push(opener.open(i, block.subarray(pos, Math.min(pos + B, block.length)), i === last));
      }
      await writing;
      if (sink) {
        writing = sink(pts);
        writing.catch(() => undefined);
      }
      ctx.progress(block.length);
    }
    await writing;
    const digest = hasher ? await hasher.digest() : inline!.digest();
    return constantTimeEqual(digest, o.digest);
  } finally {
    // Nothing may still touch the file or the buffers once this returns.
    await Promise.allSettled([writing, next ?? Promise.resolve(), ...slotFree]);
    hasher?.release();
    release();
  }
}

/** Step 9: SHA-256 of everything before the trailer against the trailer's digest. */
export async function checkDigest(fh: fsp.FileHandle, o: Opened, ctx: RunContext): Promise<void> {
  const hash: Hash = ctx.backend.sha256();
  for await (const block of readBlocks(fh, 0, o.size - TRAILER_LEN, TARGET_BLOCK)) {
    checkInterrupted(ctx);
    hash.update(block);
    ctx.progress(block.length);
  }
  if (!constantTimeEqual(hash.digest(), o.digest)) {
    throw new EnvelopeError('corrupt', 'content digest mismatch: the envelope was damaged in transit or storage');
  }
}
