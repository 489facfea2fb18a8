// Checking files against a parsed checksum list (checksums.ts) the way `sha256sum -c` does,
// turned around for a folder: every file of the tree is either in the list with the right digest
// (ok), in it with another digest (mismatch), or not in it (extra); every listed file the tree
// lacks is missing. `verify DIR --checksums FILE` checks the envelopes, `decrypt --checksums
// FILE` each plaintext before it is committed (docs/batches.md "Checksum lists"). Pure: the caller
// computes the digests.

import type { ChecksumEntry, ChecksumList } from './checksums.js';
import { quoteName } from './relpath.js';

export type ChecksumOutcome = 'ok' | 'mismatch' | 'extra';

export interface ChecksumVerdict {
  outcome: ChecksumOutcome;
  /** The list's entry for the path (absent for extra). */
  entry?: ChecksumEntry;
  /** One line for the report row: what matched or differed, with the list's line number. */
  detail: string;
}

export interface ChecksumMismatch {
  path: string;
  expected: string;
  actual: string;
  line: number;
  detail: string;
}

export interface ChecksumComparison {
  ok: string[];
  mismatch: ChecksumMismatch[];
  /** Files present but not listed. */
  extra: string[];
  /** Listed files not present (in scope). */
  missing: ChecksumEntry[];
}

export interface CheckOptions {
  /**
   * Which listed paths this run is responsible for (e.g. its --shard part, or the --files-from
   * selection); the others are never reported missing. Default: all of them.
   */
  inScope?: (path: string) => boolean;
}

function toHex(d: string | Uint8Array): string {
  return typeof d === 'string' ? d.toLowerCase() : Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
}

/**
 * Incremental check, for a run that learns digests file by file. Memory: the list plus one bit
 * per listed path (a file the list lacks is not remembered).
 */
export class ChecksumCheck {
  private readonly seen: Bits;

  constructor(private readonly list: ChecksumList, private readonly opt: CheckOptions = {}) {
    this.seen = new Bits(list.entries.size);
  }

  /** The verdict for one present file; each listed path may be checked once. */
  check(path: string, digest: string | Uint8Array): ChecksumVerdict {
    const entries = this.list.entries;
    const i = entries.indexOf(path);
    if (i < 0) return { outcome: 'extra', detail: 'not in the checksum list' };
    if (this.seen.has(i)) throw new Error(`ChecksumCheck: ${quoteName(path)} checked twice`);
    this.seen.add(i);
    const actual = toHex(digest);
    const entry = entries.entry(i);
    if (entry.conflicts.length > 0) {
      const lines = [entry.line, ...entry.conflicts.map((c) => c.line)].join(', ');
      return { outcome: 'mismatch', entry, detail: `the checksum list gives this file different digests (lines ${lines}); file has ${actual}` };
    }
    if (entry.digest === actual) return { outcome: 'ok', entry, detail: `SHA-256 matches the checksum list (line ${entry.line})` };
    return { outcome: 'mismatch', entry, detail: `SHA-256 ${actual} differs from ${entry.digest} in the checksum list (line ${entry.line})` };
  }

  /** Whether the listed entry `i` (ChecksumEntries numbering) was checked. */
  checked(i: number): boolean {
    return this.seen.has(i);
  }

  /** What check() would say of `path`, without counting it as seen. */
  peek(path: string, digest: string | Uint8Array): ChecksumOutcome {
    const entry = this.list.entries.get(path);
    if (entry === undefined) return 'extra';
    return entry.conflicts.length === 0 && entry.digest === toHex(digest) ? 'ok' : 'mismatch';
  }

  /** Listed paths in scope that no `check` named, in the order of the list. */
  missing(): ChecksumEntry[] {
    return [...this.missingEntries()];
  }

  /** The same, one at a time (a list of millions is never copied whole). */
  *missingEntries(skip?: (i: number) => boolean): Generator<ChecksumEntry> {
    const entries = this.list.entries;
    for (let i = 0; i < entries.size; i++) {
      if (this.seen.has(i) || skip?.(i)) continue;
      const e = entries.entry(i);
      if (this.opt.inScope?.(e.path) ?? true) yield e;
    }
  }
}

/** A fixed set of small integers, one bit each. */
export class Bits {
  private readonly bits: Uint8Array;

  constructor(readonly size: number) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }

  has(i: number): boolean {
    return (this.bits[i >>> 3]! & (1 << (i & 7))) !== 0;
  }

  add(i: number): void {
    this.bits[i >>> 3]! |= 1 << (i & 7);
  }
}

/**
 * The whole comparison at once: `actual` maps each relative path of the tree to its SHA-256
 * (hex or bytes), or to null for a file known to be absent. Listed paths that `actual` lacks or
 * maps to null are missing; present paths the list lacks are extra.
 */
export function compareChecksums(list: ChecksumList, actual: ReadonlyMap<string, string | Uint8Array | null>,
  opt: CheckOptions = {}): ChecksumComparison {
  const c = new ChecksumCheck(list, opt);
  const res: ChecksumComparison = { ok: [], mismatch: [], extra: [], missing: [] };
  for (const [path, digest] of actual) {
    if (digest === null) continue;
    const v = c.check(path, digest);
    if (v.outcome === 'ok') res.ok.push(path);
    else if (v.outcome === 'extra') res.extra.push(path);
    else res.mismatch.push({ path, expected: v.entry!.digest, actual: toHex(digest), line: v.entry!.line, detail: v.detail });
  }
  res.missing = c.missing();
  return res;
}

/** The row detail for a listed file that is not there. */
export function missingDetail(e: ChecksumEntry): string {
  return `listed in the checksum list (line ${e.line}) but not present`;
}
