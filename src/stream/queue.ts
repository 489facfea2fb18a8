// A queue of byte pieces for the stream framer and encoder: bytes pushed in as they arrive,
// taken out in runs of a chosen length. Every byte is copied at most once (a run that lies in
// one piece is a view of it), so a stream costs time linear in its length whatever the chunk
// size (a queue that re-joins what it holds on every push costs the square of the chunk size).

export class ByteQueue {
  private pieces: Uint8Array[] = [];
  private head = 0; // pieces before this index are used up
  length = 0;
  /** Bytes copied so far (at most every byte taken once: the test of linearity). */
  copied = 0;
  /** Entries of the piece list moved when it is compacted (at most one per piece pushed: linear too). */
  moved = 0;

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pieces.push(data);
    this.length += data.length;
  }

  /** The first `n` bytes (n <= length), removed from the queue. */
  take(n: number): Uint8Array {
    if (n > this.length) throw new RangeError(`take(${n}) of ${this.length} bytes`);
    this.length -= n;
    const first = this.pieces[this.head];
    if (first && first.length >= n) {
      const run = first.subarray(0, n);
      this.advance(first, n);
      return run;
    }
    const run = new Uint8Array(n);
    this.copied += n;
    for (let o = 0; o < n;) {
      const p = this.pieces[this.head]!;
      const k = Math.min(p.length, n - o);
      run.set(p.subarray(0, k), o);
      o += k;
      this.advance(p, k);
    }
    return run;
  }

  private advance(piece: Uint8Array, k: number): void {
    if (k === piece.length) {
      this.pieces[this.head++] = new Uint8Array(0);
      // Once most of the list is used up (and it is not tiny): keep only what is left, so the
      // list stays bounded and each entry moves at most once per halving.
      // Stryker disable next-line EqualityOperator: equivalent (thresholds off by one), see test/mutation-equivalents.md
      if (this.head > 64 && this.head * 2 > this.pieces.length) {
        this.moved += this.pieces.length - this.head;
        this.pieces = this.pieces.slice(this.head);
        this.head = 0;
      }
    } else {
      this.pieces[this.head] = piece.subarray(k);
    }
  }
}
