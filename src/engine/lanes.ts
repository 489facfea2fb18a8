// The lanes of a run: up to `jobs` files at once (keys shared through the run's key cache), pulled from
// a stream of inputs (the walk is an async generator, so a tree of any size is never held as a
// list) through a bounded lookahead, results delivered in input order so the human report reads
// like the file list, and no new file started once the run is interrupted. Memory is bounded:
// at most `lookahead` inputs wait, and at most `window` results wait behind a slow earlier file
// (the lanes pause until it is delivered).

import { Interrupted, type RunContext } from './context.js';

/** Inputs read ahead of the lanes. */
export const LOOKAHEAD = 256;
/** Results that may wait, done, behind an earlier file still running. */
export const WINDOW = 1024;

/** A stream of inputs read ahead by up to `size`, taken one at a time, each with its index in the stream. */
export class Lookahead<T> {
  private readonly buf: T[] = [];
  private ended = false;
  private error: unknown = null;
  private active = false;
  private waiters: (() => void)[] = [];
  private taken = 0;

  constructor(private readonly it: AsyncIterator<T>, readonly size = LOOKAHEAD) {}

  static of<T>(items: AsyncIterable<T> | Iterable<T>, size = LOOKAHEAD): Lookahead<T> {
    const it = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : toAsync((items as Iterable<T>)[Symbol.iterator]());
    return new Lookahead(it, size);
  }

  /** Reads until `size` inputs wait or the stream ended (before any work: a usage error in it comes out here). */
  async fill(): Promise<void> {
    while (!this.ended && this.buf.length < this.size) {
      this.pump();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.error !== null && this.buf.length === 0) throw this.error;
  }

  /** The stream ended without one input. */
  get empty(): boolean {
    return this.ended && this.error === null && this.buf.length === 0 && this.taken === 0;
  }

  /** The next input and its index, or null at the end; rethrows the stream's error once what came before it is taken. */
  async take(): Promise<{ value: T; index: number } | null> {
    for (;;) {
      if (this.buf.length) {
        const value = this.buf.shift()!;
        this.pump();
        return { value, index: this.taken++ };
      }
      if (this.error !== null) throw this.error;
      if (this.ended) return null;
      this.pump();
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Stops the stream (the walk's open folders are let go). */
  async close(): Promise<void> {
    this.ended = true;
    this.buf.length = 0;
    await this.it.return?.().catch(() => undefined);
  }

  private pump(): void {
    if (this.active || this.ended || this.buf.length >= this.size) return;
    this.active = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (!this.ended && this.buf.length < this.size) {
        const r = await this.it.next();
        if (r.done) this.ended = true;
        else this.buf.push(r.value);
        this.notify();
      }
    } catch (e) {
      this.error = e;
      this.ended = true;
      this.notify();
    } finally {
      this.active = false;
    }
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

async function* toAsync<T>(it: Iterator<T>): AsyncGenerator<T> {
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}

export async function runAll<T, R>(items: Lookahead<T> | readonly T[], jobs: number, ctx: RunContext,
  work: (item: T) => Promise<R>, deliver: (result: R, index: number) => void, window = WINDOW): Promise<void> {
  const src = items instanceof Lookahead ? items : Lookahead.of(items as readonly T[]);
  const done = new Map<number, R>();
  let delivered = 0;
  let started = 0;
  let stop: unknown = null;
  let waiting: (() => void)[] = [];
  const wake = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const flush = (): void => {
    while (done.has(delivered)) {
      const r = done.get(delivered)!;
      done.delete(delivered);
      deliver(r, delivered++);
    }
    wake();
  };
  const lane = async (): Promise<void> => {
    while (stop === null && !ctx.interrupted) {
      if (started - delivered >= window) {
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      let got: { value: T; index: number } | null;
      try {
        got = await src.take();
      } catch (e) {
        stop ??= e;
        break;
      }
      if (got === null || stop !== null || ctx.interrupted) break; // an input taken after a stop is never started
      started++;
      try {
        done.set(got.index, await work(got.value));
      } catch (e) {
        stop ??= e;
        break;
      }
      flush();
    }
    wake(); // a lane that stops lets the others see why
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
  if (stop !== null || ctx.interrupted) await src.close();
  if (stop !== null) throw stop;
  if (ctx.interrupted) throw new Interrupted();
}
