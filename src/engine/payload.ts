// The payload of an opened envelope of known size: step 10 (every chunk opened in order, the
// final flag on chunk n-1 only) with the content digest computed alongside (steps 9, 11).

import type { promises as fsp } from 'node:fs';
import type { Hash } from '../crypto/backend.js';
import { HEADER_LEN, SUITE_AES_256_GCM, TAG_LEN, TRAILER_LEN } from '../format/constants.js';
import { chunkOffset } from '../format/layout.js';
import { chunkSize } from '../format/header.js';
import { constantTimeEqual } from '../format/header.js';
import { EnvelopeError } from '../format/status.js';
import { ChunkOpener } from '../stream/chunks.js';
import { borrowHasher, type AsyncHash } from '../crypto/hasher.js';
import { borrowDecryptor, type BlockDecryptor } from '../crypto/decryptor.js';
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

/**
 * Reads payload block b (blocks of `blockBytes` after the header) into slot b mod K once that
 * slot is free; `slotFree` is read at each call, so callers may replace its promises.
 */
function slotReader(fh: fsp.FileHandle, slots: Uint8Array[], slotFree: Promise<void>[], blockBytes: number, total: number) {
  const K = slots.length;
  return (b: number): Promise<Uint8Array> => {
    const p = (async () => {
      await slotFree[b % K];
      return readExactly(fh, slots[b % K]!, Math.min(blockBytes, total - b * blockBytes), HEADER_LEN + b * blockBytes);
    })();
    p.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
    return p;
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
  // Chunks open on the decrypt worker when a read block holds several (chunks of up to 1 MiB):
  // bigger ones would make its output slots cost more memory than the overlap gains.
  // Only when writing: without a sink (verify) there is no I/O to overlap, the main thread
  // opening chunks is as fast.
  if (hasher && sink && blockBytes >= 4 * B) {
    const dec = borrowDecryptor(o.header.suite === SUITE_AES_256_GCM ? 'aes-256-gcm' : 'chacha20-poly1305', o.keys.payloadKey);
    if (dec) return openOffThread(fh, o, ctx, sink, opener, hasher, dec);
  }
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
  const read = slotReader(fh, slots, slotFree, blockBytes, total);
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

/**
 * openPayload for a large payload with both workers: the hash worker digests each read block
 * while the decrypt worker opens its chunks into an output slot, and the main thread only
 * reads ahead and writes. The worker is given block b+1 before block b's result is awaited, so
 * it never idles. Block b's plaintext is written only once every chunk of it verified, after
 * block b-1's write completed (strictly in order, one write outstanding). A failed chunk is
 * reopened on the main thread by `opener`, which throws the usual `corrupt` error.
 */
/** Kept between files on the off-thread path (one file at a time has the decrypt worker). */
let spare: { shared: SharedArrayBuffer; outShared: SharedArrayBuffer } | null = null;

async function openOffThread(fh: fsp.FileHandle, o: Opened, ctx: RunContext, sink: Sink | null,
  opener: ChunkOpener, hasher: AsyncHash, dec: BlockDecryptor): Promise<boolean> {
  const C = chunkSize(o.header);
  const B = o.layout.sealedChunk;
  const blockBytes = Math.max(1, Math.floor(TARGET_BLOCK / B)) * B;
  const chunksPerBlock = blockBytes / B;
  const total = o.layout.payloadLen;
  const last = o.layout.chunks - 1;
  const blocks = Math.ceil(total / blockBytes);
  const size = Math.min(blockBytes, total);
  const outSize = Math.min(chunksPerBlock * C, o.layout.plaintextLen);
  // Read slots are reused once hashed and opened; output slots once written.
  const K = 3;
  const M = 3;
  const release = await reserveMemory(size, K + M); // never throws: it only waits
  const settle = (p: Promise<unknown>): Promise<void> => {
    const q = p.then(() => undefined, () => undefined);
    p.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
    return q;
  };
  // The buffers of the previous such file when the same size: shared memory is freed only once
  // both threads' collectors ran, so fresh buffers per file would pile up in a batch.
  const kept = spare && spare.shared.byteLength === K * size + HEADER_LEN && spare.outShared.byteLength === M * outSize ? spare : null;
  spare = null;
  const shared = kept?.shared ?? new SharedArrayBuffer(K * size + HEADER_LEN);
  const outShared = kept?.outShared ?? new SharedArrayBuffer(M * outSize);
  const slots = Array.from({ length: K }, (_, k) => Buffer.from(shared, k * size, size));
  const outs = Array.from({ length: M }, (_, k) => Buffer.from(outShared, k * outSize, outSize));
  const slotFree: Promise<void>[] = slots.map(() => Promise.resolve());
  const outFree: Promise<void>[] = outs.map(() => Promise.resolve());
  const head = Buffer.from(shared, K * size, HEADER_LEN);
  head.set(o.header.raw);
  const headHashed = hasher.update(head);
  slotFree[0] = settle(headHashed);

  const read = slotReader(fh, slots, slotFree, blockBytes, total);
  /** Block b's plaintext once every chunk of it verified (else throws `corrupt`). */
  const opened = (b: number, block: Uint8Array, out: Uint8Array): Promise<Uint8Array> => {
    const first = b * chunksPerBlock;
    const p = dec.open(block, out, first, B, last).then((bad) => {
      if (bad >= 0) {
        // Same error as the main-thread path: reopen that chunk here (it fails the same way).
        const pos = (bad - first) * B;
        opener.open(bad, block.subarray(pos, Math.min(pos + B, block.length)), bad === last);
        throw new EnvelopeError('corrupt', `chunk ${bad} failed authentication`, { chunk: bad, offset: chunkOffset(bad, C) });
      }
      const chunks = Math.ceil(block.length / B);
      return out.subarray(0, block.length - chunks * TAG_LEN);
    });
    p.catch(() => undefined);
    return p;
  };

  let next: Promise<Uint8Array> | null = blocks > 0 ? read(0) : null;
  let writing: Promise<void> = Promise.resolve();
  let prev: { b: number; pt: Promise<Uint8Array>; len: number } | null = null;
  const writeOut = async (w: { b: number; pt: Promise<Uint8Array>; len: number }): Promise<void> => {
    const pt = await w.pt;
    await writing;
    if (sink) {
      writing = sink([pt]);
      writing.catch(() => undefined);
      outFree[w.b % M] = settle(writing);
    }
    ctx.progress(w.len);
  };
  try {
    for (let b = 0; b < blocks; b++) {
      const block = await next!;
      next = b + 1 < blocks ? read(b + 1) : null;
      checkInterrupted(ctx);
      const h = hasher.update(block);
      h.catch(() => undefined);
      await outFree[b % M];
      const pt = opened(b, block, outs[b % M]!);
      slotFree[b % K] = Promise.all([settle(h), settle(pt)]).then(() => undefined);
      if (prev) await writeOut(prev);
      prev = { b, pt, len: block.length };
    }
    if (prev) await writeOut(prev);
    await writing;
    await headHashed;
    const digest = await hasher.digest();
    return constantTimeEqual(digest, o.digest);
  } finally {
    // Nothing may still touch the file or the buffers once this returns.
    await Promise.allSettled([writing, next ?? Promise.resolve(), ...slotFree, ...outFree]);
    outs.forEach((x) => x.fill(0)); // no plaintext left behind in the kept buffers
    spare = { shared, outShared };
    dec.release();
    hasher.release();
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
