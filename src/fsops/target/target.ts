// What the file system of an output folder allows (docs/removable-drives.md): its naming rules
// (rules.ts), the largest file it holds, whether it has hard links and keeps per-file modes, and
// whether other users can reach it. Known from the mount table (mounts.ts; Linux, macOS) or the
// volume (Windows), and from a probe of the folder (probe.ts) wherever the table does not settle
// it: every FUSE mount, FAT, exFAT, NTFS, SMB, macOS and Windows. Linux's own file systems (ext4,
// xfs, btrfs, tmpfs, ...) are known from the table alone and are not probed. One Target per
// device and run (Targets), so a run probes each output drive once.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kindOf, mountOf, mountTable, type FsKind, type MountEntry } from './mounts.js';
import { probeFolder, type FolderProbe } from './probe.js';
import { POSIX_RULES, WINDOWS_RULES, type NameRules } from './rules.js';

/** FAT's largest file: 4 GiB - 1 byte (its size field has 32 bits). */
export const FAT_MAX_FILE = 2 ** 32 - 1;

export interface Target {
  kind: FsKind;
  /** For people: "FAT32 (vfat)", "NTFS (ntfs-3g)", "ext4", "Windows (NTFS)". */
  label: string;
  mountPoint: string | null;
  rules: NameRules;
  /** The largest file in bytes, when there is a limit that matters. */
  maxFileSize: number | null;
  /** Names that differ only in case are one name on the disk itself (not only by Windows' rules). */
  foldsOnDisk: boolean;
  hardLinks: boolean | null;
  /** Per-file modes are kept (false: every file shows the mount's one mode). */
  modes: boolean | null;
  /** A FUSE mount without allow_other: no other user can reach it. */
  privateFuse: boolean;
  /** What the probe found (null: not probed, or no probe could be made). */
  probe: FolderProbe | null;
}

/** Rules of a kind of file system before any probe. */
function baseRules(kind: FsKind): NameRules {
  switch (kind) {
    case 'fat':
    case 'exfat':
    case 'ntfs':
    case 'smb':
    case 'windows':
      return { ...WINDOWS_RULES };
    case 'apfs':
      return { ...POSIX_RULES, caseInsensitive: true, normalizationInsensitive: true };
    case 'hfs':
      return { ...POSIX_RULES, maxName: { n: 255, unit: 'utf16' }, caseInsensitive: true, normalizationInsensitive: true };
    default:
      return { ...POSIX_RULES };
  }
}

/** Whether a kind of file system compares names without case on the disk itself, before any probe. */
function foldsByKind(kind: FsKind): boolean {
  return kind === 'fat' || kind === 'exfat' || kind === 'windows' || kind === 'apfs' || kind === 'hfs';
}

/**
 * A Target from what is known: the kind of file system, and the probe. Windows' rules stay
 * case-insensitive whatever the probe says (ntfs-3g creates names in its POSIX namespace, which
 * Windows then cannot tell apart); elsewhere the probe decides (a case-sensitive APFS).
 */
export function targetFrom(kind: FsKind, label: string, mountPoint: string | null, probe: FolderProbe | null, privateFuse = false, maxFileSize: number | null = null): Target {
  const rules = baseRules(kind);
  let foldsOnDisk = foldsByKind(kind);
  if (probe) {
    foldsOnDisk = probe.caseInsensitive;
    if (!rules.windows) rules.caseInsensitive = probe.caseInsensitive;
    if (probe.normalizationInsensitive !== null) rules.normalizationInsensitive = probe.normalizationInsensitive;
    rules.unicode = probe.unicode;
  }
  if (kind === 'unknown' && probe?.caseInsensitive) {
    // A mount the table does not name that folds case: most likely a Windows file system or share.
    Object.assign(rules, { windows: true, maxName: { n: 255, unit: 'utf16' } });
  }
  return {
    kind, label, mountPoint, rules, maxFileSize: maxFileSize ?? (kind === 'fat' ? FAT_MAX_FILE : null), foldsOnDisk,
    hardLinks: probe ? probe.hardLinks : kind === 'fat' || kind === 'exfat' ? false : null,
    modes: probe ? probe.modes : kind === 'fat' || kind === 'exfat' ? false : null,
    privateFuse, probe,
  };
}

/** The nearest folder of `p` that exists (`p` itself, or an ancestor), with its stat. */
export function nearestExisting(p: string): { dir: string; st: fs.BigIntStats } {
  let cur = path.resolve(p);
  for (;;) {
    try {
      const st = fs.statSync(cur, { bigint: true });
      if (st.isDirectory()) return { dir: cur, st };
    } catch {
      /* not there yet */
    }
    const up = path.dirname(cur);
    if (up === cur) throw new Error(`no folder of ${p} exists`);
    cur = up;
  }
}

/** Windows: the volume's file system name ("NTFS", "FAT32", "exFAT") from fsutil, when it answers. */
function windowsVolume(dir: string): string | null {
  const root = path.parse(dir).root.replace(/[\\/]+$/, '');
  if (!/^[A-Za-z]:$/.test(root)) return null; // a share (\\server\share): the server's file system is not asked
  try {
    const r = spawnSync('fsutil', ['fsinfo', 'volumeinfo', root], { encoding: 'utf8', timeout: 3000, windowsHide: true });
    const m = /File System Name\s*:\s*(\S+)/i.exec(r.stdout ?? '');
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** Known targets by device, for the shared-folder warning (the latest seen for each device). */
const known = new Map<string, Target>();

/** The kind of a folder's file system from the mount table or the volume, before any probe. */
function describe(dir: string, dev: bigint): { kind: FsKind; label: string; mountPoint: string | null; privateFuse: boolean; maxFileSize: number | null } {
  if (process.platform === 'win32') {
    const fsName = windowsVolume(dir);
    const unc = /^[\\/]{2}[^\\/]/.test(dir);
    return {
      kind: 'windows', label: unc ? 'a Windows share' : `Windows (${fsName ?? 'file system unknown'})`,
      mountPoint: path.parse(dir).root, privateFuse: false, maxFileSize: fsName?.toUpperCase() === 'FAT32' || fsName?.toUpperCase() === 'FAT' ? FAT_MAX_FILE : null,
    };
  }
  const mounts = mountTable();
  const m: MountEntry | null = mounts ? mountOf(mounts, safeReal(dir), dev) : null;
  if (!m) return { kind: process.platform === 'darwin' ? 'apfs' : 'unknown', label: 'unknown file system', mountPoint: null, privateFuse: false, maxFileSize: null };
  const k = kindOf(m);
  const privateFuse = k.fuse && !m.options.includes('allow_other');
  return { kind: k.kind, label: k.label, mountPoint: m.mountPoint, privateFuse, maxFileSize: null };
}

function safeReal(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The targets of one run: each device is looked up and probed once. */
export class Targets {
  private readonly byDev = new Map<string, Target>();
  /** Probes made, and the time they took (for the summary's measurements and tests). */
  probes = 0;
  probeMs = 0;

  /** The target of the folder `dir` (which need not exist yet: its nearest existing folder is asked). */
  of(dir: string): Target {
    const { dir: there, st } = nearestExisting(dir);
    const key = String(st.dev);
    let t = this.byDev.get(key);
    if (!t) {
      const d = describe(there, st.dev);
      let probe: FolderProbe | null = null;
      if (d.kind !== 'posix') {
        const t0 = performance.now();
        probe = probeFolder(there);
        this.probeMs += performance.now() - t0;
        this.probes++;
      }
      t = targetFrom(d.kind, d.label, d.mountPoint, probe, d.privateFuse, d.maxFileSize);
      this.byDev.set(key, t);
      known.set(key, t);
    }
    return t;
  }

  /** Every target looked up so far. */
  seen(): Target[] {
    return [...this.byDev.values()];
  }
}

/**
 * Whether an output below `bases` (null: anywhere) may land on a file system with rules of its
 * own: always off Linux; on Linux only when such a mount (FAT, exFAT, NTFS, SMB, FUSE, ...) holds
 * a base or lies below one. Decides whether a run makes a pass over its outputs first (engine/checks/drives.ts).
 */
export function mayFold(bases: readonly string[] | null): boolean {
  if (process.platform !== 'linux') return true;
  const mounts = mountTable();
  if (!mounts) return true;
  const special = mounts.filter((m) => kindOf(m, () => null).kind !== 'posix');
  if (special.length === 0) return false;
  if (bases === null) return true;
  for (const b of bases) {
    let real: string;
    let dev: bigint;
    try {
      const n = nearestExisting(b);
      real = fs.realpathSync(n.dir);
      dev = n.st.dev;
    } catch {
      return true;
    }
    const m = mountOf(mounts, real, dev);
    if (!m || kindOf(m, () => null).kind !== 'posix') return true;
    const prefix = real.endsWith('/') ? real : real + '/';
    if (special.some((s) => s.mountPoint.startsWith(prefix))) return true;
  }
  return false;
}

/** The target last seen on the device of `dir` in this process, else one from the mount table alone (no probe). */
export function knownTarget(dir: string): Target | null {
  try {
    const st = fs.statSync(dir, { bigint: true });
    const t = known.get(String(st.dev));
    if (t) return t;
    const d = describe(dir, st.dev);
    return targetFrom(d.kind, d.label, d.mountPoint, null, d.privateFuse, d.maxFileSize);
  } catch {
    return null;
  }
}
