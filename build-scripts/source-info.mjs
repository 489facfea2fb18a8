// What a build is made from: the git commit (marked -dirty when files differ from it or are untracked),
// its commit time (the one timestamp a reproducible release may use), and the Node.js version
// package.json pins through its node-<os>-<arch> optional dependencies. Shared by build-bin.mjs
// (the commit goes into `aenv --version`) and release.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let lastGitError = '';

function git(root, args) {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) lastGitError = (r.stderr || r.error?.message || '').trim().split('\n')[0];
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * { commit, dirty, epoch, date, label }: label is what --version shows (the commit id, with
 * "-dirty" appended when the tree differs from it; "unknown" outside a git checkout).
 */
export function sourceInfo(root) {
  const commit = git(root, ['rev-parse', '--verify', 'HEAD']);
  if (!commit) return { commit: null, dirty: false, epoch: null, date: null, label: 'unknown', error: lastGitError };
  const status = git(root, ['status', '--porcelain', '--untracked-files=normal']);
  const dirty = status === null || status !== '';
  const epoch = Number(git(root, ['log', '-1', '--format=%ct', 'HEAD']));
  const date = new Date(epoch * 1000).toISOString().slice(0, 10);
  return { commit, dirty, epoch, date, label: dirty ? `${commit}-dirty` : commit };
}

/** The Node.js version package.json pins (all node-<os>-<arch> optional dependencies agree). */
export function pinnedNodeVersion(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const pins = Object.entries(pkg.optionalDependencies ?? {}).filter(([name]) => /^node-(linux|win|darwin)-/.test(name));
  const versions = [...new Set(pins.map(([, v]) => v))];
  if (versions.length !== 1 || !/^\d+\.\d+\.\d+$/.test(versions[0])) {
    throw new Error(`package.json must pin one exact Node.js version in its node-<os>-<arch> optionalDependencies; found ${JSON.stringify(Object.fromEntries(pins))}`);
  }
  return { version: versions[0], packages: pins.map(([name]) => name).sort() };
}
