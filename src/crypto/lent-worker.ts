// One worker thread per process, built from a source string (node:crypto only, so it runs the
// same from the checkout and inside the single executable), lent to one file at a time.
// Replies come back in the order of the requests. The worker is unref'd while idle (the
// process may exit) and ref'd while lent (a file waiting on it keeps the process alive).
// If it fails to start or dies, every waiting request is rejected and it is never used again:
// callers fall back to doing the work on the main thread.

import { Worker } from 'node:worker_threads';

export class LentWorker {
  private worker: Worker | null = null;
  private busy = false;
  private broken = false;
  private readonly replies: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly source: string, private readonly what: string) {}

  private failAll(e: unknown): void {
    this.broken = true;
    this.worker = null;
    for (const r of this.replies.splice(0)) r.reject(e);
  }

  private get(): Worker | null {
    if (this.broken) return null;
    if (!this.worker) {
      try {
        this.worker = new Worker(this.source, { eval: true });
      } catch {
        this.broken = true;
        return null;
      }
      this.worker.on('message', (m: unknown) => this.replies.shift()?.resolve(m));
      this.worker.on('error', (e) => this.failAll(e));
      this.worker.on('exit', () => this.failAll(new Error(`${this.what} worker exited`)));
      this.worker.unref();
    }
    return this.worker;
  }

  /** The worker for one file, or null when it is lent out or unavailable. */
  borrow(): Lease | null {
    if (this.busy) return null;
    const w = this.get();
    if (!w) return null;
    this.busy = true;
    w.ref();
    let done = false;
    return {
      post: (msg) => w.postMessage(msg),
      ask: (msg) => new Promise((resolve, reject) => {
        if (done) throw new Error(`${this.what} worker already given back`);
        this.replies.push({ resolve, reject });
        w.postMessage(msg);
      }),
      release: (farewell) => {
        if (done) return;
        done = true;
        this.busy = false;
        if (farewell !== undefined && this.worker === w) w.postMessage(farewell);
        w.unref();
      },
    };
  }
}

export interface Lease {
  /** A message with no reply. */
  post(msg: unknown): void;
  /** A message whose reply is awaited. */
  ask(msg: unknown): Promise<unknown>;
  /** Gives the worker back, sending `farewell` first when given. */
  release(farewell?: unknown): void;
}
