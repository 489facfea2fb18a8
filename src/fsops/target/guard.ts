// Every planned output of a run checked against its drive before any byte of it is written
// (docs/removable-drives.md): each name of its path below the output base (folders and file) must
// be one the file system can hold (rules.ts), else the file fails as `bad-name`, or with
// --portable-names gets a name it can hold (portable.ts) and its row says so; and no two names of
// the run, nor a name of the run and a name already in the folder, may be one name on that file
// system (case, Unicode normalisation), else each of them fails as `name-conflict`, naming the
// other. A plaintext larger than the file system holds fails as `too-large` (checkSize).
//
// Conflicts between outputs of the run are found by a pass over every planned output before the
// run (prepass), so that both files of a pair fail and neither is written; where the inputs cannot
// be read twice (a list on standard input) they are found as the files come, and then the first
// of a pair is written and the second fails naming it. Memory: for each output folder on a drive
// that folds names, the folded key and the name of each entry (the run's and those already there);
// nothing on drives that fold nothing (Linux's own file systems). After the prepass only the
// conflicts are kept.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTempName } from '../atomic.js';
import type { Planned } from '../plan.js';
import { TargetError } from './errors.js';
import { portableName, schemeFor, tagged, type Scheme } from './portable.js';
import { foldKey, foldText, nameProblems, type NameRules } from './rules.js';
import { FAT_MAX_FILE, Targets, type Target } from './target.js';

/** How an output was renamed by --portable-names. */
export interface Renamed {
  /** The planned output path, before renaming. */
  from: string;
  /** The renamed part of the path below the output base, before and after. */
  fromRel: string;
  toRel: string;
  /** Why, e.g. `FAT (fusefat) cannot hold ":" and "?"`. */
  reason: string;
  scheme: Scheme;
}

export interface Admitted {
  /** The plan as the drive can hold it (renamed with --portable-names). */
  planned: Planned;
  target: Target;
  renamed: Renamed | null;
}

/** An entry of a folder: its name with a tag in front (f, d: a file, a folder of the run; F, D: one already there). */
type Entry = string;
const isDir = (e: Entry): boolean => e[0] === 'd' || e[0] === 'D';
const isThere = (e: Entry): boolean => e[0] === 'F' || e[0] === 'D';

type Mode = 'record' | 'stream' | 'check';

const RENAME_HINT = 'rename the envelope, or pass --portable-names to write it under a look-alike name the drive can hold (its row then says which)';

/** The entries of one output folder on a drive that folds names; after the pass before the run only its conflicts stay. */
interface Folder {
  /** Folded name -> the first entry the run met (or the one already there). */
  names: Map<string, Entry> | null;
  /** Folded names held by more than one name -> those entries, the first first. */
  conflicts: Map<string, Entry[]> | null;
}

/** Where the outputs of one planned folder go, worked out once per folder (the files of a folder come together). */
interface Place {
  target: Target;
  /** The folders below the base as the drive holds them, and why any was renamed. */
  comps: string[];
  why: string[];
  /** The output folder's key (the base, then each folder's folded name), its path, its path as shown. */
  key: string;
  disk: string;
  shown: string;
  error: TargetError | null;
}

export class NameGuard {
  readonly targets: Targets;
  /** Per output folder (by key) on a drive that folds names. */
  private readonly folders = new Map<string, Folder>();
  private checkedAll = false;
  /** Places by base and relative folder; emptied when large (each is worked out again, to the same result). */
  private readonly places = new Map<string, Place>();

  constructor(readonly portable: boolean, targets?: Targets) {
    this.targets = targets ?? new Targets();
  }

  /** Names recorded for the fold checks (entries of the run and already there). */
  get recorded(): number {
    let n = 0;
    for (const f of this.folders.values()) n += f.names?.size ?? 0;
    return n;
  }

  /** Conflicts found (folded names held by more than one name). */
  get conflictCount(): number {
    let n = 0;
    for (const f of this.folders.values()) n += f.conflicts?.size ?? 0;
    return n;
  }

  /**
   * Every planned output of the run, before the run: the conflicts among them (and with what is
   * already in their folders) are found now, so that every file of a conflict fails. Only the
   * conflicts are kept afterwards.
   */
  async prepass(planned: AsyncIterable<Planned> | Iterable<Planned>): Promise<void> {
    for await (const p of planned) {
      try {
        this.place(p, 'record');
      } catch (e) {
        if (!(e instanceof TargetError)) throw e; // a bad name fails on its own in the run
      }
    }
    for (const [k, f] of this.folders) {
      if (f.conflicts) f.names = null;
      else this.folders.delete(k);
    }
    this.places.clear();
    this.checkedAll = true;
  }

  /** The output as the drive can hold it; throws TargetError (bad-name, name-conflict). */
  admit(p: Planned): Admitted {
    return this.place(p, this.checkedAll ? 'check' : 'stream');
  }

  /** Throws TargetError (too-large) when a file of `bytes` (its plaintext, or the envelope encrypt writes) is larger than the drive holds. */
  static checkSize(a: Admitted, bytes: number, what: 'plaintext' | 'envelope' = 'plaintext'): void {
    const max = a.target.maxFileSize;
    if (max === null || bytes <= max) return;
    throw new TargetError('too-large',
      `its ${what} is ${bytes} bytes, larger than ${a.target.label} holds in one file (${max === FAT_MAX_FILE ? '4 GiB - 1 byte' : `${max} bytes`}); nothing was written`,
      `${what === 'plaintext' ? 'decrypt' : 'encrypt'} it onto a drive formatted exFAT or NTFS (or another disk): FAT32 holds files up to 4 GiB - 1 byte`);
  }

  private place(p: Planned, mode: Mode): Admitted {
    const at = this.folderPlace(p.base, p.relDir, mode);
    if (at.error) throw at.error;
    const { target } = at;
    const name = path.basename(p.output);
    const file = this.fit(name, target, 'output');
    let mapped = file.name;
    let why = at.why;
    if (file.why) why = [...why, file.why];
    if (folds(target.rules)) {
      const apart = this.step(at.key, at.disk, at.shown, foldKey(mapped, target.rules), 'f', mapped, name, target, mode);
      if (apart) {
        mapped = apart.name;
        why = [...why, apart.why];
      }
    }
    if (why.length === 0) return { planned: p, target, renamed: null };
    const relDir = at.comps.join(path.sep);
    return {
      planned: { ...p, relDir, output: path.join(p.base, relDir, mapped) }, target,
      renamed: {
        from: p.output, fromRel: path.join(p.relDir, name), toRel: path.join(relDir, mapped),
        reason: `${target.label}: ${why.join('; ')}`, scheme: schemeFor(target.rules),
      },
    };
  }

  /** The output folder of `base`/`relDir`: its drive, its folders' names as the drive holds them (checked and recorded once). */
  private folderPlace(pbase: string, relDir: string, mode: Mode): Place {
    const cacheKey = `${pbase}\0${relDir}`;
    const had = this.places.get(cacheKey);
    if (had) return had;
    const base = path.resolve(pbase);
    const target = this.targets.of(path.join(base, relDir));
    const place: Place = { target, comps: [], why: [], key: base, disk: base, shown: pbase, error: null };
    try {
      for (const c of relDir === '' ? [] : relDir.split(path.sep)) {
        const f = this.fit(c, target, 'folder');
        let name = f.name;
        if (f.why) place.why.push(f.why);
        if (folds(target.rules)) {
          // Keys by the names as mapped for the drive (never by a name told apart below: the pass before the run did not know it).
          const k = foldKey(name, target.rules);
          const apart = this.step(place.key, place.disk, place.shown, k, 'd', name, c, target, mode);
          if (apart) {
            name = apart.name;
            place.why.push(apart.why);
          }
          place.key += `/${k}`;
        }
        place.comps.push(name);
        place.disk = path.join(place.disk, name);
        place.shown = path.join(place.shown, name);
      }
    } catch (e) {
      if (!(e instanceof TargetError)) throw e;
      place.error = e;
    }
    if (this.places.size > 4096) this.places.clear();
    this.places.set(cacheKey, place);
    return place;
  }

  /** One name as the drive can hold it: itself, or (--portable-names) its portable form with the reason; else bad-name. */
  private fit(name: string, target: Target, role: 'output' | 'folder'): { name: string; why: string | null } {
    const problems = nameProblems(name, target.rules);
    if (problems.length === 0) return { name, why: null };
    const said = `${JSON.stringify(name)} ${problems.map((x) => x.text).join('; ')}`;
    if (!this.portable) throw new TargetError('bad-name', `its ${role} name ${said}: ${target.label} cannot hold it; nothing was written`, RENAME_HINT);
    const mapped = portableName(name, target.rules);
    const left = nameProblems(mapped, target.rules);
    if (left.length) {
      throw new TargetError('bad-name', `its ${role} name ${said}, and its portable form ${JSON.stringify(mapped)} ${left.map((x) => x.text).join('; ')}: ${target.label} cannot hold it; nothing was written`,
        'rename the envelope');
    }
    return { name: mapped, why: said };
  }

  /**
   * Records (record, stream) and checks (stream, check) one entry of a folder: `name` (as mapped
   * for the drive, folded to `k`) of a file (f) or folder (d) whose name in the run is `original`.
   * On a conflict: name-conflict, or with --portable-names every name but the first the run met
   * (or the one already there) is told apart (tagged()), and the new name and why are returned.
   */
  private step(folderKey: string, disk: string, shown: string, k: string, kind: 'f' | 'd', name: string, original: string,
    target: Target, mode: Mode): { name: string; why: string } | null {
    const entry: Entry = kind + name;
    const apart = (x: Entry): boolean => !sameName(x, entry, target.rules) && !(isDir(x) && isDir(entry) && target.foldsOnDisk);
    let f = this.folders.get(folderKey);
    if (mode !== 'check') {
      if (!f) this.folders.set(folderKey, (f = { names: this.existing(disk, target.rules), conflicts: null }));
      const prev = f.names!.get(k);
      if (prev === undefined) f.names!.set(k, entry);
      else if (apart(prev)) {
        f.conflicts ??= new Map();
        let c = f.conflicts.get(k);
        if (!c) f.conflicts.set(k, (c = [prev]));
        if (!c.some((x) => x.slice(1) === name) && c.length < 16) c.push(entry);
      }
    }
    if (mode === 'record') return null;
    const c = f?.conflicts?.get(k);
    const others = c?.filter(apart);
    if (!c || !others?.length) return null;
    if (!this.portable) throw conflictError(shown, entry, others, target);
    const first = c[0]!;
    if (!apart(first)) return null; // the first name the run met (or the one already there) keeps its name
    const how = foldText(name, first.slice(1), target.rules);
    return {
      name: tagged(original, name, target.rules),
      why: `${JSON.stringify(name)} and ${isDir(first) ? 'the folder ' : ''}${JSON.stringify(first.slice(1))}${isThere(first) ? ' (already there)' : ''} are one name there, which ${how}`,
    };
  }

  /** The entries already in the folder `disk` (none when it does not exist yet), by folded name. */
  private existing(disk: string, rules: NameRules): Map<string, Entry> {
    const names = new Map<string, Entry>();
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(disk, { withFileTypes: true });
    } catch {
      return names;
    }
    for (const e of ents) {
      if (isTempName(e.name)) continue;
      const k = foldKey(e.name, rules);
      if (!names.has(k)) names.set(k, `${e.isDirectory() ? 'D' : 'F'}${e.name}`);
    }
    return names;
  }
}

const folds = (r: NameRules): boolean => r.caseInsensitive || r.normalizationInsensitive;

/** The same name: identical, or (an entry already there, on a drive that normalises) the same once normalised. */
function sameName(a: Entry, b: Entry, rules: NameRules): boolean {
  const x = a.slice(1);
  const y = b.slice(1);
  if (x === y) return true;
  return (isThere(a) || isThere(b)) && rules.normalizationInsensitive && x.normalize('NFC') === y.normalize('NFC');
}

function conflictError(folder: string, entry: Entry, others: Entry[], target: Target): TargetError {
  const me = entry.slice(1);
  const mine = path.join(folder, me);
  const shown = others.slice(0, 3).map((o) => `${isDir(o) ? 'the folder ' : ''}${path.join(folder, o.slice(1))}${isThere(o) ? ' (already there)' : others.length === 1 ? ' (another output of this run)' : ''}`);
  const more = others.length > 3 ? ` and ${others.length - 3} more` : '';
  const how = foldText(me, others[0]!.slice(1), target.rules);
  const there = others.some(isThere);
  const role = isDir(entry) ? `its folder ${mine}` : `its output ${mine}`;
  const split = isDir(entry) && others.every(isDir)
    ? ` (${target.label} would make ${others.length + 1} folders that Windows cannot tell apart)` : '';
  return new TargetError('name-conflict',
    `${role} and ${shown.join(', ')}${more} are one name on ${target.label}, which ${how}${split}; nothing was written`,
    there
      ? 'a file already in that folder has the same name but for case or accents: move or rename it (or the envelope), decrypt into another folder, or pass --portable-names to give the output a name of its own'
      : 'two envelopes of this run would get one name on this drive: rename one, decrypt them into separate folders, or pass --portable-names (the first keeps its name, the others get one of their own)');
}
