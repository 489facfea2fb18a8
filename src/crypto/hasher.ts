// SHA-256 (FIPS 180-4) on a second thread, so the content digest of a large envelope is
// computed on the other core while the main thread decrypts. Blocks are passed as views of a
// SharedArrayBuffer (no copies). The worker is built from a string (node:crypto only), so it
// works the same from the checkout and inside the single executable. One worker per process,
// lent to one file at a time; a file that cannot have it hashes on the main thread.

import { LentWorker } from './lent-worker.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let h = null;
parentPort.on('message', (m) => {
  if (m.t === 'reset') { h = createHash('sha256'); return; }
  if (m.t === 'u') { h.update(new Uint8Array(m.sab, m.off, m.len)); parentPort.postMessage(0); return; }
  if (m.t === 'd') { const d = h.digest(); h = null; parentPort.postMessage(d); }
});
`;

export interface AsyncHash {
  /** Hashes `view` (backed by a SharedArrayBuffer); resolves once the view may be reused. */
  update(view: Uint8Array): Promise<void>;
  digest(): Promise<Uint8Array>;
  /** Gives the worker back (after digest, or to abandon the hash). */
  release(): void;
}

const lender = new LentWorker(WORKER_SOURCE, 'hash');

/** The process's hash worker for one file, or null when it is lent out or unavailable. */
export function borrowHasher(): AsyncHash | null {
  const lease = lender.borrow();
  if (!lease) return null;
  lease.post({ t: 'reset' });
  return {
    async update(view) {
      await lease.ask({ t: 'u', sab: view.buffer, off: view.byteOffset, len: view.byteLength });
    },
    async digest() {
      return new Uint8Array((await lease.ask({ t: 'd' })) as Uint8Array);
    },
    release: () => lease.release(),
  };
}
