// The sealed batch manifest in a `verify` or `decrypt` run (docs/MANIFEST.md "Checking a tree"):
// at the start of each folder PATH its manifest is looked for and opened with the run's keys;
// every file of that folder then gets its batch kind as it is reported (src/batch/manifest-check.ts),
// except the renamed and duplicate ones, whose rows are held until every file was seen; the
// entries no file accounts for come last as `missing` rows. Without a password a manifest can
// only be said to be there. The run fails (exit 1) when the batch does not match; with
// --manifest, a folder PATH without one fails the run before any work.

import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, promises as fsp, readSync } from 'node:fs';
import * as path from 'node:path';
import { ManifestCheck, BATCH_KINDS, type BatchKind, type BatchRow } from '../../batch/manifest-check.js';
import { ManifestError, manifestName, type Manifest } from '../../batch/manifest.js';
import { OFF_FILE_NONCE } from '../../format/constants.js';
import { hasMagic } from '../../format/header.js';
import { quoteName, toSlashPath } from '../../batch/relpath.js';
import { inShard } from '../../batch/shard.js';
import type { FoundFile } from '../../fsops/walk.js';
import type { InputItem } from '../inputs.js';
import { UsageError } from '../job.js';
import { readManifest } from '../manifest-file.js';
import { hasPasswordSource } from '../passwords.js';
import { failure, type FileResult } from '../results.js';
import { showPath } from '../show.js';
import { BATCH_HINTS } from '../statuses.js';
import type { Check, CheckModule, CheckSetup, FilesJob, Placement, Refusal, SummaryPart } from './check.js';

type ManifestState = 'ok' | 'invalid' | 'needs-password' | 'absent';

interface Root {
  root: string;
  file: string;
  state: ManifestState;
  error?: string;
  check?: ManifestCheck;
  manifest?: Manifest;
  /** decrypt: the file whose plaintext goes out under each entry's name, by entry. */
  claims: Map<number, string>;
  /** decrypt: whether each entry's own path holds its envelope, by entry (read once). */
  inPlace: Map<number, boolean>;
  /** Entries of its manifest. */
  entries: number;
  /** Rows decided at the end (renamed, duplicate), by path below the root. */
  held: Map<string, FileResult>;
}

const ORDER: readonly ManifestState[] = ['ok', 'needs-password', 'absent', 'invalid'];

/** Whether `root` (a folder PATH) holds a manifest at its root. */
function present(root: string, extension: string): boolean {
  return lstatSync(path.join(root, manifestName(extension)), { throwIfNoEntry: false }) !== undefined;
}

export const treeManifest: CheckModule = {
  applies: (job) => job.command !== 'encrypt',

  /** --manifest: folder PATHs, each with a manifest at its root (and, for verify, a password to open it). */
  async preflight(job: FilesJob): Promise<Refusal | null> {
    if (!job.manifest) return null;
    const { paths, filesFrom, extension } = job.inputs;
    if (job.command === 'verify' && !hasPasswordSource(job.password)) {
      throw new UsageError('--manifest needs the password: the manifest is sealed, its contents are private and authenticated', 'give --password-file FILE or ASPERA_SCP_FILEPASS (or --password-prompt)');
    }
    const dirs: string[] = [];
    for (const p of paths) if ((await fsp.stat(p).catch(() => null))?.isDirectory()) dirs.push(p);
    if (dirs.length === 0 || filesFrom !== undefined) {
      throw new UsageError('--manifest needs a folder PATH (the batch manifest sits at its root), and no --files-from', 'e.g. aenv verify outgoing --manifest --password-file pw.txt');
    }
    const lacking = dirs.filter((d) => !present(d, extension));
    if (lacking.length === 0) return null;
    return {
      notes: [
        { level: 'error', text: `--manifest: no batch manifest (${manifestName(extension)}) at the root of ${lacking.map(showPath).join(', ')}` },
        { level: 'hint', text: BATCH_HINTS.noManifest },
      ],
      fields: { batch: { manifest: 'absent', matches: false } },
    };
  },

  start: async (setup) => new TreeManifest(setup),
};

class TreeManifest implements Check {
  private readonly roots = new Map<string, Root>();

  constructor(private readonly o: CheckSetup) {}

  /** A folder PATH begins: its manifest is looked for and opened. */
  async begin(root: string): Promise<void> {
    const { extension, shard, filesFrom } = this.o.inputs;
    const file = path.join(root, manifestName(extension));
    const r: Root = { root, file, state: 'ok', entries: 0, held: new Map(), claims: new Map(), inPlace: new Map() };
    if (!present(root, extension)) {
      if (!this.o.job.manifest) return;
      r.state = 'absent';
      r.error = `no batch manifest (${manifestName(extension)}) at the root of ${showPath(root)}, and --manifest requires one`;
    } else if (!this.o.keyed) {
      r.state = 'needs-password';
    } else {
      try {
        const opened = await readManifest(file, this.o.ctx);
        const inScope = filesFrom !== undefined ? () => false : shard ? (p: string) => inShard(p, shard) : undefined;
        r.check = new ManifestCheck(opened.manifest, inScope ? { inScope } : {});
        r.manifest = opened.manifest;
        // decrypt commits a plaintext only as the content sealed under its name: every digest is computed
        if (this.o.job.command === 'decrypt') this.o.ctx.checkDigest = 'always';
        r.entries = opened.manifest.entries.length;
        if (opened.warning) this.o.note({ level: 'warning', text: `${showPath(file)}: ${opened.warning}` });
      } catch (e) {
        r.state = 'invalid';
        const f = e instanceof ManifestError ? null : failure(file, undefined, e); // rethrows an interruption
        r.error = f ? `${f.status}: ${f.detail}` : (e as ManifestError).message;
        this.o.note({ level: 'error', text: `${showPath(file)}: the batch manifest cannot be used: ${r.error}` });
        this.o.note({ level: 'hint', text: e instanceof ManifestError ? e.hint : BATCH_HINTS.manifestUnusable });
      }
    }
    this.roots.set(root, r);
  }

  /**
   * decrypt: the plaintext of a listed envelope goes out under the name the manifest lists for it
   * (docs/CLI.md "Batches"), wherever the envelope now sits; a second copy of it is skipped; an
   * envelope the manifest does not list, or a listed one altered, is committed nowhere.
   */
  place(f: FoundFile): Placement | undefined {
    const root = f.root === null || f.listed ? undefined : this.roots.get(f.root);
    const m = root?.manifest;
    if (this.o.job.command !== 'decrypt' || !root || !m) return undefined;
    const rel = toSlashPath(f.rel, path.sep);
    const li = m.byPath.get(rel);
    let entry: number | undefined;
    const mismatch = (detail: string) => ({ row: { status: 'batch-mismatch' as const, detail: `${detail}: nothing of it was committed` } });
    return {
      place: (seen) => {
        if (!seen) return mismatch('not an AENV/1 envelope, so not one of the batch its manifest seals');
        const hi = m.byNonce.get(seen.nonce);
        if (hi === undefined) {
          return mismatch(li !== undefined
            ? `another envelope (file nonce ${seen.nonce.slice(0, 16)}...) than the one the batch manifest seals under this name (replaced, e.g. by an older version)`
            : 'an envelope the batch manifest does not list (extra: not sealed in this batch)');
        }
        const e = m.entries[hi]!;
        if (seen.size !== null && seen.size !== e.size) {
          return mismatch(`the envelope sealed as ${quoteName(e.path)} (same file nonce), but its plaintext size ${seen.size} is not the manifest's ${e.size}: altered after sealing`);
        }
        entry = hi;
        if (hi === li) {
          root.claims.set(hi, f.path);
          return { file: f };
        }
        // Not in its place: the copy in its place (when there is one) is decrypted, this one not.
        const sealedAs = `sealed as ${quoteName(e.path)}`;
        if (this.inPlace(root, hi, e.path)) {
          return { row: { status: 'skipped', detail: `a copy of the envelope ${sealedAs}, which is in its place: not decrypted twice` } };
        }
        const first = root.claims.get(hi);
        if (first !== undefined && first !== f.path) {
          return { row: { status: 'skipped', detail: `another copy of the envelope ${sealedAs}, already decrypted from ${showPath(first)}` } };
        }
        root.claims.set(hi, f.path);
        const sealed = sealedFile(f, root.root, e.path);
        if (!sealed) return { row: { status: 'io-error', detail: `the envelope ${sealedAs}: its sealed folder is not in the tree, so its output has nowhere to go beside it; decrypt with -o DIR` } };
        return { file: sealed, warning: `found as ${quoteName(rel)} but ${sealedAs}: its plaintext was written under its sealed name` };
      },
      confirm: (seen) => {
        const e = entry === undefined ? undefined : m.entries[entry];
        if (!e || seen.digest === null || seen.digest === e.digest) return null;
        return `the envelope sealed as ${quoteName(e.path)} (same file nonce), but its content digest ${seen.digest.slice(0, 16)}... is not the manifest's ${e.digest.slice(0, 16)}...: altered after sealing; nothing of it was committed`;
      },
    };
  }

  /** Whether the entry's own path holds its envelope (its header's file nonce), read once per entry. */
  private inPlace(root: Root, entry: number, rel: string): boolean {
    let known = root.inPlace.get(entry);
    if (known === undefined) {
      known = nonceAt(path.join(root.root, ...rel.split('/'))) === root.manifest!.entries[entry]!.nonce;
      root.inPlace.set(entry, known);
    }
    return known;
  }

  /** The row with its batch kind; null when the kind is known only at the end (the row is held). */
  row(r: FileResult, item: InputItem): FileResult | null {
    if (item.kind === 'file') return item.manifest ? r : this.annotate(item.file, r);
    return this.annotateProblem(r);
  }

  private annotate(f: FoundFile, r: FileResult): FileResult | null {
    const root = f.root === null || f.listed ? undefined : this.roots.get(f.root);
    if (!root?.check) return r;
    const rel = toSlashPath(f.rel, path.sep);
    const e = r.envelope;
    const row = root.check.observe({ path: rel, nonce: e?.nonce ?? null, digest: e?.digest ?? null, size: e?.size ?? null, status: r.status });
    if (row === null) {
      root.held.set(rel, r);
      return null;
    }
    return this.withStatus(withKind(r, row));
  }

  /**
   * verify: an envelope not in its sealed place is `batch-mismatch` (its own failure, if any,
   * stands). decrypt decided each file's status when it placed it (place()).
   */
  private withStatus(r: FileResult): FileResult {
    const kind = r.batch?.kind;
    if (this.o.job.command !== 'verify' || r.status !== 'ok' || !kind || kind === 'ok' || kind === 'unchecked' || kind === 'missing') return r;
    return { ...r, status: 'batch-mismatch', detail: `${r.detail}; but not where the batch manifest seals it (${kind})` };
  }

  /**
   * A problem of the walk (io-error) below a folder with a manifest: the file is there but cannot be
   * read, so it is unchecked (and its entry not missing).
   */
  private annotateProblem(r: FileResult): FileResult {
    if (r.status !== 'io-error') return r;
    for (const root of this.roots.values()) {
      const rel = path.relative(root.root, r.path);
      if (!root.check || rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      return withKind(r, root.check.observe({ path: toSlashPath(rel, path.sep), nonce: null, digest: null, size: null, status: r.status })!);
    }
    return r;
  }

  /** The rows decided at the end: held files (renamed, duplicate), then the missing entries. */
  async finish(): Promise<void> {
    for (const root of this.roots.values()) {
      if (!root.check) continue;
      const rows = root.check.finish();
      if (this.o.job.command === 'decrypt') decidedByDecrypt(rows, root.held);
      for (const row of rows) {
        const held = root.held.get(row.path);
        if (held) await this.o.emit(this.withStatus(withKind(held, row)));
        else {
          await this.o.emit({
            path: path.join(root.root, ...row.path.split('/')), status: 'missing', bytes: 0, detail: row.detail, batch: { kind: 'missing' },
          });
        }
      }
      root.held.clear();
    }
  }

  /** The tree does not match (or could not be checked against) a manifest it has or must have. */
  private get mismatch(): boolean {
    for (const r of this.roots.values()) {
      if (r.state === 'invalid' || r.state === 'absent' || (r.check && !r.check.matches)) return true;
    }
    return false;
  }

  /** The JSON summary's "batch" (when a folder PATH has a manifest), lines under the table, and whether the tree matches. */
  summary(): SummaryPart {
    const roots = [...this.roots.values()];
    if (roots.length === 0) return {};
    const counts = Object.fromEntries(BATCH_KINDS.map((k) => [k, 0])) as Record<BatchKind, number>;
    for (const r of roots) {
      if (!r.check) continue;
      for (const [k, n] of Object.entries(r.check.counts())) counts[k as BatchKind] += n;
    }
    const worst = roots.reduce((w, r) => (ORDER.indexOf(r.state) > ORDER.indexOf(w) ? r.state : w), 'ok' as ManifestState);
    const errors = roots.filter((r) => r.error).map((r) => `${r.file}: ${r.error}`);
    const entries = roots.reduce((n, r) => n + r.entries, 0);
    const checked = roots.some((r) => r.check);
    const batch = {
      manifest: worst, manifests: roots.filter((r) => r.state !== 'absent').length,
      ...(checked ? { entries, matches: !this.mismatch, ...counts } : worst === 'needs-password' ? {} : { matches: false }),
      ...(errors.length ? { error: errors.join('; ') } : {}),
    };
    return { fields: { batch }, lines: this.lines(), mismatch: this.mismatch };
  }

  private lines(): string[] {
    const out: string[] = [];
    for (const r of this.roots.values()) {
      const where = this.roots.size > 1 ? ` (${showPath(r.root)})` : '';
      if (r.state === 'needs-password') out.push(`batch${where}: a sealed manifest is present; give the password to check the batch against it`);
      else if (r.state !== 'ok') out.push(`batch${where}: not checked: ${r.error}`);
      else if (r.check) {
        const c = r.check.counts();
        const off = BATCH_KINDS.filter((k) => k !== 'ok' && c[k] > 0).map((k) => `${c[k]} ${k}`);
        out.push(off.length ? `batch${where}: does not match the manifest (${off.join(', ')})` : `batch${where}: matches the manifest (${c.ok} envelope${c.ok === 1 ? '' : 's'} in place)`);
      }
    }
    return out;
  }
}

function withKind(r: FileResult, row: BatchRow): FileResult {
  return { ...r, batch: row.kind === 'ok' ? { kind: 'ok' } : { kind: row.kind, detail: row.detail } };
}

/**
 * decrypt: of several copies of one listed envelope, none in its place, the one decrypted is the
 * `renamed` one and the others `duplicate` (the check calls the first seen renamed; the lanes may
 * have decrypted another first).
 */
function decidedByDecrypt(rows: BatchRow[], held: Map<string, FileResult>): void {
  const byEntry = new Map<string, BatchRow[]>();
  for (const row of rows) {
    if (row.holds && (row.kind === 'renamed' || row.kind === 'duplicate')) byEntry.set(row.holds.path, [...(byEntry.get(row.holds.path) ?? []), row]);
  }
  for (const group of byEntry.values()) {
    const renamed = group.find((r) => r.kind === 'renamed');
    const decrypted = group.find((r) => held.get(r.path)?.status === 'ok');
    if (!renamed || !decrypted || renamed === decrypted) continue;
    [renamed.kind, decrypted.kind] = [decrypted.kind, renamed.kind];
    [renamed.detail, decrypted.detail] = [`another copy of the envelope listed as ${quoteName(renamed.holds!.path)} (also found as ${quoteName(decrypted.path)})`,
      `the envelope the manifest lists as ${quoteName(decrypted.holds!.path)}, under another name`];
  }
}

/** The file a listed envelope was sealed as: its path below the root, its folder as it is now (null: not there). */
function sealedFile(f: FoundFile, root: string, rel: string): FoundFile | null {
  const p = path.join(root, ...rel.split('/'));
  let dirId = f.dirId;
  if (path.dirname(p) !== path.dirname(f.path)) {
    const st = lstatSync(path.dirname(p), { throwIfNoEntry: false });
    if (!st?.isDirectory()) return null;
    dirId = { dev: st.dev, ino: st.ino };
  }
  return { ...f, path: p, rel: rel.split('/').join(path.sep), dirId };
}

/** The file nonce (hex) in the header of the regular file at `p`, or null (not there, not an envelope). Never follows a link. */
function nonceAt(p: string): string | null {
  let fd: number;
  try {
    fd = openSync(p, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const b = new Uint8Array(OFF_FILE_NONCE + 32);
    if (readSync(fd, b, 0, b.length, 0) !== b.length || !hasMagic(b)) return null;
    return Buffer.from(b.subarray(OFF_FILE_NONCE)).toString('hex');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
