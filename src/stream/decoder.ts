// Decoding a stream of unknown length (shared/ENVELOPE.md, the rule after step 12): hold back
// at least B + 40 bytes until it is known whether the held chunk is the last, hand out only
// whole chunks known not to be the last, and at the end split what is held into its chunks and
// the trailer, reporting a stream that ends early, or inside a tag, as corrupt. Pure (sans-I/O):
// bytes are pushed in, blocks of sealed chunks come out, to be opened by the chunk walk
// (chunks.ts) like the blocks of a file. Linear in its input: see queue.ts.

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
  /**
   * `hash` (when given) has seen the header already; the framer feeds it every chunk in order.
   * Chunks are handed out in blocks of at least `minBlock` bytes (whole chunks), or at the end.
   */
  constructor(chunkSize: number, private readonly hash: Hash | null, private readonly minBlock = 1) {
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
    const spare = this.held.length - TRAILER_LEN - 1;
    const k = spare >= this.B ? Math.floor(spare / this.B) : 0;
    if (k === 0 || k * this.B < this.minBlock) return null;
    return this.take(k, -1);
  }

  /** The stream ended: what is held must be whole chunks, the last one not empty unless alone, then the trailer. */
  end(): StreamEnd {
    const L = this.held.length - TRAILER_LEN;
    const r = L % this.B;
    const alone = this.index === 0 && L === TAG_LEN;
    if (L < TAG_LEN || (!alone && r >= 1 && r <= TAG_LEN)) {
      throw new EnvelopeError('corrupt', `stream ended early: ${this.held.length} bytes after ${this.index === 0 ? 'the header' : `chunk ${this.index - 1}`}, not whole chunks and a trailer (truncated)`);
    }
    const k = Math.ceil(L / this.B) || 1;
    const last = this.take(k, this.index + k - 1);
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
