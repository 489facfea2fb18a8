// The payload of one envelope, from the disk to the output (docs/FORMAT.md "Decoding a file",
// steps 7-12, and sealing in reverse). Read this file top to bottom to follow a block:
//
//   1. the header was judged (steps 1-5) on the input's first bytes (engine/start.ts: a small
//      file is read whole, at once, synchronously);
//   2. the content digest starts at once, reading on its own while the KDF runs, then takes
//      its bytes from the payload's blocks (the file is read once);
//   3. blocks of whole sealed chunks (about 1 MiB) are read ahead, each into its own buffer;
//   4. each block is opened in place by the chunk walk (stream/chunks.ts), on the calling
//      thread or on a worker thread, as the backend's `threads` capability allows;
//   5. opened blocks come back in file order and are written, one write in flight, the
//      consumer pulling (`for await`), so nothing runs ahead of what memory allows;
//   6. a block's plaintext reaches the output only after every chunk of it verified, and the
//      output is committed by the caller only after the last one did.
//
// Encryption runs the same stages the other way: plaintext blocks laid out for sealing in
// place, sealed (possibly on workers), hashed in order for the trailer, and written.

import type { Hash } from '../crypto/backend.js';
import { HEADER_LEN, TAG_LEN, TRAILER_LEN, type SuiteId } from '../format/constants.js';
import { chunkSize, type Header } from '../format/header.js';
import { encodeTrailer, type Layout } from '../format/layout.js';
import type { AtomicOutput } from '../fsops/atomic.js';
import type { InputFile } from '../fsops/input.js';
import { chunkError, openBlock, sealBlock } from '../stream/chunks.js';
import type { SealedBlock } from '../stream/decoder.js';
import { checkInterrupted, type RunContext } from './context.js';

/** Sealed bytes per block: whole chunks, about 1 MiB (one chunk when chunks are larger). */
const BLOCK_TARGET = 1 << 20;
/** A file at most this big is read, opened and written in one piece, on the calling thread. */
export const INLINE_MAX = 1 << 20;
/** Bytes per read of the content-digest cursor. */
const HASH_BLOCK = 1 << 20;

export function blockBytes(sealedChunk: number): number {
  return Math.max(1, Math.floor(BLOCK_TARGET / sealedChunk)) * sealedChunk;
}

// ---------------------------------------------------------------- 1. the header

/** An input whose header passed steps 1-5 (engine/aenv.ts envelopeOf); `whole` holds every byte of a small file. */
export interface Envelope {
  src: InputFile;
  size: number;
  header: Header;
  whole: Uint8Array | null;
}

/** Step 8's input: the last 40 bytes. */
export async function readTrailer(env: Envelope): Promise<Uint8Array> {
  return env.whole ? env.whole.subarray(env.size - TRAILER_LEN) : env.src.readExactly(new Uint8Array(TRAILER_LEN), env.size - TRAILER_LEN);
}

// ---------------------------------------------------------------- 2. the content digest

/**
 * Whether decrypt computes the content digest too (docs/FORMAT.md "Decoding a file", step 11:
 * it may; every chunk is authenticated anyway, so a mismatch is only a warning). It is free for
 * a file read whole, and for a large one when a core is left over once the main thread and the
 * workers have theirs; else it would take the main thread's time from reading and writing
 * (measured: 0.65 s of CPU per GiB, the largest single cost of a decrypt on two cores).
 * `always`: --check-digest.
 */
export function decryptDigest(env: Envelope, run: RunContext): boolean {
  if (env.whole || run.checkDigest === 'always') return true;
  const workers = run.pool?.usable ? run.pool.size : 0;
  return run.cores >= workers + 2;
}

/**
 * SHA-256 of [0, size - 40), in order, on the calling thread. It starts at once and reads the
 * file on its own while the key is derived; once the payload's blocks are read (step 3), it
 * hashes those instead, so the file is read once: a block is offered to it before it is opened
 * in place. A small file is hashed at once from memory.
 */
export class DigestCursor {
  private readonly hash: Hash;
  private readonly end: number;
  private position = 0;
  private fed = false; // the payload's blocks feed it now; its own reading has stopped
  private stopped = false;
  private done!: (digest: Uint8Array) => void;
  private failed!: (e: unknown) => void;
  /** Resolves with the digest once every byte before the trailer was hashed. */
  readonly result = new Promise<Uint8Array>((resolve, reject) => {
    this.done = resolve;
    this.failed = reject;
  });

  constructor(private readonly env: Envelope, run: RunContext) {
    this.hash = run.backend.sha256();
    this.end = env.size - TRAILER_LEN;
    this.result.catch(() => undefined); // awaited later, or abandoned with the file
    if (env.whole) this.feed(0, env.whole.subarray(0, this.end));
    else this.readAhead().catch((e: unknown) => this.failed(e));
  }

  /** Bytes at file offset `pos`, in file order; what was hashed already is skipped. */
  feed(pos: number, bytes: Uint8Array): void {
    this.fed = true;
    if (pos > this.position) this.take(this.env.header.raw.subarray(this.position, pos)); // only the header can lie between
    const from = Math.max(0, this.position - pos);
    if (from < bytes.length) this.take(bytes.subarray(from, Math.min(bytes.length, this.end - pos)));
  }

  /**
   * The file failed otherwise: read no further (result then never resolves; nothing waits on
   * it). A read already under way is waited for by the file's own settled().
   */
  stop(): void {
    this.stopped = true;
  }

  private take(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.position += bytes.length;
    if (this.position === this.end) this.done(this.hash.digest());
  }

  private async readAhead(): Promise<void> {
    const bufs = [new Uint8Array(HASH_BLOCK), new Uint8Array(HASH_BLOCK)];
    const read = (pos: number, k: number): Promise<Uint8Array> =>
      this.env.src.readExactly(bufs[k]!.subarray(0, Math.min(HASH_BLOCK, this.end - pos)), pos);
    if (this.end === 0) return this.take(new Uint8Array(0));
    let next: Promise<Uint8Array> | null = read(0, 0);
    for (let k = 0; next;) {
      const data: Uint8Array = await next;
      if (this.fed || this.stopped) return; // the payload's blocks took over, or the file failed
      const pos = this.position;
      next = pos + data.length < this.end ? read(pos + data.length, (k ^= 1)) : null;
      this.take(data);
    }
  }
}

// ---------------------------------------------------------------- 3. blocks from the disk

/** A block and whether its buffer came from the run's pool (then it can travel to a worker as it is). */
interface Block extends SealedBlock {
  owned: boolean;
}

/** The payload of an envelope of known size as blocks of whole sealed chunks, one read ahead. */
async function* sealedBlocks(env: Envelope, layout: Layout, run: RunContext): AsyncGenerator<Block> {
  const final = layout.chunks - 1;
  if (env.whole) {
    yield { bytes: env.whole.subarray(HEADER_LEN, HEADER_LEN + layout.payloadLen), first: 0, final, owned: false };
    return;
  }
  const size = blockBytes(layout.sealedChunk);
  const perBlock = size / layout.sealedChunk;
  const read = (b: number): Promise<Block> => {
    const pos = b * size;
    const view = new Uint8Array(run.buffers.take(size), 0, Math.min(size, layout.payloadLen - pos));
    return env.src.readExactly(view, HEADER_LEN + pos).then((bytes) => ({ bytes, first: b * perBlock, final, owned: true }));
  };
  const blocks = Math.ceil(layout.payloadLen / size);
  let next: Promise<Block> | null = blocks > 0 ? read(0) : null;
  try {
    for (let b = 0; next; b++) {
      const block = await next;
      next = b + 1 < blocks ? read(b + 1) : null;
      next?.catch(() => undefined); // awaited on the next turn, or dropped with the file
      yield block;
    }
  } finally {
    await next?.catch(() => undefined); // nothing may still be reading once the file is closed
  }
}

// ---------------------------------------------------------------- 4. the chunk walk, here or on a worker

/** A block after its chunks were opened or sealed in place; `result` as in stream/worker.ts's Reply. */
interface Done {
  bytes: Uint8Array;
  result: number;
}

type Work = (op: 'open' | 'seal', block: Block, plainLength: number) => Promise<Done>;

/**
 * Where the chunks of this payload are worked on: on a worker thread when the backend allows
 * it and the payload is larger than one block, else here. Both run the same functions. A stream
 * (`payloadBytes` null: its length is unknown) has its first INLINE_MAX bytes opened here, so a
 * small one never starts a worker, and the rest on the workers.
 */
function workFor(run: RunContext, suite: SuiteId, key: Uint8Array, chunkSize: number, payloadBytes: number | null): Work {
  const aead = run.backend.aead(suite, key);
  const here: Work = async (op, block, plainLength) => {
    if (op === 'seal') return { bytes: block.bytes, result: sealBlock(aead, block.bytes, block.first, block.final, chunkSize, plainLength) };
    const r = openBlock(aead, block.bytes, block.first, block.final, chunkSize);
    return { bytes: block.bytes, result: r.ok ? r.length : -1 - r.chunk };
  };
  const pool = run.pool;
  if (!pool?.usable) return here;
  const pooled: Work = async (op, block, plainLength) => {
    let own = block.bytes;
    if (!block.owned) { // not ours to send away: copy into a buffer of the run's
      own = new Uint8Array(run.buffers.take(own.length));
      own.set(block.bytes);
    }
    const offset = own.byteOffset; // read before the transfer, which detaches `own`
    const length = own.byteLength;
    const r = await pool.run({
      op, suite, key, buf: own.buffer as ArrayBuffer, offset, length, first: block.first, final: block.final, chunkSize, plainLength,
    });
    return { bytes: new Uint8Array(r.buf, offset, length), result: r.result };
  };
  if (payloadBytes !== null) return payloadBytes > blockBytes(chunkSize + TAG_LEN) ? pooled : here;
  let seen = 0;
  return (op, block, plainLength) => ((seen += block.bytes.length) > INLINE_MAX ? pooled : here)(op, block, plainLength);
}

/** Blocks per file in flight: enough to keep every worker busy, within a share of the memory budget. */
function depthFor(run: RunContext, block: number): number {
  const workers = run.pool?.usable ? run.pool.size : 0;
  return Math.max(2, Math.min(2 * workers + 2, Math.floor(run.memory.budget / 2 / block)));
}

// ---------------------------------------------------------------- 5. in order, pulled by the consumer

/** An opened block's plaintext; give its buffer back with release() once written. */
export interface Plain {
  plaintext: Uint8Array;
  /** Envelope bytes it came from (for progress). */
  sealedBytes: number;
  release(): void;
}

/**
 * Step 10: the plaintext of `blocks`, in order, each released only once every chunk in it
 * verified; a failed tag throws `corrupt` naming the chunk and its offset. Up to `depth`
 * blocks are worked on at once, and a block is handed on as soon as it is opened, even while
 * the source has nothing new (a stream on an idle pipe: docs/FORMAT.md "Decoding a stream"
 * holds back no more than it must).
 */
export async function* openBlocks(blocks: AsyncIterable<Block>, work: Work, depth: number, chunkSize: number, run: RunContext): AsyncGenerator<Plain> {
  // `sealed`: the block's length when it was handed on (a worker thread takes its buffer, which reads as empty here after)
  const inFlight: { block: Block; sealed: number; done: Promise<Done> }[] = [];
  const settle = (): Plain | Promise<Plain> => {
    const { block, sealed, done } = inFlight.shift()!;
    return done.then((d) => {
      const giveBack = (): void => {
        if (block.owned || d.bytes.buffer !== block.bytes.buffer) run.buffers.give(d.bytes.buffer as ArrayBuffer);
      };
      if (d.result < 0) {
        giveBack();
        throw chunkError(-1 - d.result, block.final, chunkSize);
      }
      return { plaintext: d.bytes.subarray(0, d.result), sealedBytes: sealed, release: giveBack };
    });
  };
  const source = blocks[Symbol.asyncIterator]();
  // The next block is asked for at once, but awaited only once a block in flight is free: if
  // the source fails meanwhile (a stream cut short, a read error) while the oldest block is
  // being written, that failure must wait for its turn, not end the process as unhandled.
  const pull = (): Promise<IteratorResult<Block>> => {
    const p = source.next();
    p.catch(() => undefined); // awaited in turn below
    return p;
  };
  let next: Promise<IteratorResult<Block>> | null = pull();
  try {
    while (next || inFlight.length) {
      if (next && inFlight.length < depth) {
        // Take the next block, unless the oldest one in flight is opened first.
        const head = inFlight[0]?.done.then(() => 'head' as const, () => 'head' as const);
        const first = head ? await Promise.race([next.then(() => 'next' as const), head]) : 'next';
        if (first === 'next') {
          const r: IteratorResult<Block> = await next;
          next = null;
          if (!r.done) {
            const sealed = r.value.bytes.length;
            const done = work('open', r.value, 0);
            done.catch(() => undefined); // awaited in turn below
            inFlight.push({ block: r.value, sealed, done });
            next = pull();
          }
          continue;
        }
      }
      yield await settle();
    }
  } finally {
    // Stopped early (a failure, an interruption): wait for the blocks still being worked on, and
    // let the source go without waiting for it (an idle pipe may never answer; a file's reads
    // are waited for by its InputFile before it is closed).
    await Promise.allSettled(inFlight.map((f) => f.done));
    if (next) {
      next.catch(() => undefined);
      source.return?.(undefined).catch(() => undefined);
    }
  }
}

/**
 * Step 10 for an envelope of known size whose keys matched (step 6) and layout passed (7, 8).
 * Each block is offered to the digest (when there is one) before it is opened in place.
 */
export function openPayload(env: Envelope, layout: Layout, payloadKey: Uint8Array, digest: DigestCursor | null, run: RunContext): AsyncGenerator<Plain> {
  const C = chunkSize(env.header);
  const work = workFor(run, env.header.suite, payloadKey, C, layout.payloadLen);
  async function* hashed(): AsyncGenerator<Block> {
    for await (const b of sealedBlocks(env, layout, run)) {
      digest?.feed(HEADER_LEN + b.first * layout.sealedChunk, b.bytes);
      yield b;
    }
  }
  return openBlocks(hashed(), work, depthFor(run, blockBytes(layout.sealedChunk)), C, run);
}

/** Step 10 for a stream (engine/stdio.ts): its blocks come from the stream framer. */
export function openStream(suite: SuiteId, payloadKey: Uint8Array, chunkSize: number, blocks: AsyncIterable<SealedBlock>, run: RunContext): AsyncGenerator<Plain> {
  // The framer's blocks may be the very buffers the caller's stream handed in: opened in place,
  // they would come back changed (found by a test that reused its envelope). Each goes into a
  // buffer of the run's, which can also travel to a worker as it is.
  async function* ours(): AsyncGenerator<Block> {
    for await (const b of blocks) {
      const bytes = new Uint8Array(run.buffers.take(b.bytes.length), 0, b.bytes.length);
      bytes.set(b.bytes);
      yield { ...b, bytes, owned: true };
    }
  }
  const work = workFor(run, suite, payloadKey, chunkSize, null);
  return openBlocks(ours(), work, depthFor(run, blockBytes(chunkSize + TAG_LEN)), chunkSize, run);
}

/** Memory one file's payload takes at most (for the run's budget). */
export function payloadMemory(env: Envelope, layout: Layout, run: RunContext): number {
  if (env.whole) return env.size;
  const block = blockBytes(layout.sealedChunk);
  return block * (depthFor(run, block) + 1) + 2 * HASH_BLOCK;
}

/** Memory sealing a file of `size` bytes takes at most. */
export function sealMemory(size: number, chunkSize: number, run: RunContext): number {
  if (size <= INLINE_MAX) return size + TAG_LEN * Math.ceil(size / chunkSize + 1);
  const block = blockBytes(chunkSize + TAG_LEN);
  return block * (depthFor(run, block) + 2); // + the block being read ahead
}

/**
 * Writes what `plains` yields to `out` (or only counts it, for verify), one write in flight
 * while the next blocks are opened. Returns the plaintext bytes.
 */
export async function drain(plains: AsyncIterable<Plain>, out: AtomicOutput | null, sync: boolean, run: RunContext): Promise<number> {
  let writing: Promise<void> | null = null;
  let bytes = 0;
  try {
    for await (const p of plains) {
      checkInterrupted(run);
      if (writing) await writing;
      writing = null;
      if (out && sync) {
        out.writeSync([p.plaintext]);
        p.release();
      } else if (out) {
        writing = out.write([p.plaintext]).finally(p.release);
        writing.catch(() => undefined); // awaited before the next write, or in finally
      } else {
        p.release();
      }
      bytes += p.plaintext.length;
      // decrypt counts plaintext, as its summary does; verify (no output) envelope bytes, as its summary does
      run.progress(out ? p.plaintext.length : p.sealedBytes);
    }
    if (writing) await writing;
  } finally {
    await (writing as Promise<void> | null)?.catch(() => undefined);
  }
  return bytes;
}

// ---------------------------------------------------------------- the same stages, sealing

/**
 * A plaintext file as blocks laid out for sealing in place: chunk j of a block at j·B. A large
 * file's next block is read while this one is sealed and hashed (the trailer's SHA-256 runs on
 * this thread: a read waited for here would add its time to every block's).
 */
async function* plainBlocks(src: InputFile, chunks: number, chunkSize: number, whole: boolean, run: RunContext): AsyncGenerator<Block & { plainLength: number }> {
  const B = chunkSize + TAG_LEN;
  const perBlock = whole ? chunks : blockBytes(B) / B;
  const final = chunks - 1;
  const read = (first: number): Promise<Block & { plainLength: number }> => {
    const k = Math.min(perBlock, chunks - first);
    const pos = first * chunkSize;
    const plainLength = Math.min(k * chunkSize, src.size - pos);
    const buf = new Uint8Array(run.buffers.take(plainLength + k * TAG_LEN), 0, plainLength + k * TAG_LEN);
    // One scattered read puts each chunk at its place, a tag's room after each.
    const views = Array.from({ length: k }, (_, j) => buf.subarray(j * B, j * B + Math.min(chunkSize, plainLength - j * chunkSize)));
    const block = { bytes: buf, first, final, owned: true, plainLength };
    if (whole) {
      src.readvExactlySync(views, pos);
      return Promise.resolve(block);
    }
    return src.readvExactly(views, pos).then(() => block);
  };
  let next: Promise<Block & { plainLength: number }> | null = read(0);
  try {
    for (let first = 0; next; first += perBlock) {
      const block = await next;
      next = first + perBlock < chunks ? read(first + perBlock) : null;
      next?.catch(() => undefined); // awaited on the next turn, or dropped with the file
      yield block;
    }
  } finally {
    await next?.catch(() => undefined); // nothing may still be reading once the file is closed
  }
}

/** The sealing parameters of one file: its header (already hashed into `hash` by the caller) and payload key. */
export interface SealingJob {
  suite: SuiteId;
  chunkSize: number;
  header: Uint8Array;
  payloadKey: Uint8Array;
}

/**
 * Seals the regular file `src` into `out`: header, chunks, trailer. The whole file is read, the
 * chunks sealed in order (the last with the last flag), the trailer's digest computed over the
 * sealed bytes in order. Returns the number of chunks.
 */
export async function sealFile(src: InputFile, job: SealingJob, out: AtomicOutput, run: RunContext): Promise<number> {
  const chunks = Math.max(1, Math.ceil(src.size / job.chunkSize));
  const whole = src.size <= INLINE_MAX;
  const hash = run.backend.sha256();
  hash.update(job.header);
  const work = workFor(run, job.suite, job.payloadKey, job.chunkSize, whole ? 0 : src.size);
  const depth = depthFor(run, blockBytes(job.chunkSize + TAG_LEN));
  const inFlight: { block: Block & { plainLength: number }; done: Promise<Done> }[] = [];
  let writing: Promise<void> | null = null;
  const write = async (bufs: Uint8Array[], release: () => void): Promise<void> => {
    if (writing) await writing;
    writing = null;
    if (whole) {
      out.writeSync(bufs);
      release();
    } else {
      writing = out.write(bufs).finally(release);
      writing.catch(() => undefined); // awaited before the next write, or in finally
    }
  };
  const emit = async (): Promise<void> => {
    const { block, done } = inFlight.shift()!;
    const d = await done;
    const sealed = d.bytes.subarray(0, d.result);
    hash.update(sealed);
    await write([sealed], () => run.buffers.give(d.bytes.buffer as ArrayBuffer));
    run.progress(block.plainLength);
  };
  try {
    await write([job.header], () => {});
    for await (const block of plainBlocks(src, chunks, job.chunkSize, whole, run)) {
      checkInterrupted(run);
      const done = work('seal', block, block.plainLength);
      done.catch(() => undefined);
      inFlight.push({ block, done });
      if (inFlight.length >= depth) await emit();
    }
    while (inFlight.length) await emit();
    src.checkUnchanged(); // a file that grew or changed while read is not sealed as if whole
    await write([encodeTrailer(hash.digest())], () => {});
    if (writing) await writing;
  } finally {
    await Promise.allSettled([...inFlight.map((f) => f.done), writing ?? Promise.resolve()]);
  }
  return chunks;
}

