// The entries of a checksum list (checksums.ts) in a compact form (issue 21.6): a list of
// millions of lines is held in a few typed arrays instead of one JavaScript object and two
// strings per line (which cost about 1.2 KB a line: a 2,000,000-line list took 3.5 GiB).
//
// - every name's UTF-8 bytes one after the other in one buffer, `ends[i]` the end of name i
//   (it starts where name i-1 ends);
// - the 32 bytes of each SHA-256 in one buffer, the line number and the form of each line in
//   parallel arrays;
// - a hash table of entry numbers (open addressing, linear probing, at most half full) keyed by
//   HalfSipHash-2-4 of the name (halfsiphash.ts) under a key drawn at random per process, so that
//   a list written to collide cannot make the lookups slow;
// - the rare later lines that give a listed name another digest, in a map by entry number.
// About 45 bytes per entry plus its name (and up to twice that while an array grows), so
// 2,000,000 entries of 20-byte names take about 130 MB. Entries are numbered from 0 in the
// order of the list; ChecksumEntry objects are made only when asked for.

import { randomBytes } from 'node:crypto';
import { decodeUtf8 } from './lines.js';
import { halfSipHash } from './halfsiphash.js';

export type ChecksumMode = 'text' | 'binary' | 'tagged' | 'reversed';
const MODES: readonly ChecksumMode[] = ['text', 'binary', 'tagged', 'reversed'];

export interface ChecksumEntry {
  /** Canonical relative path (see relpath.ts). */
  path: string;
  /** 64 lowercase hex digits. */
  digest: string;
  /** Line number (1-based) of the first line listing the path. */
  line: number;
  mode: ChecksumMode;
  /** Later lines listing the same path with another digest (each is also a `conflict` problem). */
  conflicts: { line: number; digest: string }[];
}

/** One key for every table of this process: the same list always gives the same table. */
const KEY = randomBytes(8);

/** The first capacity (entries) of the arrays; each doubles when full. */
const FIRST = 256;

export class ChecksumEntries implements Iterable<[string, ChecksumEntry]> {
  #names: Uint8Array = new Uint8Array(FIRST * 32);
  #namesEnd = 0;
  #ends: Uint32Array = new Uint32Array(FIRST);
  #digests: Uint8Array = new Uint8Array(FIRST * 32);
  #lines: Uint32Array = new Uint32Array(FIRST);
  #modes: Uint8Array = new Uint8Array(FIRST);
  #hashes: Uint32Array = new Uint32Array(FIRST);
  /** Entry number + 1 in each slot; 0: empty. */
  #slots = new Int32Array(FIRST * 2);
  #count = 0;
  readonly #conflictsOf = new Map<number, { line: number; digest: string }[]>();

  /** Number of entries (distinct names). */
  get size(): number {
    return this.#count;
  }

  /** The entry number of the name whose UTF-8 bytes are `name`, or -1. */
  find(name: Uint8Array): number {
    return this.lookup(name, halfSipHash(name, KEY));
  }

  /** The entry number of `path`, or -1. */
  indexOf(path: string): number {
    return this.find(Buffer.from(path, 'utf8'));
  }

  has(path: string): boolean {
    return this.indexOf(path) >= 0;
  }

  get(path: string): ChecksumEntry | undefined {
    const i = this.indexOf(path);
    return i < 0 ? undefined : this.entry(i);
  }

  /**
   * Adds the name whose UTF-8 bytes are `name` (not yet listed: see find) with its digest (32
   * bytes), line and form; returns its entry number.
   */
  add(name: Uint8Array, digest: Uint8Array, line: number, mode: ChecksumMode): number {
    const h = halfSipHash(name, KEY);
    if (this.lookup(name, h) >= 0) throw new Error('ChecksumEntries: a name added twice');
    const i = this.#count;
    if (i === this.#ends.length) this.grow();
    if (this.#namesEnd + name.length > this.#names.length) this.#names = grown(this.#names, this.#namesEnd + name.length);
    this.#names.set(name, this.#namesEnd);
    this.#namesEnd += name.length;
    this.#ends[i] = this.#namesEnd;
    this.#digests.set(digest.subarray(0, 32), i * 32);
    this.#lines[i] = line;
    this.#modes[i] = MODES.indexOf(mode);
    this.#hashes[i] = h;
    this.#count++;
    this.place(i);
    return i;
  }

  /** A later line giving entry `i` another digest. */
  addConflict(i: number, line: number, digest: string): void {
    const c = this.#conflictsOf.get(i);
    if (c) c.push({ line, digest });
    else this.#conflictsOf.set(i, [{ line, digest }]);
  }

  /** Whether another line gives entry `i` another digest. */
  conflicted(i: number): boolean {
    return this.#conflictsOf.has(i);
  }

  /** Whether entry `i`'s digest is these 32 bytes. */
  digestIs(i: number, digest: Uint8Array): boolean {
    const d = this.#digests;
    const at = i * 32;
    for (let k = 0; k < 32; k++) if (d[at + k] !== digest[k]) return false;
    return true;
  }

  line(i: number): number {
    return this.#lines[i]!;
  }

  digestHex(i: number): string {
    return Buffer.from(this.#digests.buffer, this.#digests.byteOffset + i * 32, 32).toString('hex');
  }

  path(i: number): string {
    return decodeUtf8(this.nameBytes(i))!;
  }

  /** Entry `i` as an object. */
  entry(i: number): ChecksumEntry {
    return { path: this.path(i), digest: this.digestHex(i), line: this.#lines[i]!, mode: MODES[this.#modes[i]!]!, conflicts: [...(this.#conflictsOf.get(i) ?? [])] };
  }

  *keys(): IterableIterator<string> {
    for (let i = 0; i < this.#count; i++) yield this.path(i);
  }

  *values(): IterableIterator<ChecksumEntry> {
    for (let i = 0; i < this.#count; i++) yield this.entry(i);
  }

  *entries(): IterableIterator<[string, ChecksumEntry]> {
    for (let i = 0; i < this.#count; i++) {
      const e = this.entry(i);
      yield [e.path, e];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, ChecksumEntry]> {
    return this.entries();
  }

  private nameBytes(i: number): Uint8Array {
    return this.#names.subarray(i === 0 ? 0 : this.#ends[i - 1]!, this.#ends[i]!);
  }

  private lookup(name: Uint8Array, h: number): number {
    const mask = this.#slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = this.#slots[s]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.#hashes[i] === h && sameBytes(this.nameBytes(i), name)) return i;
    }
  }

  private place(i: number): void {
    if (this.#count * 2 > this.#slots.length) {
      this.#slots = new Int32Array(this.#slots.length * 2);
      for (let k = 0; k < this.#count; k++) this.slot(k);
    } else {
      this.slot(i);
    }
  }

  private slot(i: number): void {
    const mask = this.#slots.length - 1;
    let s = this.#hashes[i]! & mask;
    while (this.#slots[s] !== 0) s = (s + 1) & mask;
    this.#slots[s] = i + 1;
  }

  private grow(): void {
    const n = this.#ends.length * 2;
    this.#ends = resized(this.#ends, n);
    this.#lines = resized(this.#lines, n);
    this.#hashes = resized(this.#hashes, n);
    this.#modes = resized(this.#modes, n);
    this.#digests = resized(this.#digests, n * 32);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function resized<T extends Uint8Array | Uint32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** `a` doubled until it holds `need` bytes. */
function grown(a: Uint8Array, need: number): Uint8Array {
  let n = a.length * 2;
  while (n < need) n *= 2;
  return resized(a, n);
}
