// Who else can reach an output folder that other users seem able to write to (fsops/dirs.ts
// finds the folder: group or others may write, no sticky bit), told apart by why: on a drive that
// keeps no owners or permissions (FAT, exFAT, ntfs-3g without a user mapping) every folder shows
// mode 0777 because the mount gives every file one mode, not because someone opened the folder
// up; whether other users can then read and change the files depends on the mount (a FUSE mount
// without allow_other lets no other user in at all). On any other file system the folder itself
// lets other users in. On Windows nothing can be said: its ACLs are not visible to Node. The
// warning's words are engine/statuses.ts's.

import { knownTarget, type Target } from './target.js';

export type SharedReach =
  /** Nobody else can reach it, or nothing true can be said (Windows). */
  | { kind: 'none' }
  /** A drive that keeps no permissions, mounted so that every local user reaches it. */
  | { kind: 'permissionless'; target: Target }
  /** The folder's own mode lets other users in. */
  | { kind: 'folder' };

/** Why other users can reach the folder `folder`, which shows as writable by them. */
export function sharedReach(folder: string, platform: string = process.platform): SharedReach {
  // Windows keeps who may write in ACLs, which Node cannot read: the mode it shows (0777 for every
  // folder) says nothing, so there is nothing true to warn about.
  if (platform === 'win32') return { kind: 'none' };
  const t = knownTarget(folder);
  const permissionless = t !== null && (t.modes === false || ((t.kind === 'fat' || t.kind === 'exfat' || t.kind === 'ntfs') && t.modes !== true));
  if (t && permissionless) return t.privateFuse ? { kind: 'none' } : { kind: 'permissionless', target: t };
  return { kind: 'folder' };
}
