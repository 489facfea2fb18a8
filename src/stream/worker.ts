// A worker thread that opens and seals blocks of chunks with the chunk walk of chunks.ts on the
// node:crypto backend, so the cores the main thread leaves free do the AEAD work of large files.
// Each job brings its block (an ArrayBuffer, transferred, not copied), the key and where the
// block sits in the file; the block goes back, opened or sealed in place, with the result. The
// worker keeps no state between jobs but the AEAD object of the last key it saw.
// Loaded by pool.ts: from dist/js/stream/worker.js in a checkout, from the single
// executable's embedded asset in the binary (build-scripts bundle it separately).

import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { Aead } from '../crypto/backend.js';
import { nodeBackend } from '../crypto/node.js';
import type { SuiteId } from '../format/constants.js';
import { openBlock, sealBlock } from './chunks.js';

/**
 * What pool.ts gives a worker it starts as its workerData. Only such a thread answers jobs: this
 * module is also imported where parentPort belongs to someone else (a test runner's own worker
 * thread imports it to call runChunkJob), and must then leave that port, and V8's flags, alone.
 */
export const WORKER_DATA = 'aenv-chunk-worker';
const ours = parentPort !== null && workerData === WORKER_DATA;

export interface ChunkJob {
  id: number;
  op: 'open' | 'seal';
  suite: SuiteId;
  key: Uint8Array;
  buf: ArrayBuffer;
  /** The block is buf[offset, offset + length): sealed chunks to open, or room for the sealed chunks. */
  offset: number;
  length: number;
  /** seal: how many plaintext bytes are laid out in the block (length = plainLength + 16 per chunk). */
  plainLength: number;
  first: number;
  final: number;
  chunkSize: number;
}

export interface Reply {
  id: number;
  buf: ArrayBuffer;
  /** open: plaintext length, or -1 - (the chunk whose tag failed); seal: sealed length. */
  result: number;
  error?: string;
}

let last: { key: string; suite: SuiteId; aead: Aead } | null = null;

/**
 * node:crypto allocates a new buffer for every update() call, so opening 1 GiB leaves 1 GiB of
 * garbage outside V8's heap, which V8 collects only once it passes its external-memory limit
 * (about 64 MiB): measured, a worker then holds up to ~90 MiB more than it needs. A young-
 * generation collection after every 2 MiB frees it for well under a millisecond. `gc` is
 * exposed to this thread's own new context only (the flag affects contexts made after it).
 */
// Stryker disable all: runs only in a worker thread the pool started (see the glue at the end)
const GC_EVERY = 2 * 1024 * 1024;
let sinceGc = 0;
const collect = ((): ((o: { type: 'minor' | 'major' }) => void) | null => {
  if (!ours) return null;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as (o: { type: 'minor' | 'major' }) => void;
  } catch {
    return null;
  }
})();

/**
 * That garbage freed every few MiB made glibc's malloc hand the memory back to the system at
 * once (its trim threshold, 128 KiB by default) and fault it in again for the next buffers: a
 * GiB cost ~130,000 page faults and half the worker's time. glibc raises its mmap and trim
 * thresholds for good when a block it had to map for itself is freed (mallopt(3), "M_MMAP_THRESHOLD
 * ... dynamic adjustment"), so one 16 MiB buffer allocated and freed here at start-up keeps the
 * worker's memory for reuse (measured: faults 59,000 -> 12,000 and 0.5 -> 1.3 GB/s on a GiB, peak
 * memory unchanged). Elsewhere than glibc this does nothing, and costs nothing.
 */
if (collect) {
  let ballast: Buffer | null = Buffer.allocUnsafeSlow(16 * 1024 * 1024);
  ballast[0] = 1;
  ballast = null;
  collect({ type: 'major' });
}
// Stryker restore all

function aeadFor(suite: SuiteId, key: Uint8Array): Aead {
  const id = Buffer.from(key).toString('hex');
  // Stryker disable next-line ConditionalExpression: equivalent (a new AEAD each time only costs time), see test/mutation-equivalents.md
  if (!last || last.key !== id || last.suite !== suite) last = { key: id, suite, aead: nodeBackend.aead(suite, key) };
  return last.aead;
}

export function runChunkJob(j: ChunkJob): number {
  const block = new Uint8Array(j.buf, j.offset, j.length);
  const aead = aeadFor(j.suite, j.key);
  if (j.op === 'seal') return sealBlock(aead, block, j.first, j.final, j.chunkSize, j.plainLength);
  const r = openBlock(aead, block, j.first, j.final, j.chunkSize);
  return r.ok ? r.length : -1 - r.chunk;
}

/** The reply to one job: its result, or the error that stopped it; the block goes back either way. */
export function answer(j: ChunkJob): Reply {
  try {
    return { id: j.id, buf: j.buf, result: runChunkJob(j) };
  } catch (e) {
    return { id: j.id, buf: j.buf, result: 0, error: e instanceof Error ? e.message : String(e) };
  }
}

// The thread's own glue: it runs only in a worker thread the pool started from dist/js (or the
// binary's asset), where Stryker's mutants never are; what it calls (answer, runChunkJob) is tested in
// process, the glue itself by every test that decrypts a large file (offthread, large, forgery-paths).
// Stryker disable all: not reachable in process (see test/mutation-equivalents.md)
if (ours) parentPort!.on('message', (j: ChunkJob) => {
  const reply = answer(j);
  parentPort!.postMessage(reply, [reply.buf]);
  if (collect && (sinceGc += j.length) >= GC_EVERY) {
    sinceGc = 0;
    collect({ type: 'minor' });
  }
});
// Stryker restore all
