// Bounded capture of a child's standard error (or output) for one line of `detail`: only the
// last `limit` bytes are kept, whatever the child writes (a tool that prints 50 MiB costs aenv
// `limit` bytes, not 50 MiB), and every occurrence of the password is replaced before anything
// is kept, also when it arrives split across two reads. The printable line is sanitised: no
// control or bidirectional-override characters, bounded length (shared/CLI.md "A password is
// never printed, logged or written to a report").

const REDACTED = Buffer.from('***');

/**
 * Keeps the last `limit` bytes of a byte stream, with `secret` redacted. The kept bytes live in
 * one buffer allocated up front (a ring), and a large read is scrubbed in place without copying
 * it, so a flood costs no allocation here beyond the reads themselves.
 */
export class Tail {
  private readonly ring: Buffer;
  private start = 0;
  private size = 0;
  private carry: Buffer = Buffer.alloc(0);
  private seen = 0;
  private dropped = 0;
  private ended = false;
  private readonly secret: Buffer | null;

  constructor(readonly limit: number, secret: Uint8Array | null = null) {
    if (!(limit > 0)) throw new Error('Tail limit must be positive');
    if (secret && secret.length > limit) throw new Error('Tail limit must exceed the secret');
    this.ring = Buffer.alloc(limit);
    this.secret = secret && secret.length ? Buffer.from(secret) : null;
  }

  /** Bytes the stream carried in all. */
  get total(): number {
    return this.seen;
  }

  /** Bytes held now (the bound: at most limit + secret length - 1). */
  get retained(): number {
    return this.size + this.carry.length;
  }

  /** True when bytes were dropped from the front. */
  get truncated(): boolean {
    return this.dropped > 0;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('Tail already ended');
    this.seen += chunk.length;
    const s = this.secret;
    if (!s) {
      this.keep(chunk);
      return;
    }
    const m = s.length;
    const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length); // a view, not a copy
    if (c.length < 2 * m) {
      // Small read: join it to the held bytes and scan that.
      this.scan(this.carry.length ? Buffer.concat([this.carry, c]) : c);
      return;
    }
    // Large read: first a secret that starts in the held bytes and ends in this read...
    let from = 0;
    const k = this.carry.length;
    if (k) {
      const edge = Buffer.concat([this.carry, c.subarray(0, m - 1)]);
      const at = edge.indexOf(s);
      if (at !== -1 && at < k) {
        this.keep(this.carry.subarray(0, at));
        this.keep(REDACTED);
        from = at + m - k;
      } else {
        this.keep(this.carry);
      }
      this.carry = Buffer.alloc(0);
    }
    // ...then the read itself.
    this.scan(c, from);
  }

  /** Keeps buf[from..] with every secret replaced, holding back a possible secret start at its end. */
  private scan(buf: Buffer, from = 0): void {
    const s = this.secret!;
    for (let at = buf.indexOf(s, from); at !== -1; at = buf.indexOf(s, from)) {
      this.keep(buf.subarray(from, at));
      this.keep(REDACTED);
      from = at + s.length;
    }
    const hold = Math.max(from, buf.length - (s.length - 1));
    this.keep(buf.subarray(from, hold));
    this.carry = Buffer.from(buf.subarray(hold)); // a copy: never pin the caller's read
  }

  /**
   * The stream has ended: the held bytes are kept, except that a cut-off start of the secret at
   * the very end (3 bytes or more of it) is redacted too.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const c = this.carry;
    this.carry = Buffer.alloc(0);
    const s = this.secret;
    if (s) {
      for (let k = Math.min(c.length, s.length - 1); k >= Math.min(3, s.length); k--) {
        if (c.subarray(c.length - k).equals(s.subarray(0, k))) {
          this.keep(c.subarray(0, c.length - k));
          this.keep(REDACTED);
          return;
        }
      }
    }
    this.keep(c);
  }

  /** Appends to the ring, dropping its oldest bytes when full. */
  private keep(b: Uint8Array): void {
    const L = this.limit;
    if (b.length >= L) {
      this.dropped += this.size + b.length - L;
      this.ring.set(b.subarray(b.length - L));
      this.start = 0;
      this.size = L;
      return;
    }
    const end = (this.start + this.size) % L;
    const first = Math.min(b.length, L - end);
    this.ring.set(b.subarray(0, first), end);
    if (first < b.length) this.ring.set(b.subarray(first), 0);
    const over = this.size + b.length - L;
    if (over > 0) {
      this.dropped += over;
      this.start = (this.start + over) % L;
      this.size = L;
    } else {
      this.size += b.length;
    }
  }

  /** The kept bytes (redacted), as text. */
  text(): string {
    const first = this.ring.subarray(this.start, Math.min(this.limit, this.start + this.size));
    const wrapped = this.ring.subarray(0, this.size - first.length);
    return Buffer.concat([first, wrapped, this.carry]).toString('utf8');
  }

  /** The last non-empty line, sanitised and at most `maxChars` characters; '' if none. */
  lastLine(maxChars = 200): string {
    const lines = this.text().split(/\r\n|\r|\n/);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = sanitizeLine(lines[i]!, maxChars);
      if (line) return i === 0 && this.truncated ? `…${line}` : line;
    }
    return '';
  }
}

// C0 and C1 controls, DEL, and the characters that reorder or hide text on a terminal
// (bidirectional embeddings/overrides/isolates, marks, line/paragraph separators, BOM).
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]+/g;

/** One printable line: unprintable runs become one space, spaces collapse, at most maxChars characters. */
export function sanitizeLine(s: string, maxChars = 200): string {
  const clean = s.replace(UNPRINTABLE, ' ').replace(/ {2,}/g, ' ').trim();
  const chars = Array.from(clean);
  return chars.length <= maxChars ? clean : `${chars.slice(0, Math.max(1, maxChars - 1)).join('')}…`;
}
