// Which file system holds a folder, from the system's mount table: on Linux /proc/self/mountinfo
// (proc(5): "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
// SUPEROPTIONS", with space, tab, newline and backslash written as \040 \011 \012 \134), matched
// by the folder's device number; on macOS the lines of /sbin/mount ("SOURCE on MOUNTPOINT (TYPE,
// OPTION, ...)"), matched by the longest mount point that holds the folder. FUSE mounts of block
// devices all say "fuseblk" (and ntfs-3g run on an image file says "fuse"), so for those the
// first sector of the source tells NTFS, exFAT and FAT apart when aenv may read it (root, or the
// disk group); else the kind stays unknown and the folder's probe (probe.ts) decides.

import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, constants as fsc } from 'node:fs';
import * as path from 'node:path';

export interface MountEntry {
  /** MAJOR:MINOR of the device (Linux), or '' (macOS). */
  device: string;
  mountPoint: string;
  fstype: string;
  source: string;
  /** Per-mount and superblock options together. */
  options: string[];
}

/** The kinds of file system aenv tells apart. */
export type FsKind = 'fat' | 'exfat' | 'ntfs' | 'smb' | 'apfs' | 'hfs' | 'posix' | 'windows' | 'unknown';

export interface MountKind {
  kind: FsKind;
  /** For people: "FAT32 (vfat)", "exFAT (exfat-fuse)", "NTFS (ntfs-3g)", "ext4". */
  label: string;
  /** A FUSE mount: other users reach it only with allow_other. */
  fuse: boolean;
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 3) continue;
    out.push({
      device: f[2]!, mountPoint: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!),
      options: [...f[5]!.split(','), ...(f[dash + 3] ?? '').split(',')].filter(Boolean),
    });
  }
  return out;
}

/** Lines of macOS's /sbin/mount. */
export function parseMacMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(.*) on (.*) \(([^,()]+)(?:, ([^()]*))?\)$/.exec(line.trim());
    if (m) out.push({ device: '', source: m[1]!, mountPoint: m[2]!, fstype: m[3]!, options: (m[4] ?? '').split(', ').filter(Boolean) });
  }
  return out;
}

/** The mount table now (null where aenv cannot read one). Read afresh each time: a FUSE device number is reused as soon as a drive is unmounted. */
export function mountTable(): MountEntry[] | null {
  try {
    if (process.platform === 'linux') return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    if (process.platform === 'darwin') {
      const r = spawnSync('/sbin/mount', [], { encoding: 'utf8', timeout: 3000 });
      return r.status === 0 ? parseMacMounts(r.stdout) : null;
    }
  } catch {
    /* no table */
  }
  return null;
}

/** Linux's MAJOR:MINOR of a device number as stat gives it (glibc's encoding). */
export function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');

/** The mount that holds the folder with real path `real` and device `dev` (Linux: the device; else the longest mount point). */
export function mountOf(mounts: readonly MountEntry[], real: string, dev: bigint | null): MountEntry | null {
  const mm = dev !== null && process.platform === 'linux' ? majorMinor(dev) : null;
  let best: MountEntry | null = null;
  for (const m of mounts) {
    if (mm !== null && m.device !== mm) continue;
    if (!under(real, m.mountPoint)) continue;
    if (!best || m.mountPoint.length > best.mountPoint.length) best = m;
  }
  if (!best && mm !== null) best = mounts.find((m) => m.device === mm) ?? null; // a bind mount of a subfolder
  return best;
}

// Linux's own file systems, and network and virtual ones that keep POSIX names: no probe needed.
const POSIX = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'ramfs', 'zfs', 'f2fs', 'jfs', 'reiserfs', 'overlay', 'nfs', 'nfs4',
  '9p', 'virtiofs', 'squashfs', 'erofs', 'bcachefs', 'nilfs2', 'ocfs2', 'gfs2', 'ceph',
  'devtmpfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'securityfs', 'debugfs', 'tracefs', 'pstore', 'bpf',
  'hugetlbfs', 'configfs', 'fusectl', 'binfmt_misc', 'autofs', 'efivarfs', 'selinuxfs', 'rpc_pipefs', 'nsfs',
]);

/** What a first sector says: FAT (with its FAT type), exFAT or NTFS; null for anything else. */
export function bootSectorKind(b: Uint8Array): { kind: 'fat' | 'exfat' | 'ntfs'; label: string } | null {
  if (b.length < 512) return null;
  const ascii = (from: number, n: number): string => Buffer.from(b.subarray(from, from + n)).toString('latin1');
  if (ascii(3, 8) === 'EXFAT   ') return { kind: 'exfat', label: 'exFAT' };
  if (ascii(3, 8) === 'NTFS    ') return { kind: 'ntfs', label: 'NTFS' };
  if (b[510] !== 0x55 || b[511] !== 0xaa) return null;
  if (ascii(82, 8) === 'FAT32   ') return { kind: 'fat', label: 'FAT32' };
  const t = ascii(54, 8);
  if (t === 'FAT16   ' || t === 'FAT12   ' || t === 'FAT     ') return { kind: 'fat', label: t.trim() };
  return null;
}

/** The first sector of a device or image aenv may read, else null (never blocks: O_NONBLOCK). */
export function readBootSector(source: string): Uint8Array | null {
  if (!path.isAbsolute(source)) return null;
  let fd: number | undefined;
  try {
    fd = openSync(source, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0) | (fsc.O_NOFOLLOW ?? 0));
    const b = new Uint8Array(512);
    return readSync(fd, b, 0, 512, 0) === 512 ? b : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const FUSE_SUBTYPES: Record<string, { kind: FsKind; label: string }> = {
  fusefat: { kind: 'fat', label: 'FAT (fusefat)' },
  exfat: { kind: 'exfat', label: 'exFAT (exfat-fuse)' },
  'exfat-fuse': { kind: 'exfat', label: 'exFAT (exfat-fuse)' },
  'ntfs-3g': { kind: 'ntfs', label: 'NTFS (ntfs-3g)' },
  'lowntfs-3g': { kind: 'ntfs', label: 'NTFS (lowntfs-3g)' },
  ntfs: { kind: 'ntfs', label: 'NTFS (ntfs-3g)' },
};

/** The kind of file system of a mount (`sniff` reads a source's first sector). */
export function kindOf(m: MountEntry, sniff: (source: string) => Uint8Array | null = readBootSector): MountKind {
  const [base, sub] = m.fstype.split('.', 2) as [string, string | undefined];
  const fuse = base === 'fuse' || base === 'fuseblk' || m.fstype === 'osxfuse' || m.fstype === 'macfuse';
  if (fuse) {
    const known = sub !== undefined ? FUSE_SUBTYPES[sub] : undefined;
    if (known) return { ...known, fuse };
    if (sub === undefined) {
      const b = sniff(m.source);
      const k = b ? bootSectorKind(b) : null;
      const driver = k?.kind === 'ntfs' ? 'ntfs-3g' : k?.kind === 'exfat' ? 'exfat-fuse' : base;
      if (k) return { kind: k.kind, label: `${k.label} (${driver})`, fuse };
      // A FUSE driver of a block device is all but always ntfs-3g or exfat-fuse: Windows' rules.
      if (base === 'fuseblk') return { kind: 'windows', label: 'a FUSE mount of a drive (NTFS or exFAT, its first sector unreadable)', fuse };
    }
    return { kind: 'unknown', label: `FUSE (${sub ?? base})`, fuse };
  }
  // WSL's Windows drives: drvfs (WSL 1), or 9p serving drvfs (WSL 2)
  if (m.fstype === 'drvfs' || (m.fstype === '9p' && m.options.some((o) => o.startsWith('aname=drvfs')))) {
    return { kind: 'windows', label: `a Windows drive (WSL, ${m.source})`, fuse };
  }
  switch (m.fstype) {
    case 'vfat':
    case 'msdos':
    case 'fat': {
      const k = bootSectorKind(sniff(m.source) ?? new Uint8Array(0));
      return { kind: 'fat', label: `${k?.kind === 'fat' ? k.label : 'FAT'} (${m.fstype})`, fuse };
    }
    case 'exfat':
      return { kind: 'exfat', label: 'exFAT', fuse };
    case 'ntfs3':
    case 'ntfs':
      return { kind: 'ntfs', label: `NTFS (${m.fstype})`, fuse };
    case 'cifs':
    case 'smb3':
    case 'smbfs':
      return { kind: 'smb', label: `an SMB share (${m.source})`, fuse };
    case 'apfs':
      return { kind: 'apfs', label: 'APFS', fuse };
    case 'hfs':
    case 'hfsplus':
      return { kind: 'hfs', label: 'HFS+', fuse };
    default:
      return POSIX.has(m.fstype) ? { kind: 'posix', label: m.fstype, fuse } : { kind: 'unknown', label: m.fstype, fuse };
  }
}

/** Whether a mount keeps Linux's own naming (no rules to check beyond the name's length, no probe). */
export function isPosix(k: MountKind): boolean {
  return k.kind === 'posix';
}
