// Real FAT32, exFAT and NTFS mounts for the drive tests (root only, as CI runs): an image made in
// a temp folder by mkfs.vfat, mkfs.exfat or mkfs.ntfs and mounted by FUSE, the way the brief
// measured it: `fusefat -o rw+ IMG DIR`, `losetup -f --show IMG` then `mount.exfat-fuse DEV DIR`,
// `ntfs-3g IMG DIR`. unmount() always unmounts, detaches the loop device and removes the folder,
// and is safe to call twice; call it in a finally or afterAll. A tool that is missing fails the
// test at once, naming the apt package (.ci/run installs them).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export type DriveKind = 'fat' | 'exfat' | 'ntfs';
export const DRIVE_KINDS: readonly DriveKind[] = ['fat', 'exfat', 'ntfs'];
export const DRIVE_PACKAGES = 'fusefat exfat-fuse exfatprogs ntfs-3g dosfstools';

export interface Drive {
  kind: DriveKind;
  /** The mount point. */
  dir: string;
  img: string;
  /** Unmounts and mounts again read-only (FUSE cannot remount: umount, then mount with -o ro). */
  remountRo(): void;
  /** Unmounts and mounts again writable. */
  remountRw(): void;
  /** Unmounts, detaches, removes the image and folders; never throws. */
  unmount(): void;
}

function sh(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${what}: cannot run ${cmd} (${r.error.message}); apt: ${DRIVE_PACKAGES}`);
  if (r.status !== 0) throw new Error(`${what}: ${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** A fresh image of `mib` MiB (a sparse file) made as `kind`, mounted on a fresh folder. */
export function mountDrive(kind: DriveKind, mib = 64): Drive {
  const root = mkdtempSync(path.join(tmpdir(), `aenv-drive-${kind}-`));
  const img = path.join(root, `${kind}.img`);
  const dir = path.join(root, 'mnt');
  mkdirSync(dir);
  let loop: string | null = null;
  let mounted = false;
  const mount = (ro: boolean): void => {
    const opt = ro ? ['-o', 'ro'] : [];
    if (kind === 'fat') sh('fusefat', ['-o', ro ? 'ro' : 'rw+', img, dir], 'mount FAT32');
    else if (kind === 'exfat') {
      loop = sh('losetup', ['-f', '--show', ...(ro ? ['-r'] : []), img], 'attach the exFAT image').trim();
      sh('mount.exfat-fuse', [...opt, loop, dir], 'mount exFAT');
    } else sh('ntfs-3g', [...opt, img, dir], 'mount NTFS');
    mounted = true;
  };
  const umount = (): void => {
    if (mounted) {
      const u = spawnSync('umount', [dir]);
      if (u.status !== 0) spawnSync('umount', ['-l', dir]);
      mounted = false;
    }
    if (loop) {
      spawnSync('losetup', ['-d', loop]);
      loop = null;
    }
  };
  try {
    sh('truncate', ['-s', `${mib}M`, img], 'make the image');
    if (kind === 'fat') sh('mkfs.vfat', ['-F', '32', img], 'format FAT32');
    else if (kind === 'exfat') sh('mkfs.exfat', [img], 'format exFAT');
    else sh('mkfs.ntfs', ['-F', '-Q', img], 'format NTFS');
    mount(false);
  } catch (e) {
    umount();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    kind, dir, img,
    remountRo: () => {
      umount();
      mount(true);
    },
    remountRw: () => {
      umount();
      mount(false);
    },
    unmount: () => {
      try {
        umount();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
