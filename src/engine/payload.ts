// The payload of an opened envelope of known size: step 10 (every chunk opened in order, the
// final flag on chunk n-1 only) with the content digest computed alongside (steps 9, 11).

import type { promises as fsp } from 'node:fs';
import type { Hash } from '../crypto/backend.js';
import { HEADER_LEN, TRAILER_LEN } from '../format/constants.js';
import { chunkSize } from '../format/header.js';
import { constantTimeEqual } from '../format/header.js';
import { EnvelopeError } from '../format/status.js';
import { ChunkOpener } from '../stream/chunks.js';
import { readBlocks } from './blocks.js';
import { checkInterrupted, type RunContext } from './context.js';
import type { Opened } from './open.js';

/** Bytes per read: whole chunks, about 4 MiB (at least one chunk). */
export const TARGET_BLOCK = 4 * 1024 * 1024;

export type Sink = (plaintexts: Uint8Array[]) => Promise<void>;

/**
 * Memory for payloads in flight, shared by the files of a run that are opened at once. A file
 * needs about six times its read block (two read buffers, the plaintexts, the cipher's own
 * copies); a header may ask for 16 MiB chunks, so without this budget `--jobs N` hostile files
 * would take N times 100 MiB. Files beyond the budget wait for memory (one always runs).
 */
export const PAYLOAD_BUDGET = 256 * 1024 * 1024;
let inUse = 0;
const waiting: (() => void)[] = [];

export async function reserveMemory(blockBytes: number): Promise<() => void> {
  const n = Math.min(PAYLOAD_BUDGET, 6 * blockBytes);
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

/** Step 10, feeding verified plaintext to `sink`; returns whether the digest matched (step 11). */
export async function openPayload(fh: fsp.FileHandle, o: Opened, ctx: RunContext, sink: Sink | null): Promise<boolean> {
  if (!o.keys) throw new Error('openPayload needs keys');
  const C = chunkSize(o.header);
  const B = o.layout.sealedChunk;
  const opener = new ChunkOpener(ctx.backend, o.header.suite, o.keys.payloadKey, C);
  const hash = ctx.backend.sha256();
  hash.update(o.header.raw);
  const perBlock = Math.max(1, Math.floor(TARGET_BLOCK / B));
  const last = o.layout.chunks - 1;
  let i = 0;
  const release = await reserveMemory(Math.min(perBlock * B, o.layout.payloadLen));
  try {
    for await (const block of readBlocks(fh, HEADER_LEN, o.layout.payloadLen, perBlock * B)) {
      checkInterrupted(ctx);
      const pts: Uint8Array[] = [];
      for (let pos = 0; pos < block.length; pos += B, i++) {
        pts.push(opener.open(i, block.subarray(pos, Math.min(pos + B, block.length)), i === last));
      }
      hash.update(block);
      if (sink) await sink(pts);
      ctx.progress(block.length);
    }
  } finally {
    release();
  }
  return constantTimeEqual(hash.digest(), o.digest);
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
