// Checksum lists in the format of GNU coreutils `sha256sum` (coreutils src/digest.c: split_3,
// bsd_split_3, filename_unescape, output_file, digest_check; behaviour checked against
// sha256sum 9.1 in test/batch-checksums.test.ts), for `verify --checksums`, `decrypt
// --checksums` and `verify --write-checksums` (docs/batches.md "Checksum lists").
//
// Reading, as `sha256sum -c` reads:
// - lines end in LF; one CR before it is removed (CRLF files); empty lines are skipped;
//   a line whose first byte is `#` is a comment (coreutils 9 skips these too);
// - `HEX  NAME` (text mode) or `HEX *NAME` (binary mode; no difference on GNU), HEX being 64
//   hex digits in either case; everything after the mode character is the name, leading and
//   trailing spaces included;
// - `SHA256 (NAME) = HEX`, what `sha256sum --tag` and BSD `sha256` write (also `SHA256(NAME)= HEX`
//   of OpenSSL 1.x): the name ends at the last `)`;
// - `HEX NAME` with one space ("BSD reversed", `sha256 -r`): accepted only if the list's first
//   checksum line had that form, and then every later line is read that way, as coreutils does;
// - a line starting with `\` has an escaped name: `\\` is a backslash, `\n` a newline, `\r` a
//   carriage return; any other escape, or a trailing lone backslash, makes the line improperly
//   formatted. Spaces or tabs before the digest (or before the `\`) are skipped.
// Anything else is improperly formatted, reported with its line number.
//
// Where aenv is stricter than coreutils, because the names are paths below one folder: a name is
// made canonical (`./a//b` -> `a/b`); an absolute name, a `..` segment, a trailing `/`, the name
// `-` (standard input to sha256sum) and names with NUL are errors of their line; a line that is
// not UTF-8 is an error of its line (Node.js cannot open such names anyway); a name listed twice
// is a warning (same digest) or an error (another digest).
//
// Limits (docs/checksum-lists.md), so that a list, hostile or mistaken (a disk image given as
// a list), cannot make aenv allocate without bound: a line of more than MAX_CHECKSUM_LINE bytes
// is an error of its line (not kept); a list of more than MAX_CHECKSUM_ENTRIES entries or
// MAX_CHECKSUM_BYTES bytes is refused as a whole (ChecksumLimitError, with the line); the first
// MAX_KEPT_PROBLEMS problems are kept, the others counted. The entries are held compactly
// (checksum-table.ts): about 45 bytes per entry plus its name.
//
// Writing, as `sha256sum` writes: `HEX  NAME\n` (or `HEX *NAME` with binary, `SHA256 (NAME) = HEX`
// with tag); a name holding a backslash, LF or CR gets a leading `\` on the line and those three
// characters escaped. A name `-` is written `./-`, so that `sha256sum -c` does not read stdin.

import { ChecksumEntries, type ChecksumMode } from './checksum-table.js';
import { BatchError } from './errors.js';
import { decodeUtf8, RecordSplitter } from './lines.js';
import { compareUtf8, normalizeListPath, quoteName, relPathProblem } from './relpath.js';

export { ChecksumEntries, type ChecksumEntry, type ChecksumMode } from './checksum-table.js';

export type ChecksumProblemKind =
  | 'format' // improperly formatted, as sha256sum -c calls it
  | 'encoding' // not UTF-8
  | 'too-long'
  | 'path' // absolute, .., trailing /, -, empty
  | 'conflict' // the path again, with another digest
  | 'duplicate' // the path again, same digest (a warning)
  | 'empty'; // no checksum line at all (line 0)

export interface ChecksumProblem {
  /** 1-based line number; 0 for the list as a whole. */
  line: number;
  kind: ChecksumProblemKind;
  severity: 'error' | 'warning';
  /** One line, without the list's name or the line number. */
  message: string;
}

export interface ChecksumList {
  /** Entries by canonical path, in the order of the list. */
  entries: ChecksumEntries;
  /** The first MAX_KEPT_PROBLEMS problems, in the order of the lines. */
  problems: ChecksumProblem[];
  /** Problems beyond those kept, by severity. */
  unkept: { errors: number; warnings: number };
  /** Number of lines read. */
  lines: number;
}

/** The longest line read (without its end): a name of PATH_MAX (4096) bytes escaped, twice over. */
export const MAX_CHECKSUM_LINE = 16 * 1024;
/** The most entries a list may have: ten million files (a manifest holds one million). */
export const MAX_CHECKSUM_ENTRIES = 10_000_000;
/** The longest list read: 2 GiB (ten million lines of 200 bytes). */
export const MAX_CHECKSUM_BYTES = 2 * 1024 * 1024 * 1024;
/** Problems kept one by one (each printed); the rest are counted. */
export const MAX_KEPT_PROBLEMS = 1000;

/** A list beyond MAX_CHECKSUM_ENTRIES or MAX_CHECKSUM_BYTES: refused as a whole. */
export class ChecksumLimitError extends BatchError {
  constructor(message: string, readonly line: number) {
    super(message, 'split the list and the tree into parts (one list per folder, or per --shard K/N part), each within the limits');
  }
}

const HEX64_ANY_CASE = /^[0-9a-fA-F]{64}$/;
const TAG = 'SHA256';
/** 64 hex digits, a blank, a one-character name (coreutils MIN_DIGEST_LINE_LENGTH). */
const MIN_LINE_BYTES = 64 + 1 + 1;

const isWhite = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** coreutils filename_unescape: `\\`, `\n`, `\r`; anything else after a backslash is invalid. */
export function unescapeName(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const d = s[++i];
    if (d === 'n') out += '\n';
    else if (d === 'r') out += '\r';
    else if (d === '\\') out += '\\';
    else return null; // another escape, or a lone backslash at the end
  }
  return out;
}

/** coreutils problematic_chars: a name with a backslash, LF or CR is written escaped. */
export function needsEscape(name: string): boolean {
  return /[\\\n\r]/.test(name);
}

/** coreutils print_filename with escaping. */
export function escapeName(name: string): string {
  return name.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

export interface ChecksumLine {
  /** The digest as written (either case). */
  digest: string;
  /** The name as sha256sum would open it: unescaped, not yet made canonical. */
  name: string;
  mode: ChecksumMode;
}

/**
 * coreutils split_3 (and bsd_split_3), line by line, with its one piece of state: whether the
 * list uses the "BSD reversed" form `HEX NAME`. `read` takes one line without its LF, CR and
 * comment handling (see ChecksumListParser) and gives the digest and name, or null for an
 * improperly formatted line.
 */
export class ChecksumLineReader {
  /** coreutils bsd_reversed: -1 undecided, 0 standard lines seen, 1 reversed lines seen. */
  private reversed: -1 | 0 | 1 = -1;

  read(s: string): ChecksumLine | null {
    if (s.includes('\0')) return null;
    let i = 0;
    while (isWhite(s[i])) i++;
    let escaped = false;
    if (s[i] === '\\') {
      i++;
      escaped = true;
    }
    if (s.startsWith(TAG, i)) {
      i += TAG.length;
      if (s[i] === ' ') i++;
      if (s[i] !== '(') return null;
      return bsdSplit3(s.slice(i + 1), escaped);
    }
    // The prefix skipped so far is ASCII, so the bytes left are the UTF-8 length of the rest.
    if (Buffer.byteLength(s) - i < MIN_LINE_BYTES + (s[i] === '\\' ? 1 : 0)) return null;
    const start = i;
    while (i < s.length && !isWhite(s[i])) i++;
    if (i === s.length) return null; // the digest must be followed by a blank
    const digest = s.slice(start, i);
    i++;
    if (!HEX64_ANY_CASE.test(digest)) return null;
    let mode: ChecksumMode;
    if (s.length - i === 1 || (s[i] !== ' ' && s[i] !== '*')) {
      // "HEX NAME": allowed only when the list began that way (no mixing: a name with a leading
      // blank or * could otherwise be read two ways).
      if (this.reversed === 0) return null;
      this.reversed = 1;
      mode = 'reversed';
    } else if (this.reversed !== 1) {
      this.reversed = 0;
      mode = s[i] === '*' ? 'binary' : 'text';
      i++;
    } else {
      mode = 'reversed';
    }
    let name: string | null = s.slice(i);
    if (escaped) name = unescapeName(name);
    return name === null ? null : { digest, name, mode };
  }
}

/** coreutils bsd_split_3: `NAME) = HEX`, the name ending at the last `)`. */
function bsdSplit3(s: string, escaped: boolean): ChecksumLine | null {
  if (s.length === 0) return null;
  let i = s.length - 1;
  while (i > 0 && s[i] !== ')') i--;
  if (s[i] !== ')') return null;
  let name: string | null = s.slice(0, i);
  if (escaped) name = unescapeName(name);
  if (name === null) return null;
  i++;
  while (isWhite(s[i])) i++;
  if (s[i] !== '=') return null;
  i++;
  while (isWhite(s[i])) i++;
  const digest = s.slice(i);
  return HEX64_ANY_CASE.test(digest) ? { digest, name, mode: 'tagged' } : null;
}

/**
 * Reads a checksum list chunk by chunk; `end` gives the list. Memory: the entries (compact, see
 * checksum-table.ts), at most MAX_KEPT_PROBLEMS problems, and one line of at most
 * MAX_CHECKSUM_LINE bytes. Throws ChecksumLimitError past MAX_CHECKSUM_BYTES or MAX_CHECKSUM_ENTRIES.
 */
export class ChecksumListParser {
  private readonly splitter = new RecordSplitter(0x0a, MAX_CHECKSUM_LINE);
  private readonly reader = new ChecksumLineReader();
  private readonly list: ChecksumList = { entries: new ChecksumEntries(), problems: [], unkept: { errors: 0, warnings: 0 }, lines: 0 };
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxEntries: number;

  /** The limits are the constants above; tests give smaller ones. */
  constructor(limits: { maxBytes?: number; maxEntries?: number } = {}) {
    this.maxBytes = limits.maxBytes ?? MAX_CHECKSUM_BYTES;
    this.maxEntries = limits.maxEntries ?? MAX_CHECKSUM_ENTRIES;
  }

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      const done = this.splitter.count - (this.splitter.openBytes > 0 ? 1 : 0); // whole lines before this chunk
      const line = done + countByte(chunk, 0x0a, chunk.length - (this.bytes - this.maxBytes)) + 1;
      throw new ChecksumLimitError(`line ${line}: the list is longer than ${sizeText(this.maxBytes)}, the most aenv reads`, line);
    }
    for (const r of this.splitter.push(chunk)) this.line(r.n, r.bytes, r.length);
  }

  end(): ChecksumList {
    for (const r of this.splitter.end()) this.line(r.n, r.bytes, r.length);
    this.list.lines = this.splitter.count;
    if (this.list.entries.size === 0) this.problem(0, 'empty', 'no properly formatted SHA256 checksum lines found');
    return this.list;
  }

  private problem(line: number, kind: ChecksumProblemKind, message: string): void {
    const severity = kind === 'duplicate' ? 'warning' : 'error';
    if (this.list.problems.length < MAX_KEPT_PROBLEMS || kind === 'empty') this.list.problems.push({ line, kind, severity, message });
    else this.list.unkept[severity === 'error' ? 'errors' : 'warnings']++;
  }

  private line(n: number, bytes: Uint8Array | null, length: number): void {
    if (bytes === null) {
      this.problem(n, 'too-long', `line of ${length} bytes is longer than ${MAX_CHECKSUM_LINE}: not a checksum line`);
      return;
    }
    if (bytes[0] === 0x23) return; // '#': a comment
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--; // CRLF
    if (end === 0) return; // an empty line
    const s = decodeUtf8(bytes.subarray(0, end));
    if (s === null) {
      this.problem(n, 'encoding', 'the line is not valid UTF-8; rename the file to a UTF-8 name and write the list again');
      return;
    }
    const sp = this.reader.read(s);
    if (sp === null) {
      this.problem(n, 'format', `improperly formatted SHA256 checksum line${s.includes('\0') ? ' (it holds a NUL byte)' : ''}`);
      return;
    }
    if (sp.name === '-') {
      this.problem(n, 'path', 'the name - means standard input to sha256sum, not a file; list a file named - as ./-');
      return;
    }
    const norm = normalizeListPath(sp.name);
    if ('error' in norm) {
      this.problem(n, 'path', `${quoteName(sp.name)}: ${norm.error}`);
      return;
    }
    const digest = Buffer.from(sp.digest, 'hex');
    const entries = this.list.entries;
    const name = Buffer.from(norm.path, 'utf8');
    const first = entries.find(name);
    if (first < 0) {
      if (entries.size >= this.maxEntries) {
        throw new ChecksumLimitError(`line ${n}: the list has more than ${this.maxEntries.toLocaleString('en-US')} entries, the most aenv holds`, n);
      }
      entries.add(name, digest, n, sp.mode);
    } else if (entries.digestIs(first, digest)) {
      this.problem(n, 'duplicate', `${quoteName(norm.path)} is listed again (first on line ${entries.line(first)}), with the same digest`);
    } else {
      entries.addConflict(first, n, digest.toString('hex'));
      this.problem(n, 'conflict', `${quoteName(norm.path)} is listed again (first on line ${entries.line(first)}) with another digest`);
    }
  }
}

/** `n` bytes, with its size in GiB or MiB when it is a whole number of them. */
function sizeText(n: number): string {
  const unit = n % 2 ** 30 === 0 ? [2 ** 30, 'GiB'] as const : n % 2 ** 20 === 0 ? [2 ** 20, 'MiB'] as const : null;
  return `${n.toLocaleString('en-US')} bytes${unit ? ` (${n / unit[0]} ${unit[1]})` : ''}`;
}

/** How many bytes `b` are in chunk[0, end). */
function countByte(chunk: Uint8Array, b: number, end: number): number {
  let n = 0;
  for (let i = chunk.indexOf(b); i >= 0 && i < end; i = chunk.indexOf(b, i + 1)) n++;
  return n;
}

/** Parses a whole list held in memory. */
export function parseChecksumList(bytes: Uint8Array): ChecksumList {
  const p = new ChecksumListParser();
  p.push(bytes);
  return p.end();
}

/** Problems as `sha256sum -c` words them: `LIST: LINE: message` (line 0: `LIST: message`). */
export function problemLines(listName: string, problems: readonly ChecksumProblem[]): string[] {
  return problems.map((p) => (p.line > 0 ? `${listName}: ${p.line}: ${p.message}` : `${listName}: ${p.message}`));
}

/** The counts `sha256sum -c` warns with: "N lines are improperly formatted" covers every error line. `unkept`: the list's problems beyond those kept. */
export function problemCounts(problems: readonly ChecksumProblem[], unkept = { errors: 0, warnings: 0 }): { errors: number; warnings: number } {
  let errors = 0;
  for (const p of problems) if (p.severity === 'error') errors++;
  return { errors: errors + unkept.errors, warnings: problems.length - errors + unkept.warnings };
}

export interface FormatOptions {
  /** `SHA256 (NAME) = HEX`, as `sha256sum --tag` writes. */
  tag?: boolean;
  /** `HEX *NAME`, as `sha256sum --binary` writes (ignored with tag). */
  binary?: boolean;
}

function hexDigest(d: string | Uint8Array): string {
  const hex = typeof d === 'string' ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
  if (!HEX64_ANY_CASE.test(hex)) throw new BatchError(`digest ${JSON.stringify(typeof d === 'string' ? d : hex)} is not 64 hex digits (SHA-256)`, 'pass the SHA-256 digest as 32 bytes or 64 hex digits');
  return hex.toLowerCase();
}

/** One line, LF included, exactly as sha256sum writes it for the file `path` below the folder. */
export function formatChecksumLine(path: string, digest: string | Uint8Array, opt: FormatOptions = {}): string {
  const bad = relPathProblem(path);
  if (bad) throw new BatchError(`cannot list ${quoteName(path)}: ${bad}`, 'list entries are paths relative to the folder, with / between names');
  const hex = hexDigest(digest);
  const name = path === '-' ? './-' : path;
  const esc = needsEscape(name);
  const shown = esc ? escapeName(name) : name;
  const lead = esc ? '\\' : '';
  return opt.tag ? `${lead}${TAG} (${shown}) = ${hex}\n` : `${lead}${hex} ${opt.binary ? '*' : ' '}${shown}\n`;
}

/** A whole list, in UTF-8 byte order of the paths (deterministic); a path given twice is an error. */
export function formatChecksumList(items: Iterable<{ path: string; digest: string | Uint8Array }>, opt: FormatOptions = {}): string {
  const all = [...items].sort((a, b) => compareUtf8(a.path, b.path));
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    if (i > 0 && all[i]!.path === all[i - 1]!.path) {
      throw new BatchError(`${quoteName(all[i]!.path)} would be listed twice`, 'each file is listed once; this is a bug in the caller');
    }
    out.push(formatChecksumLine(all[i]!.path, all[i]!.digest, opt));
  }
  return out.join('');
}
