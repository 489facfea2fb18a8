// Opening the chunks of a read block (AES-256-GCM or ChaCha20-Poly1305, 16-byte tags, chunk
// nonce = 11-byte big-endian index || last flag; shared/ENVELOPE.md "Payload") on a second
// thread, so the main thread only reads and writes. Sealed chunks are read from, and
// plaintexts written to, views of SharedArrayBuffers (no copies across threads). Like the hash
// worker it is built from a string (node:crypto only), so it works the same from the checkout
// and inside the single executable. One worker per process, lent to one file at a time; a file
// that cannot have it opens its chunks on the main thread.
//
// The worker answers a block with -1 when every chunk verified, else the index of the first
// chunk that failed (its plaintext, and any after it, are then not written). The caller
// produces the error itself (ChunkOpener), so the message stays the same on both paths.

import { LentWorker } from './lent-worker.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createDecipheriv, createSecretKey } = require('node:crypto');
let key = null, name = null;
const nonce = Buffer.alloc(12);
const PIECE = 1 << 20;
function setNonce(i, last) {
  nonce.fill(0, 0, 5);
  let v = i;
  for (let k = 10; k >= 5; k--) { nonce[k] = v % 256; v = Math.floor(v / 256); }
  nonce[11] = last ? 1 : 0;
}
function openBlock(m) {
  const inp = Buffer.from(m.in, m.inOff, m.len);
  const out = Buffer.from(m.out, m.outOff, m.outLen);
  let i = m.i0, o = 0;
  for (let pos = 0; pos < m.len; pos += m.B, i++) {
    const end = Math.min(pos + m.B, m.len);
    const ctLen = end - pos - 16;
    if (ctLen < 0) return i;
    const start = o;
    setNonce(i, i === m.last);
    const d = createDecipheriv(name, key, nonce, { authTagLength: 16 });
    d.setAuthTag(inp.subarray(end - 16, end));
    // In pieces, so a 16 MiB chunk costs no 16 MiB copy here; out is not read before the reply.
    for (let p = pos; p < pos + ctLen; p += PIECE) {
      const pt = d.update(inp.subarray(p, Math.min(p + PIECE, pos + ctLen)));
      o += pt.copy(out, o);
      pt.fill(0);
    }
    try { d.final(); } catch { out.fill(0, start, o); return i; }
  }
  return -1;
}
parentPort.on('message', (m) => {
  if (m.t === 'k') { key = createSecretKey(Buffer.from(m.key)); name = m.name; return; }
  if (m.t === 'x') { key = null; name = null; return; }
  if (m.t === 'o') {
    let r;
    try { r = openBlock(m); } catch (e) { r = -2; }
    parentPort.postMessage(r);
  }
});
`;

export interface BlockDecryptor {
  /**
   * Opens the sealed chunks in `sealed` (whole chunks of `sealedChunk` bytes, the last one maybe
   * shorter), the first being chunk `first`, chunk `last` sealed as the final one, writing
   * their plaintexts one after another into `out` (both views of SharedArrayBuffers).
   * Resolves to -1 when all verified, else the index of the first chunk that did not; `out`
   * then holds no plaintext of that chunk or any after it. Rejects only if the worker fails.
   */
  open(sealed: Uint8Array, out: Uint8Array, first: number, sealedChunk: number, last: number): Promise<number>;
  /** Gives the worker back (it forgets the key); call once no block is outstanding. */
  release(): void;
}

const lender = new LentWorker(WORKER_SOURCE, 'decrypt');

/** The process's decrypt worker for one file and key, or null when lent out or unavailable. */
export function borrowDecryptor(cipher: 'aes-256-gcm' | 'chacha20-poly1305', key: Uint8Array): BlockDecryptor | null {
  const lease = lender.borrow();
  if (!lease) return null;
  lease.post({ t: 'k', name: cipher, key: new Uint8Array(key) });
  return {
    async open(sealed, out, first, sealedChunk, last) {
      const r = (await lease.ask({
        t: 'o', in: sealed.buffer, inOff: sealed.byteOffset, len: sealed.byteLength,
        out: out.buffer, outOff: out.byteOffset, outLen: out.byteLength, i0: first, B: sealedChunk, last,
      })) as number;
      if (r === -2) throw new Error('decrypt worker failed');
      return r;
    },
    release: () => lease.release({ t: 'x' }), // the worker forgets the key
  };
}
