// A pool of worker threads (worker.ts) that open and seal blocks of chunks, so the AEAD work of
// large files runs on the cores the main thread's reading and writing leave free. One pool per
// run, shared by its files; workers start on the first job, are unref'd while idle (the
// process can exit) and stop after IDLE_MS without a job (a run of small files after a large
// one does not keep their memory, nor does a context that is simply dropped). A job's block
// travels to the worker and back by transfer, never copied.
// If a worker fails, its jobs are rejected and the pool is no longer used: later files open
// their chunks on the calling thread.

import * as sea from 'node:sea';
import type { Worker } from 'node:worker_threads';
import type { ChunkJob, Reply } from './worker.js';

/** The name of the worker bundle inside the single executable (build-scripts/build-bin.mjs). */
export const WORKER_ASSET = 'stream-worker.cjs';

function startWorker(): Worker {
  // node:worker_threads is loaded when a worker first starts (a large file), not at every start of aenv
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const workerData = 'aenv-chunk-worker'; // worker.ts WORKER_DATA (a value import would load the worker module here)
  if (sea.isSea()) return new Worker(sea.getAsset(WORKER_ASSET, 'utf8'), { eval: true, workerData });
  // From a checkout, worker.js sits beside this file in dist/js. Tests run this file from src/
  // (TypeScript, which a worker thread cannot load): they use the built dist/js copy.
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? here.replace(/\/src\/stream\/pool\.ts$/, '/dist/js/stream/worker.js') : new URL('./worker.js', here);
  return new Worker(new URL(url), { workerData });
}

interface Slot {
  worker: Worker;
  pending: number;
  idle: NodeJS.Timeout | null;
  /** Stopped on purpose (idle, or close()): its exit is not a failure. */
  retired: boolean;
}

/** A worker this long without a job is stopped (a new one starts in tens of milliseconds). */
export const IDLE_MS = 2000;

export class ChunkPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { slot: Slot; resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failed: Error | null = null;

  constructor(readonly size: number) {}

  /** False once a worker failed: callers then work on their own thread. */
  get usable(): boolean {
    return this.failed === null && this.size > 0;
  }

  /** Runs one job; its `buf` is transferred to the worker and comes back in the reply. */
  run(job: Omit<ChunkJob, 'id'>): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { slot, resolve, reject });
      if (slot.idle) clearTimeout(slot.idle);
      slot.idle = null;
      if (slot.pending++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...job, id }, [job.buf]);
    });
  }

  /**
   * Starts the workers now, without a job: a file about to need them calls this before its key
   * derivation, so that the workers' start-up (tens of milliseconds) runs beside the KDF instead
   * of after it. Idle workers do not keep the process alive.
   */
  warm(): void {
    if (this.failed) return;
    while (this.slots.length < this.size) this.start();
  }

  /** Workers running now (for tests: idle ones stop). */
  get running(): number {
    return this.slots.length;
  }

  /** Stops the workers (at the end of a run; idle ones would not keep the process alive anyway). */
  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => this.retire(s)));
  }

  private pick(): Slot {
    let best = this.slots.reduce<Slot | null>((b, s) => (b === null || s.pending < b.pending ? s : b), null);
    if (this.slots.length < this.size && (best === null || best.pending > 0)) best = this.start();
    return best!;
  }

  private start(): Slot {
    const slot: Slot = { worker: startWorker(), pending: 0, idle: null, retired: false };
    this.watch(slot);
    this.slots.push(slot);
    this.idleFrom(slot);
    return slot;
  }

  private idleFrom(slot: Slot): void {
    slot.idle = setTimeout(() => {
      if (slot.pending > 0) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      void this.retire(slot);
    }, IDLE_MS);
    slot.idle.unref();
  }

  private async retire(slot: Slot): Promise<void> {
    slot.retired = true;
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    await slot.worker.terminate();
  }

  private watch(slot: Slot): void {
    const w = slot.worker;
    w.unref();
    w.on('message', (r: Reply) => {
      const job = this.waiting.get(r.id);
      if (!job) return;
      this.waiting.delete(r.id);
      if (--slot.pending === 0) {
        w.unref();
        this.idleFrom(slot);
      }
      if (r.error !== undefined) job.reject(new Error(`worker thread: ${r.error}`));
      else job.resolve(r);
    });
    const fail = (e: Error): void => {
      if (!slot.retired) this.failed ??= e;
      for (const [id, job] of this.waiting) {
        if (job.slot !== slot) continue;
        this.waiting.delete(id);
        job.reject(e);
      }
    };
    w.on('error', (e) => fail(new Error(`a worker thread failed: ${e.message}`)));
    w.on('exit', (code) => fail(new Error(`a worker thread exited (code ${code})`)));
  }
}
