// Checking a tree against its sealed manifest (docs/MANIFEST.md "Checking a tree"): AENV/1
// authenticates each file but not the batch (docs/FORMAT.md "What AENV/1 does not protect");
// the manifest binds names to envelopes through each envelope's file_nonce (32 random bytes,
// unique per file) and content_digest. Each envelope found in the tree, and each listed one not
// found, gets one kind:
//
//   ok         at its listed path, same nonce, digest and size
//   replaced   at a listed path, but another envelope: a nonce the manifest does not list (an
//              older or foreign version put back), or the listed nonce with another digest or size
//   swapped    at a listed path, holding the envelope listed under another path
//   renamed    at a path the manifest does not list, holding a listed envelope whose own path
//              does not hold it (moved or renamed)
//   duplicate  at a path the manifest does not list, holding a copy of a listed envelope that is
//              also in its place
//   extra      at a path the manifest does not list, an envelope it does not list
//   unchecked  the file's nonce could not be read (not an envelope, damaged header): its own
//              status says why; the batch cannot be confirmed
//   missing    listed, and neither its path nor its nonce is anywhere in the tree
//
// The tree matches only when every row is ok. Pure; streaming: most rows are decided as the files
// are observed (memory: the manifest and two flags per entry); renamed/duplicate rows and missing
// rows come from finish().

import type { Manifest, ManifestEntry } from './manifest.js';
import { quoteName } from './relpath.js';

export type BatchKind = 'ok' | 'replaced' | 'swapped' | 'renamed' | 'duplicate' | 'extra' | 'unchecked' | 'missing';
export const BATCH_KINDS: readonly BatchKind[] = ['ok', 'replaced', 'swapped', 'renamed', 'duplicate', 'extra', 'unchecked', 'missing'];

/** What the run saw of one envelope in the tree. */
export interface Observed {
  /** Canonical relative path below the tree's root (as in the manifest). */
  path: string;
  /** Header file_nonce (hex), or null when it could not be read. */
  nonce: string | null;
  /** content_digest (hex) as computed (or else as stored in the trailer), or null if unknown. */
  digest: string | null;
  /** Plaintext size, or null if unknown. */
  size: number | null;
  /** The file's own status (ok, corrupt, ...), for the detail of unchecked rows. */
  status: string;
}

export interface BatchRow {
  path: string;
  kind: BatchKind;
  /** One line for the report. */
  detail: string;
  /** The manifest's entry for this path, if any. */
  listed?: ManifestEntry;
  /** For swapped, renamed and duplicate: the entry whose envelope this file is. */
  holds?: ManifestEntry;
}

export interface ManifestCheckOptions {
  /** Listed paths this run is responsible for (its --shard part, a --files-from selection); others are never missing. */
  inScope?: (path: string) => boolean;
}

const short = (hex: string): string => `${hex.slice(0, 16)}...`;

export class ManifestCheck {
  /** Per entry: 1 = its path was observed, 2 = its nonce was observed (anywhere), 4 = ok in place. */
  private readonly flags: Uint8Array;
  private readonly observedPaths = new Set<string>();
  private readonly deferred: { path: string; entry: number }[] = [];
  private readonly tally = new Map<BatchKind, number>();
  private finished = false;

  constructor(private readonly m: Manifest, private readonly opt: ManifestCheckOptions = {}) {
    this.flags = new Uint8Array(m.entries.length);
  }

  /** The row for one envelope of the tree, or null when it is decided by finish(). Each path once. */
  observe(o: Observed): BatchRow | null {
    if (this.finished) throw new Error('ManifestCheck: observe after finish');
    if (this.observedPaths.has(o.path)) throw new Error(`ManifestCheck: ${quoteName(o.path)} observed twice`);
    this.observedPaths.add(o.path);
    const li = this.m.byPath.get(o.path);
    const listed = li === undefined ? undefined : this.m.entries[li]!;
    if (li !== undefined) this.flags[li]! |= 1;
    if (o.nonce === null) {
      return this.row({ path: o.path, kind: 'unchecked', ...(listed ? { listed } : {}),
        detail: `its file nonce could not be read (status ${o.status}), so it cannot be matched with the manifest` });
    }
    const nonce = o.nonce.toLowerCase();
    const hi = this.m.byNonce.get(nonce);
    if (hi !== undefined) this.flags[hi]! |= 2;
    if (listed !== undefined && hi === li) {
      if (o.digest !== null && o.digest.toLowerCase() !== listed.digest) {
        return this.row({ path: o.path, kind: 'replaced', listed, detail: `same file nonce but content digest ${short(o.digest.toLowerCase())} differs from the manifest's ${short(listed.digest)}: altered after sealing` });
      }
      if (o.size !== null && o.size !== listed.size) {
        return this.row({ path: o.path, kind: 'replaced', listed, detail: `same file nonce but plaintext size ${o.size} differs from the manifest's ${listed.size}: altered after sealing` });
      }
      this.flags[li!]! |= 4;
      return this.row({ path: o.path, kind: 'ok', listed, detail: 'matches the manifest' });
    }
    if (listed !== undefined) {
      if (hi === undefined) {
        return this.row({ path: o.path, kind: 'replaced', listed, detail: `another envelope (file nonce ${short(nonce)}) than the manifest lists here (${short(listed.nonce)}): an older or foreign version put in its place` });
      }
      const holds = this.m.entries[hi]!;
      return this.row({ path: o.path, kind: 'swapped', listed, holds, detail: `holds the envelope the manifest lists as ${quoteName(holds.path)}` });
    }
    if (hi === undefined) return this.row({ path: o.path, kind: 'extra', detail: 'not in the manifest (an envelope that was not sealed in this batch)' });
    this.deferred.push({ path: o.path, entry: hi }); // renamed, or a copy: known once every file is seen
    return null;
  }

  /** The rows decided at the end: renamed and duplicate files, then missing entries in path order. */
  finish(): BatchRow[] {
    if (this.finished) throw new Error('ManifestCheck: finish twice');
    this.finished = true;
    const out: BatchRow[] = [];
    const movedTo = new Map<number, string>();
    for (const d of this.deferred) {
      const holds = this.m.entries[d.entry]!;
      if (this.flags[d.entry]! & 4) {
        out.push(this.row({ path: d.path, kind: 'duplicate', holds, detail: `a copy of ${quoteName(holds.path)}, which is also in its place` }));
      } else if (movedTo.has(d.entry)) {
        out.push(this.row({ path: d.path, kind: 'duplicate', holds, detail: `another copy of the envelope listed as ${quoteName(holds.path)} (also found as ${quoteName(movedTo.get(d.entry)!)})` }));
      } else {
        movedTo.set(d.entry, d.path);
        out.push(this.row({ path: d.path, kind: 'renamed', holds, detail: `the envelope the manifest lists as ${quoteName(holds.path)}, under another name` }));
      }
    }
    this.m.entries.forEach((e, i) => {
      if (this.flags[i]! & 3) return; // its path or its envelope is in the tree: reported above
      if (this.opt.inScope && !this.opt.inScope(e.path)) return;
      out.push(this.row({ path: e.path, kind: 'missing', listed: e, detail: `listed in the manifest (${e.size} bytes of plaintext) but not in the tree` }));
    });
    return out;
  }

  /** Rows so far by kind. */
  counts(): Record<BatchKind, number> {
    return Object.fromEntries(BATCH_KINDS.map((k) => [k, this.tally.get(k) ?? 0])) as Record<BatchKind, number>;
  }

  /** True when every row so far is ok (final after finish()). */
  get matches(): boolean {
    for (const [k, n] of this.tally) if (k !== 'ok' && n > 0) return false;
    return true;
  }

  private row(r: BatchRow): BatchRow {
    this.tally.set(r.kind, (this.tally.get(r.kind) ?? 0) + 1);
    return r;
  }
}

export interface ManifestComparison {
  rows: BatchRow[];
  counts: Record<BatchKind, number>;
  matches: boolean;
}

/** The whole comparison at once. */
export function compareManifest(m: Manifest, observed: Iterable<Observed>, opt: ManifestCheckOptions = {}): ManifestComparison {
  const c = new ManifestCheck(m, opt);
  const rows: BatchRow[] = [];
  for (const o of observed) {
    const r = c.observe(o);
    if (r) rows.push(r);
  }
  rows.push(...c.finish());
  return { rows, counts: c.counts(), matches: c.matches };
}
