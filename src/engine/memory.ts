// Memory for payloads in flight, owned by the run: a byte budget shared by the files opened at
// once (a header may ask for 16 MiB chunks, so without it `--jobs N` hostile files would take
// N times the memory; a file beyond the budget waits, and one always runs), and a pool of the
// block buffers themselves, so a batch of large files reuses a few buffers instead of
// allocating (and page-faulting) new ones for every file.

export class MemoryBudget {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly budget: number) {}

  /** Waits until `bytes` fit (or nothing else is in use); returns the release function. */
  async acquire(bytes: number): Promise<() => void> {
    const n = Math.min(bytes, this.budget);
    while (this.inUse > 0 && this.inUse + n > this.budget) await new Promise<void>((r) => this.waiting.push(r));
    this.inUse += n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= n;
      for (const w of this.waiting.splice(0)) w();
    };
  }
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private kept = 0;
  constructor(private readonly keepAtMost: number) {}

  /** A buffer of exactly `size` bytes (contents undefined). */
  take(size: number): ArrayBuffer {
    const list = this.free.get(size);
    const b = list?.pop();
    if (b) {
      this.kept -= size;
      return b;
    }
    return new ArrayBuffer(size);
  }

  /** Gives a buffer back for reuse (dropped when the pool holds enough already). */
  give(b: ArrayBuffer): void {
    if (b.byteLength === 0 || this.kept + b.byteLength > this.keepAtMost) return;
    const list = this.free.get(b.byteLength) ?? [];
    list.push(b);
    this.free.set(b.byteLength, list);
    this.kept += b.byteLength;
  }
}
