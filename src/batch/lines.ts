// Splitting a byte stream into records at a delimiter byte (newline, or NUL for `-0`), chunk by
// chunk, for the list readers of src/batch (checksum lists, --files-from, the manifest, JSON
// reports). Memory is bounded by `maxBytes`: a longer record is not kept, only counted, and comes
// out as too long with its number, so a hostile or mistaken input (a binary file given as a list)
// cannot make aenv buffer without bound. Pure: bytes in, records out.

export interface RecordPiece {
  /** 1-based number of the record (the line number for newline-separated input). */
  n: number;
  /** The record's bytes without the delimiter; null when it was longer than maxBytes. */
  bytes: Uint8Array | null;
  /** Its length in bytes (also when too long). */
  length: number;
  /** False for a last record that the input ended without a delimiter after. */
  terminated: boolean;
}

export class RecordSplitter {
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  private n = 0;
  private ended = false;

  /**
   * @param delimiter the byte that ends a record: 0x0a (newline) or 0x00 (NUL)
   * @param maxBytes the longest record kept (without its delimiter)
   */
  constructor(readonly delimiter: number, readonly maxBytes: number) {}

  /** Records completed by this chunk, in order. */
  push(chunk: Uint8Array): RecordPiece[] {
    if (this.ended) throw new Error('RecordSplitter: push after end');
    const out: RecordPiece[] = [];
    let pos = 0;
    while (pos <= chunk.length) {
      const idx = chunk.indexOf(this.delimiter, pos);
      if (idx < 0) {
        this.keep(chunk.subarray(pos));
        break;
      }
      this.keep(chunk.subarray(pos, idx));
      out.push(this.take(true));
      pos = idx + 1;
    }
    return out;
  }

  /** The last record when the input did not end with a delimiter (else nothing). */
  end(): RecordPiece[] {
    if (this.ended) return [];
    this.ended = true;
    return this.pendingLen > 0 ? [this.take(false)] : [];
  }

  /** Records seen so far, counting one still open. */
  get count(): number {
    return this.n + (this.pendingLen > 0 ? 1 : 0);
  }

  /** Bytes of the record still open (counted also when it is too long to keep). */
  get openBytes(): number {
    return this.pendingLen;
  }

  private keep(part: Uint8Array): void {
    if (part.length === 0) return;
    const total = this.pendingLen + part.length;
    if (total <= this.maxBytes) this.pending.push(part.slice()); // a copy: the caller may reuse its buffer
    else this.pending = []; // too long: counted, not kept
    this.pendingLen = total;
  }

  private take(terminated: boolean): RecordPiece {
    const length = this.pendingLen;
    let bytes: Uint8Array | null = null;
    if (length <= this.maxBytes) {
      if (this.pending.length === 1) bytes = this.pending[0]!;
      else {
        bytes = new Uint8Array(length);
        let off = 0;
        for (const p of this.pending) {
          bytes.set(p, off);
          off += p.length;
        }
      }
    }
    this.pending = [];
    this.pendingLen = 0;
    this.n++;
    return { n: this.n, bytes, length, terminated };
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as a string when they are valid UTF-8 (RFC 3629), else null. A BOM is kept as U+FEFF. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The bytes shown for a message: printable ASCII as it is, everything else as \xNN. */
export function escapeBytes(bytes: Uint8Array, max = 200): string {
  let s = '';
  for (const c of bytes.subarray(0, max)) {
    s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${s}...` : s;
}
