// Sealing a plaintext of any length into an AENV/1 payload and trailer (shared/ENVELOPE.md
// "Payload", "Trailer"): chunks of exactly C bytes, the last one 1..C bytes (0 only for an empty
// plaintext), the last flag on the final chunk, and SHA-256 of header || payload in the trailer.
// Pure (sans-I/O); holds back at most C bytes to know which chunk is the last.

import type { Hash } from '../crypto/backend.js';
import { encodeTrailer } from '../format/layout.js';
import type { ChunkSealer } from './chunks.js';

export class StreamEncoder {
  private pending: Uint8Array = new Uint8Array(0);
  private index = 0;
  plaintextBytes = 0;
  constructor(private readonly sealer: ChunkSealer, private readonly chunkSize: number,
    private readonly hash: Hash, header: Uint8Array) {
    hash.update(header);
  }

  /** Plaintext in; sealed chunks proven not to be the last out. */
  push(data: Uint8Array): Uint8Array[] {
    this.plaintextBytes += data.length;
    const buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const out: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos > this.chunkSize) {
      out.push(this.seal(buf.subarray(pos, pos + this.chunkSize), false));
      pos += this.chunkSize;
    }
    this.pending = Uint8Array.from(buf.subarray(pos));
    return out;
  }

  /** The plaintext ended: the last chunk and the trailer. */
  end(): Uint8Array[] {
    const last = this.seal(this.pending, true);
    this.pending = new Uint8Array(0);
    return [last, encodeTrailer(this.hash.digest())];
  }

  get chunks(): number {
    return this.index;
  }

  private seal(pt: Uint8Array, last: boolean): Uint8Array {
    const sealed = this.sealer.seal(this.index++, pt, last);
    this.hash.update(sealed);
    return sealed;
  }
}
