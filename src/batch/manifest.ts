// The sealed batch manifest's plaintext, AENV-MANIFEST/1 (normative text: docs/MANIFEST.md).
// `encrypt DIR -o OUT --manifest` seals it as an ordinary AENV/1 envelope (same password, the
// run's salt) at OUT/.aenv-manifest.aspera-env; verify and decrypt open it and compare the tree
// with it (manifest-check.ts). This file is the text inside: pure, bytes in, values out.
//
//   AENV-MANIFEST/1\n
//   batch <salt: 64 lowercase hex>\n
//   entries <N>\n
//   <file_nonce: 64 hex> <content_digest: 64 hex> <plaintext size> <path, percent-escaped>\n   x N
//
// One canonical form: lowercase hex, decimal without leading zeros, entries in strictly
// increasing UTF-8 byte order of their paths, every line ended by LF, nothing after the last
// entry. Path bytes 0x00-0x20, 0x25 (%) and 0x7F are written %XX (uppercase hex) and no other byte
// is. Decoding is strict (anything not in the canonical form is an error with its line number) and
// bounded (MAX_ENTRIES, MAX_PATH_BYTES, MAX_MANIFEST_BYTES, checked before anything is kept).

import { decodeUtf8, RecordSplitter } from './lines.js';
import { compareUtf8, quoteName, relPathProblem } from './relpath.js';

export const MANIFEST_MAGIC = 'AENV-MANIFEST/1';
/** The manifest's name at the root of the tree is this stem followed by the envelope extension. */
export const MANIFEST_STEM = '.aenv-manifest';
export const MAX_ENTRIES = 1_000_000;
export const MAX_PATH_BYTES = 4096;
/** The longest entry line: two digests, a size of up to 16 digits, a path escaped throughout. */
export const MAX_LINE_BYTES = 64 + 1 + 64 + 1 + 16 + 1 + 3 * MAX_PATH_BYTES;
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export interface ManifestEntry {
  /** Envelope path relative to the tree's root, canonical (relpath.ts), e.g. `a/b.csv.aspera-env`. */
  path: string;
  /** Plaintext size in bytes. */
  size: number;
  /** The envelope's header file_nonce, 64 lowercase hex digits. */
  nonce: string;
  /** The envelope's trailer content_digest, 64 lowercase hex digits. */
  digest: string;
}

export interface Manifest {
  /** The batch's salt (the header salt of the files sealed in the run), 64 lowercase hex digits. */
  salt: string;
  /** In path order (UTF-8 bytes). */
  entries: ManifestEntry[];
  /** Index into entries by path, and by nonce. */
  byPath: Map<string, number>;
  byNonce: Map<string, number>;
}

/** A manifest that is not in the canonical form, or beyond the limits. */
export class ManifestError extends Error {
  constructor(message: string, readonly line: number, readonly hint = 'the manifest is damaged or was not written by aenv; check the tree without it (or seal it again)') {
    super(line > 0 ? `manifest line ${line}: ${message}` : `manifest: ${message}`);
    this.name = 'ManifestError';
  }
}

/** The manifest's file name at the root of a tree whose envelopes end in `extension`. */
export function manifestName(extension = '.aspera-env'): string {
  return MANIFEST_STEM + extension;
}

/** Whether `rel` (a path relative to a walked folder, `/`-separated) is that folder's manifest. */
export function isManifestPath(rel: string, extension = '.aspera-env'): boolean {
  return rel === manifestName(extension);
}

/** Whether a file name anywhere is a manifest's name (one below the root is not used, but not decrypted either). */
export function isManifestName(name: string, extension = '.aspera-env'): boolean {
  return name === manifestName(extension);
}

const LOWER_HEX64 = /^[0-9a-f]{64}$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;
const escaped = (c: number): boolean => c <= 0x20 || c === 0x25 || c === 0x7f;

export function escapePath(p: string): string {
  let out = '';
  for (const ch of p) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && escaped(c) ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** The path of an entry line's last field, or a reason why it is not in the canonical form. */
export function unescapePath(field: string): { path: string } | { error: string } {
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c === 0x25) {
      const hex = field.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return { error: `% not followed by two uppercase hex digits at ${quoteName(field.slice(i, i + 3))}` };
      const v = parseInt(hex, 16);
      if (!escaped(v)) return { error: `%${hex} escapes a byte that is written as it is` };
      out += String.fromCharCode(v);
      i += 2;
    } else if (escaped(c)) {
      return { error: `byte 0x${c.toString(16).padStart(2, '0')} must be written %${c.toString(16).toUpperCase().padStart(2, '0')}` };
    } else {
      out += field[i];
    }
  }
  return { path: out };
}

function hexOf(v: string | Uint8Array, what: string): string {
  const h = typeof v === 'string' ? v.toLowerCase() : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (!LOWER_HEX64.test(h)) throw new ManifestError(`${what} is not 32 bytes (64 hex digits)`, 0, 'this is a bug in the caller');
  return h;
}

function checkEntry(e: ManifestEntry, line: number): void {
  const bad = relPathProblem(e.path);
  if (bad) throw new ManifestError(`path ${quoteName(e.path)}: ${bad}`, line);
  if (Buffer.byteLength(e.path) > MAX_PATH_BYTES) throw new ManifestError(`path of ${Buffer.byteLength(e.path)} bytes is longer than ${MAX_PATH_BYTES}`, line);
  if (!Number.isSafeInteger(e.size) || e.size < 0) throw new ManifestError(`size ${e.size} is not a whole number from 0 to 2^53-1`, line);
}

/**
 * The manifest's bytes in pieces of about 64 KiB (to feed an envelope encoder), for the batch
 * `salt` and its `entries` in any order. Throws ManifestError for a bad entry, a path or nonce
 * twice, or more than MAX_ENTRIES entries.
 */
export function* encodeManifest(salt: string | Uint8Array, entries: Iterable<ManifestEntry>): Generator<Uint8Array> {
  const s = hexOf(salt, 'the batch salt');
  const all = [...entries].map((e) => ({ ...e, nonce: hexOf(e.nonce, `the file nonce of ${quoteName(e.path)}`), digest: hexOf(e.digest, `the content digest of ${quoteName(e.path)}`) }));
  if (all.length > MAX_ENTRIES) throw new ManifestError(`${all.length} envelopes are more than one manifest holds (${MAX_ENTRIES})`, 0, 'seal the tree in parts of at most 1,000,000 files, each with its own -o folder');
  all.sort((a, b) => compareUtf8(a.path, b.path));
  const nonces = new Set<string>();
  let text = `${MANIFEST_MAGIC}\nbatch ${s}\nentries ${all.length}\n`;
  let total = 0;
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    checkEntry(e, 0);
    if (i > 0 && all[i - 1]!.path === e.path) throw new ManifestError(`path ${quoteName(e.path)} is listed twice`, 0, 'this is a bug in the caller');
    if (nonces.has(e.nonce)) throw new ManifestError(`file nonce ${e.nonce} is listed twice`, 0, 'two envelopes with one nonce: one is a copy of the other');
    nonces.add(e.nonce);
    text += `${e.nonce} ${e.digest} ${e.size} ${escapePath(e.path)}\n`;
    if (text.length >= 65536) {
      const piece = Buffer.from(text, 'utf8');
      total += piece.length;
      if (total > MAX_MANIFEST_BYTES) throw new ManifestError(`longer than ${MAX_MANIFEST_BYTES} bytes`, 0, 'seal the tree in smaller parts');
      yield piece;
      text = '';
    }
  }
  const last = Buffer.from(text, 'utf8');
  if (total + last.length > MAX_MANIFEST_BYTES) throw new ManifestError(`longer than ${MAX_MANIFEST_BYTES} bytes`, 0, 'seal the tree in smaller parts');
  if (last.length > 0) yield last;
}

/** The whole manifest as one buffer. */
export function encodeManifestBytes(salt: string | Uint8Array, entries: Iterable<ManifestEntry>): Uint8Array {
  return Buffer.concat([...encodeManifest(salt, entries)]);
}

/**
 * Reads a manifest chunk by chunk (as the envelope decoder releases verified plaintext);
 * `push` and `end` throw ManifestError at the first departure from the canonical form.
 */
export class ManifestDecoder {
  private readonly splitter = new RecordSplitter(0x0a, MAX_LINE_BYTES);
  private bytes = 0;
  private salt = '';
  private declared = -1;
  private readonly entries: ManifestEntry[] = [];
  private readonly byPath = new Map<string, number>();
  private readonly byNonce = new Map<string, number>();

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > MAX_MANIFEST_BYTES) throw new ManifestError(`longer than ${MAX_MANIFEST_BYTES} bytes`, 0);
    for (const r of this.splitter.push(chunk)) this.line(r.n, r.bytes, r.length);
    const open = this.splitter.openBytes;
    if (open > MAX_LINE_BYTES) throw new ManifestError(`line of more than ${MAX_LINE_BYTES} bytes`, this.splitter.count);
  }

  end(): Manifest {
    for (const r of this.splitter.end()) {
      if (r.n > 3 + Math.max(this.declared, 0)) throw new ManifestError('data after the last entry', r.n);
      throw new ManifestError('the last line has no line end (LF)', r.n);
    }
    if (this.declared < 0) throw new ManifestError(`ends before its ${['magic', 'batch', 'entries'][this.splitter.count] ?? 'header'} line`, this.splitter.count + 1);
    if (this.entries.length < this.declared) {
      throw new ManifestError(`ends after ${this.entries.length} of ${this.declared} entries`, this.splitter.count + 1);
    }
    return { salt: this.salt, entries: this.entries, byPath: this.byPath, byNonce: this.byNonce };
  }

  private line(n: number, bytes: Uint8Array | null, length: number): void {
    if (bytes === null) throw new ManifestError(`line of ${length} bytes is longer than ${MAX_LINE_BYTES}`, n);
    const s = decodeUtf8(bytes);
    if (s === null) throw new ManifestError('not valid UTF-8', n);
    if (n === 1) {
      if (s !== MANIFEST_MAGIC) throw new ManifestError(`does not start with ${MANIFEST_MAGIC} (not a manifest, or a newer version)`, n, 'use a newer aenv, or check the tree without the manifest');
      return;
    }
    if (n === 2) {
      const m = /^batch ([0-9a-f]{64})$/.exec(s);
      if (!m) throw new ManifestError('expected "batch" and 64 lowercase hex digits', n);
      this.salt = m[1]!;
      return;
    }
    if (n === 3) {
      const m = /^entries (0|[1-9][0-9]{0,6})$/.exec(s);
      if (!m) throw new ManifestError('expected "entries" and a whole number without leading zeros', n);
      const count = Number(m[1]);
      if (count > MAX_ENTRIES) throw new ManifestError(`${count} entries are more than the limit of ${MAX_ENTRIES}`, n);
      this.declared = count;
      return;
    }
    if (this.entries.length >= this.declared) throw new ManifestError('data after the last entry', n);
    this.entry(n, s);
  }

  private entry(n: number, s: string): void {
    const f = s.split(' ');
    if (f.length !== 4) throw new ManifestError(`expected 4 fields separated by single spaces, found ${f.length}`, n);
    const [nonce, digest, size, field] = f as [string, string, string, string];
    if (!LOWER_HEX64.test(nonce)) throw new ManifestError('file nonce is not 64 lowercase hex digits', n);
    if (!LOWER_HEX64.test(digest)) throw new ManifestError('content digest is not 64 lowercase hex digits', n);
    if (!SIZE.test(size) || !Number.isSafeInteger(Number(size))) throw new ManifestError('size is not a whole number from 0 to 2^53-1 without leading zeros', n);
    const un = unescapePath(field);
    if ('error' in un) throw new ManifestError(`path: ${un.error}`, n);
    const e: ManifestEntry = { path: un.path, size: Number(size), nonce, digest };
    checkEntry(e, n);
    const prev = this.entries[this.entries.length - 1];
    if (prev !== undefined && compareUtf8(prev.path, e.path) >= 0) {
      throw new ManifestError(prev.path === e.path ? `path ${quoteName(e.path)} is listed twice` : `path ${quoteName(e.path)} is out of order (after ${quoteName(prev.path)})`, n);
    }
    if (this.byNonce.has(nonce)) throw new ManifestError(`file nonce is listed twice (also for ${quoteName(this.entries[this.byNonce.get(nonce)!]!.path)})`, n);
    this.byPath.set(e.path, this.entries.length);
    this.byNonce.set(nonce, this.entries.length);
    this.entries.push(e);
  }
}

/** Decodes a whole manifest held in memory. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  const d = new ManifestDecoder();
  d.push(bytes);
  return d.end();
}
