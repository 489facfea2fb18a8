// Decoding a stream of unknown length (docs/FORMAT.md "Decoding a stream"): hold back
// at least B + 40 bytes until it is known whether the held chunk is the last, hand out every
// whole chunk known not to be the last at once, and at the end split what is held (one chunk at
// most, and the trailer), reporting a stream that ends early, or inside a tag, as corrupt.
// Pure (sans-I/O): bytes are pushed in, blocks of sealed chunks come out, to be opened by the
// chunk walk (chunks.ts) like the blocks of a file. Linear in its input: see queue.ts.

import type { Hash } from '../crypto/backend.js';
import { TAG_LEN, TRAILER_LEN } from '../format/constants.js';
import { parseTrailer } from '../format/layout.js';
import { EnvelopeError } from '../format/status.js';
import { ByteQueue } from './queue.js';

/** A run of whole sealed chunks, the first being chunk `first`; `final` as in chunks.ts's openBlock. */
export interface SealedBlock {
  bytes: Uint8Array;
  first: number;
  final: number;
}

export interface StreamEnd {
  /** The chunks still held, the last one among them (final = its index). */
  last: SealedBlock;
  /** The trailer's content digest. */
  digest: Uint8Array;
  /** SHA-256 of every byte before the trailer, when a hash was kept. */
  computed: Uint8Array | null;
}

export class StreamFramer {
  private readonly held = new ByteQueue();
  private index = 0;
  private readonly B: number;
  /** `hash` (when given) has seen the header already; the framer feeds it every chunk in order. */
  constructor(chunkSize: number, private readonly hash: Hash | null) {
    this.B = chunkSize + TAG_LEN;
  }

  /** Bytes copied so far (never more than were pushed in: see queue.ts). */
  get copied(): number {
    return this.held.copied;
  }

  /** Payload and trailer bytes in; the chunks proven not to be the last out, as one block. */
  push(data: Uint8Array): SealedBlock | null {
    this.held.push(data);
    // A chunk followed by more than a trailer's worth of bytes cannot be the last one.
    const k = Math.floor((this.held.length - TRAILER_LEN - 1) / this.B);
    return k > 0 ? this.take(k, -1) : null;
  }

  /**
   * The stream ended. push() handed out every chunk but one, so what is held must be that last
   * chunk, then the trailer: the chunk holds its tag and, unless it is the only chunk (the empty
   * plaintext), at least one byte.
   */
  end(): StreamEnd {
    const L = this.held.length - TRAILER_LEN;
    if (L < (this.index === 0 ? TAG_LEN : TAG_LEN + 1)) {
      throw new EnvelopeError('corrupt', `stream ended early: ${this.held.length} bytes after ${this.index === 0 ? 'the header' : `chunk ${this.index - 1}`}, not whole chunks and a trailer (truncated)`);
    }
    const last = this.take(1, this.index);
    const digest = parseTrailer(this.held.take(TRAILER_LEN));
    return { last, digest, computed: this.hash ? this.hash.digest() : null };
  }

  private take(k: number, final: number): SealedBlock {
    const bytes = this.held.take(Math.min(k * this.B, this.held.length - TRAILER_LEN));
    this.hash?.update(bytes);
    const block = { bytes, first: this.index, final };
    this.index += k;
    return block;
  }
}
