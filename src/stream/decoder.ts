// Decoding a stream of unknown length (shared/ENVELOPE.md, the rule after step 12): hold back
// up to B + 40 bytes until it is known whether the held chunk is the last, release a chunk's
// plaintext only after its tag verified, and report a stream that ends early or goes on after
// the last chunk as corrupt. Pure (sans-I/O): bytes are pushed in, verified plaintext comes out.

import type { Hash } from '../crypto/backend.js';
import { TAG_LEN, TRAILER_LEN } from '../format/constants.js';
import { parseTrailer } from '../format/layout.js';
import { constantTimeEqual } from '../format/header.js';
import { EnvelopeError } from '../format/status.js';
import type { ChunkOpener } from './chunks.js';

export interface StreamEnd {
  /** Plaintext of the last chunk. */
  plaintext: Uint8Array;
  /** Whether the trailer's content digest matched (null when no hash was kept). */
  digestOk: boolean | null;
  chunks: number;
}

export class StreamDecoder {
  private pending: Uint8Array = new Uint8Array(0);
  private index = 0;
  private readonly B: number;
  constructor(private readonly opener: ChunkOpener, chunkSize: number, private readonly hash: Hash | null) {
    this.B = chunkSize + TAG_LEN;
  }

  /** Payload and trailer bytes in; the plaintext of every chunk proven not to be the last out. */
  push(data: Uint8Array): Uint8Array[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const out: Uint8Array[] = [];
    let pos = 0;
    // A chunk followed by more than a trailer's worth of bytes cannot be the last one.
    while (buf.length - pos > this.B + TRAILER_LEN) {
      const sealed = buf.subarray(pos, pos + this.B);
      out.push(this.opener.open(this.index, sealed, false));
      this.hash?.update(sealed);
      this.index++;
      pos += this.B;
    }
    this.pending = pos === 0 && buf === this.pending ? buf : Uint8Array.from(buf.subarray(pos));
    return out;
  }

  /** The stream ended: what is held must be exactly the last chunk and the trailer. */
  end(): StreamEnd {
    const rest = this.pending;
    const lastLen = rest.length - TRAILER_LEN;
    if (lastLen < TAG_LEN || (this.index > 0 && lastLen === TAG_LEN)) {
      throw new EnvelopeError('corrupt', `stream ended early: ${rest.length} bytes after chunk ${this.index - 1}, not a last chunk and a trailer (truncated)`);
    }
    const digest = parseTrailer(rest.subarray(lastLen));
    const sealed = rest.subarray(0, lastLen);
    const plaintext = this.opener.open(this.index, sealed, true);
    let digestOk: boolean | null = null;
    if (this.hash) {
      this.hash.update(sealed);
      digestOk = constantTimeEqual(this.hash.digest(), digest);
    }
    return { plaintext, digestOk, chunks: this.index + 1 };
  }
}
