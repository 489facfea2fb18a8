// SHA-256 (FIPS 180-4) on a second thread, so the content digest of a large envelope is
// computed on the other core while the main thread decrypts. Blocks are passed as views of a
// SharedArrayBuffer (no copies). The worker is built from a string (node:crypto only), so it
// works the same from the checkout and inside the single executable. One worker per process,
// lent to one file at a time; a file that cannot have it hashes on the main thread.

import { Worker } from 'node:worker_threads';

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

let worker: Worker | null = null;
let busy = false;
let broken = false;
const replies: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

function failAll(e: unknown): void {
  broken = true;
  worker = null;
  for (const r of replies.splice(0)) r.reject(e);
}

function getWorker(): Worker | null {
  if (broken) return null;
  if (!worker) {
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true });
    } catch {
      broken = true;
      return null;
    }
    worker.on('message', (m: unknown) => replies.shift()?.resolve(m));
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error('hash worker exited')));
    worker.unref();
  }
  return worker;
}

function ask(w: Worker, msg: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    replies.push({ resolve, reject });
    w.postMessage(msg);
  });
}

/** The process's hash worker for one file, or null when it is lent out or unavailable. */
export function borrowHasher(): AsyncHash | null {
  if (busy) return null;
  const w = getWorker();
  if (!w) return null;
  busy = true;
  w.ref(); // while a file waits on it, the worker keeps the process alive
  w.postMessage({ t: 'reset' });
  let done = false;
  return {
    async update(view) {
      await ask(w, { t: 'u', sab: view.buffer, off: view.byteOffset, len: view.byteLength });
    },
    async digest() {
      return new Uint8Array((await ask(w, { t: 'd' })) as Uint8Array);
    },
    release() {
      if (done) return;
      done = true;
      busy = false;
      w.unref();
    },
  };
}
