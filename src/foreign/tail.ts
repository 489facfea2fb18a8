// Bounded capture of a child's standard error (or output) for one line of `detail`: only the
// last `limit` bytes are kept, whatever the child writes (a tool that prints 50 MiB costs aenv
// `limit` bytes, not 50 MiB), and every occurrence of the password is replaced before anything
// is kept, also when it arrives split across two reads. The printable line is sanitised: no
// control or bidirectional-override characters, bounded length (shared/CLI.md "A password is
// never printed, logged or written to a report").

const REDACTED = Buffer.from('***');

/** Keeps the last `limit` bytes of a byte stream, with `secret` redacted. */
export class Tail {
  private tail: Buffer = Buffer.alloc(0);
  private carry: Buffer = Buffer.alloc(0);
  private seen = 0;
  private ended = false;

  constructor(readonly limit: number, private readonly secret: Uint8Array | null = null) {
    if (!(limit > 0)) throw new Error('Tail limit must be positive');
    if (secret && secret.length > limit) throw new Error('Tail limit must exceed the secret');
  }

  /** Bytes the stream carried in all. */
  get total(): number {
    return this.seen;
  }

  /** Bytes held now (the bound: at most limit + secret length). */
  get retained(): number {
    return this.tail.length + this.carry.length;
  }

  /** True when bytes were dropped from the front. */
  get truncated(): boolean {
    return this.seen > this.tail.length + this.carry.length;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('Tail already ended');
    this.seen += chunk.length;
    const s = this.secret;
    if (!s || s.length === 0) {
      this.keep(chunk);
      return;
    }
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = buf.indexOf(s, 0); at !== -1; at = buf.indexOf(s, from)) {
      parts.push(buf.subarray(from, at), REDACTED);
      from = at + s.length;
    }
    // The last secret.length - 1 bytes may be the start of a secret completed by the next read.
    const hold = Math.max(from, buf.length - (s.length - 1));
    parts.push(buf.subarray(from, hold));
    this.carry = Buffer.from(buf.subarray(hold)); // a copy: never pin the caller's chunk
    for (const p of parts) this.keep(p);
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

  private keep(b: Uint8Array): void {
    if (b.length === 0) return;
    if (b.length >= this.limit) {
      this.tail = Buffer.from(b.subarray(b.length - this.limit));
      return;
    }
    const joined = Buffer.concat([this.tail, b]);
    this.tail = joined.length > this.limit ? Buffer.from(joined.subarray(joined.length - this.limit)) : joined;
  }

  /** The kept bytes (redacted), as text. */
  text(): string {
    return Buffer.concat([this.tail, this.carry]).toString('utf8');
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
