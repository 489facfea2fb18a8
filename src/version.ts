// The aenv version and build identity: the one place that says what `aenv --version` prints.
// VERSION is kept equal to package.json's (test/version.test.ts). The single binary's build
// (build-scripts/build-bin.mjs) fills in the commit with esbuild `define`, so a binary names
// exactly what it was built from; run from a checkout (tsc build, vitest) the commit is read from
// the checkout's .git files without starting a process, or is "unknown". The target is the
// platform the runtime reports, which for a binary is the one it was built for (it runs nowhere
// else; Rosetta 2 and qemu report the emulated one): so the JavaScript inside every target's
// binary is the same bytes, which the release checks for the darwin-x64 binary it cannot run.

import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const VERSION = '0.1.0';

// Replaced by a string literal when build-bin.mjs bundles the binary; undeclared (typeof gives
// 'undefined') everywhere else.
declare const __AENV_BUILD_COMMIT__: string;

/** This platform as build-bin.mjs names its targets: linux-x64, win-x64, darwin-arm64, ... */
export function hostTarget(): string {
  return `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
}

const HEX = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Resolves HEAD in a git directory: a detached id, a loose ref, or a packed ref. */
function headCommit(gitDir: string): string | null {
  const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
  if (HEX.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  let common = gitDir; // a linked worktree keeps its branches in the main repository's folder
  try {
    common = path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree
  }
  for (const dir of [gitDir, common]) {
    try {
      const id = readFileSync(path.join(dir, ref), 'utf8').trim();
      if (HEX.test(id)) return id;
    } catch {
      // not a loose ref here
    }
  }
  for (const line of readFileSync(path.join(common, 'packed-refs'), 'utf8').split('\n')) {
    const [id, name] = line.split(' ');
    if (name === ref && id && HEX.test(id)) return id;
  }
  return null;
}

/** The commit of the checkout this file runs from: the nearest package.json's folder's .git. */
function checkoutCommit(): string {
  try {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    for (let up = 0; up < 4; up++, dir = path.dirname(dir)) {
      try {
        statSync(path.join(dir, 'package.json'));
      } catch {
        continue;
      }
      const dotGit = path.join(dir, '.git');
      const gitDir = statSync(dotGit).isDirectory()
        ? dotGit
        : path.resolve(dir, /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim() ?? '');
      return headCommit(gitDir) ?? 'unknown';
    }
  } catch {
    // no readable .git: not a checkout
  }
  return 'unknown';
}

/** What `aenv --version` prints: version, commit, Node.js runtime and target. */
export function versionLine(): string {
  if (typeof __AENV_BUILD_COMMIT__ === 'string') {
    return `aenv ${VERSION} (commit ${__AENV_BUILD_COMMIT__}; Node.js ${process.version}; ${hostTarget()})`;
  }
  return `aenv ${VERSION} (commit ${checkoutCommit()}; Node.js ${process.version}; ${hostTarget()}; run from a checkout)`;
}
