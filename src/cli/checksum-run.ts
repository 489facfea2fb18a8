// Checksum lists in a run (README.md "Checksum lists"): `verify DIR --checksums FILE` checks
// every envelope's SHA-256 (any file: aenv's, IBM's, or not an envelope at all) against a list in
// the sha256sum format, names relative to DIR; `decrypt --checksums FILE` checks each plaintext
// before it is committed, names relative to the output tree; listed files that are not there get
// `missing` rows at the end; `verify --write-checksums FILE` writes such a list of the envelopes.
// The parsing and comparing are src/batch/checksums.ts and checksum-check.ts; this is the glue:
// reading the list, the rows, the summary, writing the list atomically.

import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { ChecksumCheck, missingDetail, type ChecksumOutcome } from '../batch/checksum-check.js';
import { ChecksumListParser, formatChecksumList, problemCounts, problemLines, type ChecksumList } from '../batch/checksums.js';
import { AtomicOutput } from '../fsops/atomic.js';
import { OutputDir } from '../fsops/dirs.js';
import type { FileResult } from '../engine/results.js';
import { UsageError } from './errors.js';
import { showPath } from './text.js';

export type Verdict = NonNullable<FileResult['checksum']>;

/** Reads a checksum list as it streams in (its size is the entries' own). */
async function readList(file: string): Promise<ChecksumList> {
  const p = new ChecksumListParser();
  try {
    for await (const chunk of createReadStream(file)) p.push(chunk as Buffer);
  } catch (e) {
    throw new UsageError(`cannot read the checksum list ${showPath(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give a readable file in the format of sha256sum');
  }
  return p.end();
}

export class ChecksumRun {
  private readonly check: ChecksumCheck;
  /** Listed files that are there but could not be hashed (their row failed on its own). */
  private readonly present = new Set<string>();
  readonly counts = { ok: 0, mismatch: 0, extra: 0, missing: 0 };

  private constructor(readonly file: string, private readonly list: ChecksumList, inScope?: (p: string) => boolean) {
    this.check = new ChecksumCheck(list, inScope ? { inScope } : {});
  }

  /** `inScope`: the listed names this run answers for (its --shard part). */
  static async load(file: string, inScope?: (p: string) => boolean): Promise<ChecksumRun> {
    return new ChecksumRun(file, await readList(file), inScope);
  }

  /** The list's bad lines, as sha256sum -c words them. */
  problems(): string[] {
    return problemLines(this.file, this.list.problems);
  }

  get badLines(): number {
    return problemCounts(this.list.problems).errors;
  }

  /** The verdict on the file listed (or not) as `key`, whose SHA-256 is `digest`. */
  verdict(key: string, digest: Uint8Array): { kind: ChecksumOutcome; detail: string } {
    const v = this.check.check(key, digest);
    const kind = v.outcome;
    this.counts[kind]++;
    return { kind, detail: kind === 'extra' ? 'not in the checksum list' : v.detail };
  }

  /** The file `key` is there, but its row failed before it could be hashed: not missing. */
  seen(key: string): void {
    if (this.list.entries.has(key)) this.present.add(key);
  }

  /** Rows for the listed files that are not there; `where(key)` gives a row's path (and output). */
  missingRows(where: (key: string) => { path: string; output?: string }): FileResult[] {
    const out: FileResult[] = [];
    for (const e of this.check.missing()) {
      if (this.present.has(e.path)) continue;
      this.counts.missing++;
      out.push({ ...where(e.path), status: 'missing', bytes: 0, detail: missingDetail(e), checksum: { kind: 'missing', detail: missingDetail(e) } });
    }
    return out;
  }

  /** Something does not match the list, or a line of it is bad. */
  get mismatch(): boolean {
    return this.counts.mismatch + this.counts.extra + this.counts.missing + this.badLines > 0;
  }

  summary(): Record<string, unknown> {
    return { list: this.file, ...this.counts, bad_lines: this.badLines };
  }

  line(): string {
    const c = this.counts;
    const off = (['mismatch', 'extra', 'missing'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
    if (this.badLines) off.push(`${this.badLines} bad line${this.badLines === 1 ? '' : 's'}`);
    return off.length ? `checksums: ${showPath(this.file)} does not match (${off.join(', ')}; ${c.ok} ok)` : `checksums: every file matches ${showPath(this.file)} (${c.ok})`;
  }
}

/**
 * A verify row with its checksum verdict: a mismatch makes it `corrupt`; a file that is no AENV
 * envelope (so verify could not check it) but whose bytes are the listed ones is `ok`; a file the
 * list lacks keeps its status, with a warning.
 */
export function verifyRow(r: FileResult, v: Verdict, magic: boolean): FileResult {
  const unreadable = !magic && (r.status === 'not-envelope' || r.status === 'unsupported');
  if (v.kind === 'ok') {
    if (r.status === 'ok') return { ...r, detail: `${r.detail}; ${v.detail}`, checksum: v };
    if (unreadable) {
      const { hint: _hint, ...rest } = r;
      return { ...rest, status: 'ok', detail: `${v.detail}; no AENV magic (another tool's envelope, e.g. IBM's, or plaintext): only its bytes were checked`, checksum: v };
    }
    return { ...r, detail: `${r.detail}; ${v.detail}`, checksum: v };
  }
  if (v.kind === 'mismatch') {
    if (r.status === 'ok' || unreadable) {
      const { hint: _hint, ...rest } = r;
      return { ...rest, status: 'corrupt', detail: v.detail, checksum: v };
    }
    return { ...r, detail: `${r.detail}; ${v.detail}`, checksum: v };
  }
  return { ...r, warning: r.warning ? `${r.warning}; ${v.detail}` : v.detail, checksum: v };
}

/** A decrypt row with its verdict (a mismatch already made it corrupt, uncommitted). */
export function decryptRow(r: FileResult): FileResult {
  const v = r.checksum;
  if (!v || r.status !== 'ok') return r;
  if (v.kind === 'ok') return { ...r, detail: `${r.detail}; plaintext ${v.detail}` };
  if (v.kind === 'extra') return { ...r, warning: r.warning ? `${r.warning}; plaintext ${v.detail}` : `plaintext ${v.detail}` };
  return r;
}

/** `verify --write-checksums FILE`: the envelopes' SHA-256, written as sha256sum writes, atomically. */
export class ChecksumWriter {
  private readonly items: { path: string; digest: Uint8Array }[] = [];

  constructor(readonly file: string) {}

  add(key: string, digest: Uint8Array): void {
    this.items.push({ path: key, digest });
  }

  get size(): number {
    return this.items.length;
  }

  /** Writes the list (in the byte order of the names), replacing FILE as a shell's > would, but atomically. */
  async write(): Promise<void> {
    const text = formatChecksumList(this.items);
    const dir = OutputDir.resolve(path.dirname(path.resolve(this.file)), '');
    const out = AtomicOutput.create(dir, path.basename(this.file));
    try {
      out.writeSync([Buffer.from(text, 'utf8')]);
      await out.commit(true, true);
    } catch (e) {
      out.discard();
      throw e;
    }
  }
}
