// Checksum lists in a run (docs/batches.md "Checksum lists"): `verify DIR --checksums FILE` checks
// every envelope's SHA-256 (any file: aenv's, IBM's, or not an envelope at all) against a list in
// the sha256sum format, names relative to DIR; `decrypt --checksums FILE` checks each plaintext
// before it is committed, names relative to the output tree; listed files that are not there get
// `missing` rows at the end. The parsing and comparing are src/batch/checksums.ts and
// checksum-check.ts; this is the run's side: the list read as it streams in, the verdicts on
// the rows, the summary. A list beyond the limits of docs/checksum-lists.md is a usage error.

import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Bits, ChecksumCheck, missingDetail, type ChecksumOutcome } from '../../batch/checksum-check.js';
import { ChecksumLimitError, ChecksumListParser, problemCounts, problemLines, type ChecksumList } from '../../batch/checksums.js';
import { toSlashPath } from '../../batch/relpath.js';
import { inShard } from '../../batch/shard.js';
import { outputName } from '../../fsops/plan.js';
import type { FoundFile } from '../../fsops/walk.js';
import { Interrupted } from '../context.js';
import type { FileHash } from '../file-hash.js';
import type { Judge } from '../files.js';
import type { InputItem } from '../inputs.js';
import { UsageError } from '../job.js';
import { failure, type FileResult } from '../results.js';
import { showPath } from '../show.js';
import type { Check, CheckModule, CheckSetup, FilesJob, SummaryPart } from './check.js';

type Verdict = NonNullable<FileResult['checksum']>;

/** --checksums and --write-checksums name files relative to one folder: exactly one folder PATH. */
export async function oneFolder(job: FilesJob, flag: string): Promise<string> {
  const { paths, filesFrom } = job.inputs;
  const st = paths.length === 1 ? await fsp.stat(paths[0]!).catch(() => null) : null;
  if (!st?.isDirectory() || filesFrom !== undefined) {
    throw new UsageError(`${flag} needs exactly one folder PATH (the list's names are relative to it), and no --files-from`, `e.g. aenv verify incoming ${flag} incoming.sha256`);
  }
  return paths[0]!;
}

/** `file`'s path below the folder `root`, `/`-separated, or null when it is not below it. */
export function keyBelow(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : toSlashPath(rel, path.sep);
}

/** Reads a checksum list as it streams in (held compactly: batch/checksum-table.ts); a list beyond the limits is a usage error. */
async function readList(file: string): Promise<ChecksumList> {
  const p = new ChecksumListParser();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) p.push(chunk as Buffer);
  } catch (e) {
    if (e instanceof ChecksumLimitError) throw new UsageError(`the checksum list ${showPath(file)}: ${e.message}`, e.hint);
    throw new UsageError(`cannot read the checksum list ${showPath(file)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give a readable file in the format of sha256sum');
  }
  return p.end();
}

export const checksumList: CheckModule = {
  applies: (job) => job.command !== 'encrypt' && job.checksums !== undefined,
  async preflight(job) {
    await oneFolder(job, '--checksums');
    return null;
  },
  async start(setup) {
    const job = setup.job;
    if (job.command === 'encrypt' || job.checksums === undefined) throw new Error('checksum list: not a decrypt or verify job with --checksums');
    const root = setup.inputs.paths[0]!;
    const { shard, extension } = setup.inputs;
    // decrypt's list names plaintexts; a shard answers for the ones whose envelope falls in its part
    const inScope = shard ? (k: string) => inShard(job.command === 'decrypt' ? k + extension : k, shard) : undefined;
    const list = await readList(job.checksums);
    return job.command === 'decrypt' ? new PlaintextChecksums(setup, job.checksums, list, root, inScope) : new EnvelopeChecksums(setup, job.checksums, list, root, inScope);
  },
};

/** The list, the verdicts so far, and what is missing at the end. */
abstract class ChecksumRun implements Check {
  private readonly check: ChecksumCheck;
  /** Listed files that are there but could not be hashed (their row failed on its own), by entry number. */
  private readonly present: Bits;
  private readonly counts = { ok: 0, mismatch: 0, extra: 0, missing: 0 };

  constructor(protected readonly o: CheckSetup, readonly file: string, private readonly list: ChecksumList, protected readonly root: string,
    inScope: ((p: string) => boolean) | undefined) {
    this.check = new ChecksumCheck(list, inScope ? { inScope } : {});
    this.present = new Bits(list.entries.size);
  }

  /** The verdict on the file listed (or not) as `key`, whose SHA-256 is `digest`. */
  protected verdict(key: string, digest: Uint8Array): { kind: ChecksumOutcome; detail: string } {
    const v = this.check.check(key, digest);
    const kind = v.outcome;
    this.counts[kind]++;
    return { kind, detail: kind === 'extra' ? 'not in the checksum list' : v.detail };
  }

  /** What the verdict on `key` would be, not counted (--skip-existing: an output already there). */
  protected peek(key: string, digest: Uint8Array): ChecksumOutcome {
    return this.check.peek(key, digest);
  }

  /** The file `key` is there, even if its row failed before it could be hashed: not missing. */
  protected seenKey(key: string): void {
    const i = this.list.entries.indexOf(key);
    if (i >= 0) this.present.add(i);
  }

  /** Where the row of a missing `key` points. */
  protected abstract missingAt(key: string): { path: string; output?: string };

  /**
   * Rows for the listed files that are not there (one at a time: a list of millions is never
   * copied whole), then the list's bad lines, as sha256sum -c words them (the first
   * MAX_KEPT_PROBLEMS, then how many more).
   */
  async finish(): Promise<void> {
    let count = 0;
    let top: string | null | undefined; // the first folder all missing names share (undefined: none yet; null: none)
    for (const e of this.check.missingEntries((i) => this.present.has(i))) {
      this.counts.missing++;
      count++;
      const first = e.path.includes('/') ? e.path.slice(0, e.path.indexOf('/')) : null;
      top = top === undefined ? first : top === first ? top : null;
      await this.o.emit({ ...this.missingAt(e.path), status: 'missing', bytes: 0, detail: missingDetail(e), checksum: { kind: 'missing', detail: missingDetail(e) } });
    }
    for (const l of problemLines(this.file, this.list.problems)) this.o.note({ level: 'plain', text: l });
    const { errors, warnings } = this.list.unkept;
    const more = errors + warnings;
    if (more) {
      this.o.note({ level: 'plain', text: `${this.file}: ${more} more bad or repeated line${more === 1 ? '' : 's'} not shown (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})` });
    }
    const prefix = commonFolder(count, top ?? null, this.list.entries.size);
    if (prefix !== null) {
      this.o.note({
        level: 'hint',
        text: `${count} of the ${this.list.entries.size} names in ${showPath(this.file)} are missing, and they all start with "${prefix}": the list was made from the folder above (e.g. find ${prefix.slice(0, -1)} -type f -exec sha256sum {} +); make it inside that folder, or drop the prefix: sed 's#  ${prefix}#  #'`,
      });
    }
  }

  summary(): SummaryPart {
    const c = this.counts;
    const bad = problemCounts(this.list.problems, this.list.unkept).errors;
    const off = (['mismatch', 'extra', 'missing'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
    if (bad) off.push(`${bad} bad line${bad === 1 ? '' : 's'}`);
    const line = off.length ? `checksums: ${showPath(this.file)} does not match (${off.join(', ')}; ${c.ok} ok)` : `checksums: every file matches ${showPath(this.file)} (${c.ok})`;
    return {
      fields: { checksums: { list: this.file, ...c, bad_lines: bad } },
      lines: [line],
      mismatch: c.mismatch + c.extra + c.missing + bad > 0,
    };
  }
}

/** decrypt --checksums: each plaintext, named as in the output tree, judged before its commit. */
class PlaintextChecksums extends ChecksumRun {
  /** The plaintext's name in the output tree (the list's key), or null when the envelope's name gives none. */
  private keyOf(f: FoundFile): string | null {
    if (f.root === null) return null;
    try {
      const ext = this.o.inputs.extension;
      return toSlashPath(path.join(path.dirname(f.rel), outputName(path.basename(f.rel), 'decrypt', ext)), path.sep);
    } catch {
      return null;
    }
  }

  plaintext(f: FoundFile): Judge | undefined {
    const key = this.keyOf(f);
    return key === null ? undefined : Object.assign((sha: Uint8Array) => this.verdict(key, sha), { peek: (sha: Uint8Array) => this.peek(key, sha) });
  }

  async seen(item: InputItem, r: FileResult): Promise<FileResult> {
    const ext = this.o.inputs.extension;
    if (item.kind === 'row') {
      const key = keyBelow(this.root, r.path);
      if (key !== null) this.seenKey(key.endsWith(ext) ? key.slice(0, -ext.length) : key);
      return r;
    }
    const key = this.keyOf(item.file);
    if (key !== null) this.seenKey(key);
    return decryptRow(r);
  }

  protected missingAt(k: string): { path: string; output: string } {
    const base = this.o.out?.dir ?? this.root;
    return { path: path.join(this.root, ...(k + this.o.inputs.extension).split('/')), output: path.join(base, ...k.split('/')) };
  }
}

/** verify --checksums: every envelope's bytes, named below the folder PATH. */
class EnvelopeChecksums extends ChecksumRun {
  async seen(item: InputItem, r: FileResult, sha256: () => Promise<FileHash>): Promise<FileResult> {
    if (item.kind === 'row') {
      const key = keyBelow(this.root, r.path);
      if (key !== null) this.seenKey(key);
      return r;
    }
    if (item.file.root === null) return r;
    const key = toSlashPath(item.file.rel, path.sep);
    let h: FileHash;
    try {
      h = await sha256();
    } catch (e) {
      this.seenKey(key);
      return unhashed(r, e);
    }
    return verifyRow(r, this.verdict(key, h.digest), h.magic);
  }

  protected missingAt(k: string): { path: string } {
    return { path: path.join(this.root, ...k.split('/')) };
  }
}

/** A row whose file could not be hashed: it fails, unless it failed already (an interruption ends the run). */
export function unhashed(r: FileResult, e: unknown): FileResult {
  if (e instanceof Interrupted) throw e;
  if (r.status !== 'ok') return r;
  const bad = failure(r.path, undefined, e);
  return { ...bad, detail: `could not be hashed for the checksum list: ${bad.detail}` };
}

/**
 * A verify row with its checksum verdict: a mismatch makes it `corrupt`; a file that is no AENV
 * envelope (so verify could not check it) but whose bytes are the listed ones is `ok`; a file the
 * list lacks keeps its status, with a warning.
 */
function verifyRow(r: FileResult, v: Verdict, magic: boolean): FileResult {
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
function decryptRow(r: FileResult): FileResult {
  const v = r.checksum;
  if (!v || r.status !== 'ok') return r;
  if (v.kind === 'ok') return { ...r, detail: `${r.detail}; plaintext ${v.detail}` };
  if (v.kind === 'extra') return { ...r, warning: r.warning ? `${r.warning}; plaintext ${v.detail}` : `plaintext ${v.detail}` };
  return r;
}

/**
 * The leading folder (`enc/`) that every missing name shares, when most of the list is missing
 * (the list was made one folder up, as `find enc -type f -exec sha256sum {} +` makes it); else null.
 */
export function commonFolder(missing: number, top: string | null, listed: number): string | null {
  if (missing < 2 || missing * 2 < listed || top === null) return null;
  return `${top}/`;
}
