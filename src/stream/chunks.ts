// One chunk of the AENV/1 payload (shared/ENVELOPE.md "Payload"): chunk i sealed under
// nonce_i = i (11 bytes, big-endian) || last flag, with an empty associated data.
// Pure: no I/O. Opening never returns plaintext whose tag did not verify.

import type { Aead, Backend } from '../crypto/backend.js';
import type { SuiteId } from '../format/constants.js';
import { chunkNonce, chunkOffset } from '../format/layout.js';
import { EnvelopeError } from '../format/status.js';

export class ChunkOpener {
  private readonly aead: Aead;
  private readonly nonce = new Uint8Array(12);
  constructor(backend: Backend, suite: SuiteId, payloadKey: Uint8Array, private readonly chunkSize: number) {
    this.aead = backend.aead(suite, payloadKey);
  }
  /** Step 10 for one chunk; throws `corrupt` naming the chunk and its offset. */
  open(i: number, sealed: Uint8Array, last: boolean): Uint8Array {
    const pt = this.aead.open(chunkNonce(i, last, this.nonce), sealed);
    if (pt === null) {
      const offset = chunkOffset(i, this.chunkSize);
      throw new EnvelopeError('corrupt',
        `chunk ${i} at offset ${offset} failed authentication${last ? ' (as the last chunk)' : ''}: damaged, tampered, reordered or truncated`,
        { chunk: i, offset });
    }
    return pt;
  }
}

export class ChunkSealer {
  private readonly aead: Aead;
  private readonly nonce = new Uint8Array(12);
  constructor(backend: Backend, suite: SuiteId, payloadKey: Uint8Array) {
    this.aead = backend.aead(suite, payloadKey);
  }
  seal(i: number, plaintext: Uint8Array, last: boolean): Uint8Array {
    return this.aead.seal(chunkNonce(i, last, this.nonce), plaintext);
  }
}
