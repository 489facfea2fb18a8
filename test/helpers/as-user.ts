// Running a helper process as a second user (nobody, when the tests run as root, as CI does),
// wherever the checkout lives (issue 21 item 7): a checkout in a folder that user cannot enter
// (a `mktemp -d` folder, anything under /root) holds both the Node.js binary and the script the
// helper needs, so they are made reachable first: a fresh folder in the system's temporary folder
// (mode 0755), this Node.js hard-linked into it (copied when the link is not possible), and the
// scripts copied. Then the user must be able to start it there, or setup fails at once with the
// reason (never a test that waits for a process that could not start).

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const NOBODY = 65534;

export interface ForUser {
  uid: number;
  gid: number;
  /** The Node.js binary, where the user can run it. */
  node: string;
  /** Each script given, by its base name, where the user can read it. */
  scripts: Record<string, string>;
  /** The folder holding them (0755). */
  dir: string;
  cleanup(): void;
}

/** Makes `scripts` and this Node.js runnable by user `uid` (see the file comment); throws with the reason if that user still cannot start Node.js. */
export function forUser(scripts: string[], uid = NOBODY, gid = NOBODY): ForUser {
  const dir = mkdtempSync(path.join(tmpdir(), 'aenv-as-user-'));
  chmodSync(dir, 0o755);
  const node = path.join(dir, 'node');
  try {
    linkSync(process.execPath, node); // same file system: no 100 MB copy
  } catch {
    copyFileSync(process.execPath, node);
  }
  chmodSync(node, 0o755);
  const copies: Record<string, string> = {};
  for (const s of scripts) {
    const to = path.join(dir, path.basename(s));
    copyFileSync(s, to);
    chmodSync(to, 0o644);
    copies[path.basename(s)] = to;
  }
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const probe = spawnSync(node, ['-e', 'process.stdout.write("started")'], { uid, gid, encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0 || probe.stdout !== 'started') {
    cleanup();
    const why = probe.error ? (probe.error as NodeJS.ErrnoException).code ?? probe.error.message : `exit ${probe.status}, signal ${probe.signal}: ${probe.stderr.trim()}`;
    throw new Error(`user ${uid} cannot start ${node} (${why}); the tests that run a second user need a folder that user can reach in ${tmpdir()}`);
  }
  return { uid, gid, node, scripts: copies, dir, cleanup };
}
