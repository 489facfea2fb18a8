// Sealing a plaintext of any length into an AENV/1 payload and trailer (docs/FORMAT.md
// "Payload", "Trailer", "Encoding"): chunks of exactly C bytes, the last one 1..C bytes (0 only for an empty
// plaintext), the last flag on the final chunk, and SHA-256 of header || payload in the trailer.
// Pure (sans-I/O); holds back at most C bytes to know which chunk is the last, and seals with
// the chunk walk of chunks.ts. Linear in its input: see queue.ts.

import type { Aead, Hash } from '../crypto/backend.js';
import { TAG_LEN } from '../format/constants.js';
import { encodeTrailer } from '../format/layout.js';
import { sealBlock } from './chunks.js';
import { ByteQueue } from './queue.js';

export class StreamEncoder {
  private readonly held = new ByteQueue();
  private index = 0;
  plaintextBytes = 0;
  constructor(private readonly aead: Aead, private readonly chunkSize: number, private readonly hash: Hash, header: Uint8Array) {
    hash.update(header);
  }

  /** Plaintext in; the sealed chunks proven not to be the last out (as one block, or none). */
  push(data: Uint8Array): Uint8Array[] {
    this.plaintextBytes += data.length;
    this.held.push(data);
    // Stryker disable next-line EqualityOperator: equivalent (held = C gives k = 0 either way), see test/mutation-equivalents.md
    const k = this.held.length > this.chunkSize ? Math.floor((this.held.length - 1) / this.chunkSize) : 0;
    return k === 0 ? [] : [this.seal(k, k * this.chunkSize, -1)];
  }

  /** The plaintext ended: the last chunk and the trailer. */
  end(): Uint8Array[] {
    const last = this.seal(1, this.held.length, this.index);
    return [last, encodeTrailer(this.hash.digest())];
  }

  get chunks(): number {
    return this.index;
  }

  /** Lays `k` chunks (`length` bytes) out at multiples of B and seals them in place. */
  private seal(k: number, length: number, final: number): Uint8Array {
    const B = this.chunkSize + TAG_LEN;
    const block = new Uint8Array(length + k * TAG_LEN);
    for (let j = 0, left = length; j < k; j++) {
      const n = Math.min(this.chunkSize, left);
      block.set(this.held.take(n), j * B);
      // Stryker disable next-line AssignmentOperator: equivalent (a block of several chunks holds only full ones), see test/mutation-equivalents.md
      left -= n;
    }
    sealBlock(this.aead, block, this.index, final, this.chunkSize, length);
    this.index += k;
    this.hash.update(block);
    return block;
  }
}
