// --files-from FILE (`-` for standard input) and -0 (docs/batches.md "Inputs from a list"): the
// PATHs of a run, one per line or NUL-separated, read chunk by chunk so a list of any size streams
// through in bounded memory (one entry of at most MAX_ENTRY_BYTES at a time). The rules, as `xargs
// -d '\n'`/`xargs -0`, `tar -T`/`tar --null -T` and `rsync --files-from [--from0]` read lists:
//
// - newline mode (default): entries end at LF; one CR before the LF is removed (CRLF lists); a
//   UTF-8 byte order mark at the very start is removed (Windows editors); names cannot hold LF or
//   end in CR in this mode (use -0); a line holding a NUL byte is reported (the list is probably
//   NUL-separated: add -0);
// - NUL mode (-0): entries end at NUL and are taken byte for byte (LF, CR, spaces and all); if the
//   whole list holds no NUL but does hold LFs, it is reported as newline-separated (drop -0)
//   instead of being taken as one name with newlines in it;
// - both: empty entries are skipped (so a final LF or NUL, or blank lines, add nothing); the last
//   entry needs no terminator; leading and trailing spaces belong to the name; there are no
//   comments (a name may start with #); an entry that is not valid UTF-8 (RFC 3629) is reported
//   with its number and bytes, never changed into another name (Node.js could not open it).
//
// Entries are paths as on the command line (relative to the working folder, or absolute); the
// caller walks them like PATH arguments. Duplicates are not removed here (the walk drops a file
// reached twice).

import { decodeUtf8, escapeBytes, RecordSplitter } from './lines.js';

/** Longer than any path Linux opens (PATH_MAX 4096); longer entries are reported, not kept. */
export const MAX_ENTRY_BYTES = 65536;

export interface FilesFromOptions {
  /** -0: entries end at NUL instead of LF. */
  nul: boolean;
  maxEntryBytes?: number;
}

export type FilesFromItem =
  | { kind: 'path'; path: string; /** line (or NUL-entry) number, 1-based */ n: number }
  | { kind: 'problem'; n: number; message: string; hint: string };

const NOT_UTF8_HINT = 'rename the file to a UTF-8 name (e.g. convmv -f latin1 -t utf8 --notest) and list it again';

export class FilesFromParser {
  private readonly splitter: RecordSplitter;
  private readonly what: string;
  private sawNul = false;
  private sawLf = false;
  private atStart = true;
  /** Newline mode: the first bytes while they may still be a split byte order mark. */
  private bomPart = new Uint8Array(0);
  /** NUL mode: the first entry, held until a NUL shows that the list really is NUL-separated. */
  private held: { n: number; bytes: Uint8Array | null; length: number } | null = null;
  private count = 0;

  constructor(private readonly opt: FilesFromOptions) {
    this.splitter = new RecordSplitter(opt.nul ? 0x00 : 0x0a, opt.maxEntryBytes ?? MAX_ENTRY_BYTES);
    this.what = opt.nul ? 'entry' : 'line';
  }

  /** Paths listed so far. */
  get paths(): number {
    return this.count;
  }

  push(chunk: Uint8Array): FilesFromItem[] {
    if (chunk.length === 0) return [];
    if (this.opt.nul) {
      if (!this.sawLf && chunk.includes(0x0a)) this.sawLf = true;
      if (!this.sawNul && chunk.includes(0x00)) this.sawNul = true;
    }
    if (this.atStart && !this.opt.nul) chunk = this.dropBom(chunk);
    const out: FilesFromItem[] = [];
    for (const r of this.splitter.push(chunk)) this.record(r.n, r.bytes, r.length, out);
    return out;
  }

  end(): FilesFromItem[] {
    const out: FilesFromItem[] = [];
    if (this.atStart && this.bomPart.length > 0) {
      // the input ended inside what looked like a byte order mark: those bytes are the list
      const part = this.bomPart;
      this.bomPart = new Uint8Array(0);
      this.atStart = false;
      for (const r of this.splitter.push(part)) this.record(r.n, r.bytes, r.length, out);
    }
    for (const r of this.splitter.end()) this.record(r.n, r.bytes, r.length, out);
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      if (!this.sawNul && this.sawLf) {
        out.push({
          kind: 'problem', n: 1, message: 'the list holds no NUL byte but has line breaks: it looks newline-separated',
          hint: 'drop -0 for a list with one path per line (-0 is for lists from find -print0 and the like)',
        });
      } else this.emit(h.n, h.bytes, h.length, out);
    }
    return out;
  }

  /** Removes EF BB BF at the very start of a newline list (it may arrive split over chunks). */
  private dropBom(chunk: Uint8Array): Uint8Array {
    const BOM = [0xef, 0xbb, 0xbf];
    const joined = this.bomPart.length ? concat(this.bomPart, chunk) : chunk;
    for (let i = 0; i < Math.min(3, joined.length); i++) {
      if (joined[i] !== BOM[i]) {
        this.atStart = false;
        this.bomPart = new Uint8Array(0);
        return joined;
      }
    }
    if (joined.length < 3) {
      this.bomPart = joined.slice();
      return new Uint8Array(0);
    }
    this.atStart = false;
    this.bomPart = new Uint8Array(0);
    return joined.subarray(3);
  }

  private record(n: number, bytes: Uint8Array | null, length: number, out: FilesFromItem[]): void {
    if (this.opt.nul && n === 1 && !this.sawNul) {
      // Only reached at the end of input (a record ends at a NUL otherwise): decided in end().
      this.held = { n, bytes, length };
      return;
    }
    this.emit(n, bytes, length, out);
  }

  private emit(n: number, bytes: Uint8Array | null, length: number, out: FilesFromItem[]): void {
    const max = this.opt.maxEntryBytes ?? MAX_ENTRY_BYTES;
    if (bytes === null) {
      const hint = this.opt.nul && !this.sawNul
        ? 'the list holds no NUL byte so far: if it has one path per line, drop -0'
        : `no path is that long; is FILE really a list of paths${this.opt.nul ? ' separated by NUL' : ', one per line'}?`;
      out.push({ kind: 'problem', n, message: `${this.what} ${n} is ${length} bytes long, more than ${max}`, hint });
      return;
    }
    let end = bytes.length;
    if (!this.opt.nul && end > 0 && bytes[end - 1] === 0x0d) end--;
    if (end === 0) return;
    const raw = bytes.subarray(0, end);
    if (!this.opt.nul && raw.includes(0x00)) {
      out.push({
        kind: 'problem', n, message: `line ${n} holds a NUL byte: the list looks NUL-separated`,
        hint: 'add -0 for a list from find -print0 (or any NUL-separated list)',
      });
      return;
    }
    const s = decodeUtf8(raw);
    if (s === null) {
      out.push({ kind: 'problem', n, message: `${this.what} ${n} is not valid UTF-8 (bytes: "${escapeBytes(raw)}")`, hint: NOT_UTF8_HINT });
      return;
    }
    this.count++;
    out.push({ kind: 'path', path: s, n });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A whole list held in memory. */
export function parseFilesFrom(bytes: Uint8Array, opt: FilesFromOptions): FilesFromItem[] {
  const p = new FilesFromParser(opt);
  return [...p.push(bytes), ...p.end()];
}

/** Streams a list (e.g. process.stdin, or fs.createReadStream(FILE)) entry by entry. */
export async function* readFilesFrom(source: AsyncIterable<Uint8Array>, opt: FilesFromOptions): AsyncGenerator<FilesFromItem> {
  const p = new FilesFromParser(opt);
  for await (const chunk of source) yield* p.push(chunk);
  yield* p.end();
}
