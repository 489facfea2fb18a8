// `npm run bench`: times aenv decrypt/verify against `age -d` and `cp` on one
// large file, both suites and both crypto backends, plus a batch of small files,
// with each child's peak RSS, ratios, and PASS/MISS against the project's targets.
// Makes all its data in a temp folder (tmpfs when there is room), checks every
// decrypted output's SHA-256 against the original, and removes the data at the end
// or on SIGINT. Usage: node bench/bench.mjs [--size MiB] [--files N] [--quick] [--json]
// (see --help). AENV_BIN=path benchmarks another binary (e.g. dist/aenv).

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  GiB, KiB, MiB, TIME_BIN, checkTree, cleanup, fmtMiB, fmtRate, fmtS, fmtSize, installSignalCleanup,
  makeTmpDir, onPath, pickTmpRoot, run, table, walkFiles, writeRandomFile, writeSmallFiles,
} from './lib.mjs';
import { computeRatios, computeTargets, renderText } from './report.mjs';

const HELP = `usage: node bench/bench.mjs [options]   (or: npm run bench -- [options])
  --size MiB        large-file size (default 1024)
  --files N         small files in the batch (default 3000)
  --noble-size MiB  file size for the --backend noble rows (default 64, capped at --size)
  --quick           smoke run: --size 64 --files 300 --noble-size 16 (unless given)
  --repeat N        run each timed command N times, keep the fastest (default 1)
  --timeout S       kill a single run after S seconds and mark it failed (default 120)
  --json            print machine-readable results on stdout (progress stays on stderr;
                    through npm use "npm run -s bench -- --json" so npm adds no banner)
  --keep            keep the temp folder (its path is printed)
  --nice=N          run every timed command at nice N, its Linux autogroup included (e.g. --nice=-10
                    as root, to be less disturbed by other work on a shared machine; aenv, age, cp alike)
env: AENV_BIN=path  benchmark that binary (a .js/.mjs path runs under node) instead of node bin/aenv.js`;

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

// ---------------------------------------------------------------- options
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      size: { type: 'string' }, files: { type: 'string' }, 'noble-size': { type: 'string' },
      quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '1' }, timeout: { type: 'string', default: '120' },
      keep: { type: 'boolean', default: false }, nice: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${HELP}`);
  process.exit(2);
}
if (opts.help) { console.log(HELP); process.exit(0); }
const posInt = (v, name) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) { console.error(`--${name} must be a positive integer, got ${v}`); process.exit(2); }
  return n;
};
const SIZE = posInt(opts.size ?? (opts.quick ? 64 : 1024), 'size') * MiB;
const FILES = posInt(opts.files ?? (opts.quick ? 300 : 3000), 'files');
const NOBLE = Math.min(SIZE, posInt(opts['noble-size'] ?? (opts.quick ? 16 : 64), 'noble-size') * MiB);
const REPEAT = posInt(opts.repeat, 'repeat');
const TIMEOUT = posInt(opts.timeout, 'timeout');
const NICE = opts.nice == null ? null : Number(opts.nice);
if (NICE != null && (!Number.isInteger(NICE) || NICE < -20 || NICE > 19)) { console.error(`--nice takes -20..19, got ${opts.nice}`); process.exit(2); }
const log = (...a) => console.error(...a);

// ---------------------------------------------------------------- what to run
let AENV;
if (process.env.AENV_BIN) {
  const b = process.env.AENV_BIN;
  const p = b.includes('/') ? resolve(b) : (onPath(b) ?? b);
  AENV = /\.[cm]?js$/.test(p) ? [process.execPath, p] : [p];
  if (b.includes('/') && !existsSync(p)) { log(`AENV_BIN=${b}: ${p} does not exist`); process.exit(2); }
} else {
  const bin = join(repoRoot, 'bin/aenv.js');
  if (!existsSync(bin) || !existsSync(join(repoRoot, 'dist/js/cli/run.js'))) {
    log('bin/aenv.js or dist/js/cli/run.js is missing: run `npm run build` first (npm run bench does it).');
    process.exit(2);
  }
  AENV = [process.execPath, bin];
}
const AGE = onPath('age'), AGE_KEYGEN = onPath('age-keygen');
const HAVE_AGE = Boolean(AGE && AGE_KEYGEN);

// The children get no password from the environment: passwordless verify must really be passwordless.
const childEnv = { ...process.env };
delete childEnv.ASPERA_SCP_FILEPASS;

// ---------------------------------------------------------------- temp folder
// plaintext, two suite envelopes, the age file, one output at a time, the pbkdf2 probe envelope;
// the noble set; the batch (originals, sealed and opened, twice) at ~8.5 KiB a file.
const need = 6 * SIZE + 6 * NOBLE + FILES * 5 * 9 * KiB + 16 * MiB;
const picked = pickTmpRoot(need);
if (!picked) { log(`not enough room for ${fmtSize(need)} of temp data in /dev/shm or ${os.tmpdir()}; try a smaller --size`); process.exit(2); }
installSignalCleanup(log);
const tmp = makeTmpDir(picked.root);
const P = (...a) => join(tmp, ...a);
const pw = P('password.txt');
writeFileSync(pw, 'correct horse battery staple (aenv bench)\n', { mode: 0o600 });
const wrongPw = P('wrong-password.txt');
writeFileSync(wrongPw, 'not the password\n', { mode: 0o600 });

// ---------------------------------------------------------------- measuring
const rows = [];
const sanity = [];
let failures = 0;
/** The telling line of a child's stderr: an error line (a crash ends with "Node.js vXX"), else the last. */
const lastLine = (s) => {
  const lines = s.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /^(\w*Error|aenv: error)\b/.test(l)) ?? lines.pop() ?? '').slice(0, 200);
};

/**
 * Time one command (best of REPEAT). spec: id, label, group, tool, bytes, argv (array or fn(ctx)),
 * before() -> ctx (fresh output folder etc.), verify(ctx, result) -> null | error message,
 * after(ctx), skipOnUsage (a usage error, exit 2, marks the row skipped, not failed).
 */
async function measure(spec) {
  const { id, label, group, tool, bytes, argv, before, verify, after, skipOnUsage } = spec;
  const timeoutS = spec.timeoutS ?? TIMEOUT;
  const row = { id, label, group, tool, bytes, count: spec.count ?? 1, wall: null, rssKiB: null, cpu: null, othersCpu: null, status: 'ok', detail: spec.detail ?? '' };
  for (let i = 0; i < REPEAT; i++) {
    const ctx = before ? await before() : undefined;
    const r = await run(typeof argv === 'function' ? argv(ctx) : argv, { timeoutS, env: childEnv, cwd: tmp, statDir: tmp, nice: NICE });
    let err = null;
    if (r.timedOut) err = `timed out after ${timeoutS} s`;
    else if (r.code !== 0) err = `exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`;
    else if (verify) err = await verify(ctx, r);
    if (after) await after(ctx);
    if (err) {
      Object.assign(row, { wall: r.wall, rssKiB: r.rssKiB, cpu: r.cpu, othersCpu: r.othersCpu });
      if (skipOnUsage && r.code === 2) { row.status = 'skip'; row.detail = `CLI rejected it (exit 2): ${lastLine(r.stderr)}`; }
      else { row.status = 'FAIL'; row.detail = err; failures++; }
      break;
    }
    if (row.wall == null || r.wall < row.wall) { row.wall = r.wall; row.cpu = r.cpu; row.othersCpu = r.othersCpu; }
    if (r.rssKiB != null) row.rssKiB = Math.max(row.rssKiB ?? 0, r.rssKiB);
  }
  // Noisy: other processes ran meanwhile and the machine was saturated, so the child may have waited for a core.
  row.noisy = row.othersCpu != null && row.wall > 0 && row.othersCpu > 0.2 * row.wall
    && row.cpu + row.othersCpu >= 0.9 * os.cpus().length * row.wall;
  rows.push(row);
  log(`  ${row.label.padEnd(52)} ${fmtS(row.wall).padStart(8)} s ${fmtRate(row.bytes, row.wall).padStart(7)} GB/s  RSS ${fmtMiB(row.rssKiB).padStart(7)} MiB  ${row.status}${row.detail ? ` (${row.detail})` : ''}${row.noisy ? `  [noisy: all cores busy, ${row.othersCpu.toFixed(2)} cpu-s of it other processes]` : ''}`);
  return row;
}
function skipRow(id, label, group, tool, why) {
  rows.push({ id, label, group, tool, bytes: 0, wall: null, rssKiB: null, cpu: null, status: 'skip', detail: why });
  log(`  ${label.padEnd(52)} skipped: ${why}`);
}

const aenv = (...a) => [...AENV, ...a];
const freshDir = (name) => () => { const d = P(name); rmSync(d, { recursive: true, force: true }); mkdirSync(d, { recursive: true }); return d; };
const dropDir = (d) => rmSync(d, { recursive: true, force: true });
/** The one envelope `aenv encrypt FILE -o DIR` wrote (DIR/FILE.aspera-env per CLI.md). */
function envelopeIn(dir, base) {
  const exact = join(dir, `${base}.aspera-env`);
  if (existsSync(exact)) return exact;
  const found = walkFiles(dir).filter((p) => p.endsWith('.aspera-env'));
  return found.length === 1 ? found[0] : null;
}
const expectEnvelope = (dir, base) => () => (envelopeIn(dir, base) ? null : `no ${base}.aspera-env in ${dir}`);
const expectTree = (sums) => async (out) => checkTree(out, sums);

// Ops that must fail (sanity): a verify that reads nothing or a decrypt that checks nothing can't pass these.
async function expectFailure(label, argv, outDir) {
  const r = await run(argv, { timeoutS: TIMEOUT, env: childEnv, cwd: tmp });
  let ok = r.code === 1;
  let why = ok ? 'rejected (exit 1)' : `expected exit 1, got ${r.code ?? r.signal}`;
  if (ok && outDir && walkFiles(outDir).length) { ok = false; why = `exit 1 but left ${walkFiles(outDir).length} file(s) in the output folder`; }
  sanity.push({ label, ok, detail: why });
  if (!ok) failures++;
  log(`  sanity: ${label.padEnd(44)} ${ok ? 'ok' : 'FAIL'} (${why})`);
}

// ---------------------------------------------------------------- main
async function main() {
  const meta = {
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?',
    aenv: AENV.map((a) => a.replace(repoRoot + '/', '')).join(' '), tmp, tmpfs: picked.tmpfs,
    loadStart: os.loadavg()[0], size: SIZE, files: FILES, nobleSize: NOBLE, repeat: REPEAT, nice: NICE, rss: TIME_BIN ? `${TIME_BIN} %M (child's ru_maxrss)` : 'n/a',
  };
  log(`aenv bench: ${fmtSize(SIZE)} file, ${FILES} small files, noble rows at ${fmtSize(NOBLE)}; temp data in ${tmp}${picked.tmpfs ? ' (tmpfs)' : ''}`);
  if (meta.loadStart > 0.5 * meta.cpus) log(`warning: the machine is busy (load average ${meta.loadStart.toFixed(2)} on ${meta.cpus} cores): figures will be noisy`);
  if (!TIME_BIN) log('note: /usr/bin/time not found, peak RSS will read n/a (Debian/Ubuntu: apt-get install time)');
  const v = await run(aenv('--version'), { timeoutS: 30, env: childEnv, captureStdout: true });
  if (v.code !== 0) throw new Error(`\`${meta.aenv} --version\` failed (exit ${v.code}): ${lastLine(v.stderr)}`);
  meta.aenvVersion = lastLine(v.stdout || v.stderr);
  if (HAVE_AGE) {
    const a = await run([AGE, '--version'], { timeoutS: 30, captureStdout: true });
    meta.age = lastLine(a.stdout);
  } else {
    meta.age = null;
    log('age not found: the age rows are skipped. Install it with `apt-get install age` (Debian/Ubuntu), `brew install age` (macOS) or from https://age-encryption.org');
  }

  // ---- sanity: tiny envelope, then damaged / wrong-password copies must be rejected
  log('sanity checks');
  const tiny = P('tiny.bin');
  const tinySum = writeRandomFile(tiny, 1 * MiB + 123);
  const enc0 = await run(aenv('encrypt', tiny, '-o', P('tiny-env'), '--password-file', pw), { timeoutS: TIMEOUT, env: childEnv, cwd: tmp });
  const tinyEnv = envelopeIn(P('tiny-env'), 'tiny.bin');
  if (enc0.code !== 0 || !tinyEnv) throw new Error(`aenv encrypt of a 1 MiB file failed (exit ${enc0.code}): ${lastLine(enc0.stderr)}`);
  {
    const out = freshDir('tiny-out')();
    const r = await run(aenv('decrypt', tinyEnv, '-o', out, '--password-file', pw), { timeoutS: TIMEOUT, env: childEnv, cwd: tmp });
    const err = r.code !== 0 ? `exit ${r.code}: ${lastLine(r.stderr)}` : await checkTree(out, new Map([['tiny.bin', tinySum]]));
    sanity.push({ label: 'decrypt round trip (sha256)', ok: !err, detail: err ?? 'identical' });
    if (err) failures++;
    log(`  sanity: ${'decrypt round trip (sha256)'.padEnd(44)} ${err ? `FAIL (${err})` : 'ok'}`);
    dropDir(out);
  }
  const bad = P('damaged', 'tiny.bin.aspera-env');
  mkdirSync(dirname(bad), { recursive: true });
  writeFileSync(bad, readFileSync(tinyEnv));
  { // flip one payload byte in the middle
    const fd = openSync(bad, 'r+'); const b = Buffer.alloc(1); const at = Math.floor(statSync(bad).size / 2);
    readSync(fd, b, 0, 1, at); b[0] ^= 0x01; writeSync(fd, b, 0, 1, at); closeSync(fd);
  }
  await expectFailure('passwordless verify of a damaged envelope', aenv('verify', bad));
  await expectFailure('keyed verify of a damaged envelope', aenv('verify', bad, '--password-file', pw));
  await expectFailure('decrypt of a damaged envelope', aenv('decrypt', bad, '-o', freshDir('bad-out')(), '--password-file', pw), P('bad-out'));
  await expectFailure('decrypt with a wrong password', aenv('decrypt', tinyEnv, '-o', freshDir('bad-out')(), '--password-file', wrongPw), P('bad-out'));
  dropDir(P('bad-out')); dropDir(P('damaged'));

  // ---- fixed cost: a 1-byte file (process start + scrypt) and passwordless verify of it (start only)
  log('fixed costs');
  writeRandomFile(P('one.bin'), 1);
  const oneEnc = await run(aenv('encrypt', P('one.bin'), '-o', P('one-env'), '--password-file', pw), { timeoutS: TIMEOUT, env: childEnv, cwd: tmp });
  const oneEnv = envelopeIn(P('one-env'), 'one.bin');
  if (oneEnc.code === 0 && oneEnv) {
    await measure({ id: 'fixed.decrypt', label: 'decrypt 1 B (process start + scrypt)', group: 'fixed', tool: 'aenv', bytes: 0,
      before: freshDir('out'), argv: (o) => aenv('decrypt', oneEnv, '-o', o, '--password-file', pw), after: dropDir });
    await measure({ id: 'fixed.verify', label: 'verify 1 B, passwordless (process start)', group: 'fixed', tool: 'aenv', bytes: 0, argv: aenv('verify', oneEnv) });
  } else skipRow('fixed.decrypt', 'decrypt 1 B', 'fixed', 'aenv', `encrypt failed: ${lastLine(oneEnc.stderr)}`);

  // ---- the large file
  log(`large file: generating ${fmtSize(SIZE)}`);
  const plain = P('plain.bin');
  const plainSum = writeRandomFile(plain, SIZE);
  const plainSums = new Map([['plain.bin', plainSum]]);
  const big = { group: 'large', bytes: SIZE };
  const envs = {};
  for (const [suite, short] of [['aes-256-gcm', 'aes'], ['chacha20-poly1305', 'chacha']]) {
    const dir = P(`env-${short}`);
    const r = await measure({ ...big, id: `large.encrypt.${short}`, label: `aenv encrypt ${suite} (scrypt)`, tool: 'aenv',
      argv: aenv('encrypt', plain, '-o', dir, '--suite', suite, '--password-file', pw), verify: expectEnvelope(dir, 'plain.bin') });
    if (r.status === 'ok') envs[short] = envelopeIn(dir, 'plain.bin');
  }
  const ageKey = P('age-key.txt');
  let agePub = null;
  if (HAVE_AGE) {
    const k = await run([AGE_KEYGEN, '-o', ageKey], { timeoutS: 30 });
    const y = await run([AGE_KEYGEN, '-y', ageKey], { timeoutS: 30, captureStdout: true });
    agePub = k.code === 0 && y.code === 0 ? y.stdout.trim() : null;
    if (agePub) {
      await measure({ ...big, id: 'large.age-encrypt', label: 'age -e (X25519)', tool: 'age', argv: [AGE, '-r', agePub, '-o', P('plain.bin.age'), plain] });
    } else failures++, log(`age-keygen failed: ${lastLine(k.stderr + y.stderr)}`);
  }

  await measure({ ...big, id: 'large.cp', label: 'cp (reference limit)', tool: 'cp', before: freshDir('out'),
    argv: (o) => ['cp', plain, join(o, 'plain.bin')], verify: expectTree(plainSums), after: dropDir });
  for (const [short, suite] of [['aes', 'aes-256-gcm'], ['chacha', 'chacha20-poly1305']]) {
    if (!envs[short]) { skipRow(`large.decrypt.${short}`, `aenv decrypt ${suite}`, 'large', 'aenv', 'no envelope (encrypt failed)'); continue; }
    await measure({ ...big, id: `large.decrypt.${short}`, label: `aenv decrypt ${suite} [node]`, tool: 'aenv', before: freshDir('out'),
      argv: (o) => aenv('decrypt', envs[short], '-o', o, '--password-file', pw), verify: expectTree(plainSums), after: dropDir });
  }
  if (HAVE_AGE && agePub && existsSync(P('plain.bin.age'))) {
    await measure({ ...big, id: 'large.age-decrypt', label: 'age -d (X25519, ChaCha20-Poly1305)', tool: 'age', before: freshDir('out'),
      argv: (o) => [AGE, '-d', '-i', ageKey, '-o', join(o, 'plain.bin'), P('plain.bin.age')], verify: expectTree(plainSums), after: dropDir });
  } else skipRow('large.age-decrypt', 'age -d', 'large', 'age', HAVE_AGE ? 'age setup failed' : 'age not installed (apt-get install age)');
  rmSync(P('plain.bin.age'), { force: true });
  if (envs.aes) {
    await measure({ ...big, id: 'large.verify.keyed', label: 'aenv verify aes-256-gcm, keyed [node]', tool: 'aenv', argv: aenv('verify', envs.aes, '--password-file', pw) });
    await measure({ ...big, id: 'large.verify.passwordless', label: 'aenv verify, passwordless (SHA-256 only)', tool: 'aenv', argv: aenv('verify', envs.aes) });
  }
  if (envs.chacha) rmSync(dirname(envs.chacha), { recursive: true, force: true });
  // RSS probe: the same decrypt without scrypt's 128 MiB working set (PBKDF2 uses almost none)
  const pbDir = P('env-pbkdf2');
  const pb = await measure({ ...big, id: 'large.encrypt.pbkdf2', label: 'aenv encrypt aes-256-gcm (pbkdf2)', tool: 'aenv',
    argv: aenv('encrypt', plain, '-o', pbDir, '--kdf', 'pbkdf2', '--password-file', pw), verify: expectEnvelope(pbDir, 'plain.bin') });
  if (pb.status === 'ok') {
    await measure({ ...big, id: 'large.decrypt.pbkdf2', label: 'aenv decrypt aes-256-gcm, pbkdf2 (RSS w/o scrypt)', tool: 'aenv', before: freshDir('out'),
      argv: (o) => aenv('decrypt', envelopeIn(pbDir, 'plain.bin'), '-o', o, '--password-file', pw), verify: expectTree(plainSums), after: dropDir });
  }
  rmSync(pbDir, { recursive: true, force: true });
  if (envs.aes) rmSync(dirname(envs.aes), { recursive: true, force: true });
  rmSync(plain, { force: true });

  // ---- crypto backends, on a smaller file (noble is pure JS, ~65 MB/s)
  log(`backends: node vs noble on ${fmtSize(NOBLE)}`);
  const small = P('plain-noble.bin');
  const smallSums = new Map([['plain-noble.bin', writeRandomFile(small, NOBLE)]]);
  const nb = { group: 'backend', bytes: NOBLE, tool: 'aenv' };
  for (const [short, suite] of [['aes', 'aes-256-gcm'], ['chacha', 'chacha20-poly1305']]) {
    const dir = P(`envn-${short}`);
    const e = await run(aenv('encrypt', small, '-o', dir, '--suite', suite, '--password-file', pw), { timeoutS: TIMEOUT, env: childEnv, cwd: tmp });
    const env = envelopeIn(dir, 'plain-noble.bin');
    if (e.code !== 0 || !env) { skipRow(`backend.${short}`, `backend rows ${suite}`, 'backend', 'aenv', `encrypt failed: ${lastLine(e.stderr)}`); failures++; continue; }
    for (const backend of ['node', 'noble']) {
      await measure({ ...nb, id: `backend.decrypt.${short}.${backend}`, label: `aenv decrypt ${suite} --backend ${backend}`, before: freshDir('out'),
        argv: (o) => aenv('decrypt', env, '-o', o, '--password-file', pw, '--backend', backend), verify: expectTree(smallSums), after: dropDir, skipOnUsage: true });
    }
    if (short === 'aes') {
      await measure({ ...nb, id: 'backend.verify.keyed.noble', label: `aenv verify ${suite}, keyed --backend noble`,
        argv: aenv('verify', env, '--password-file', pw, '--backend', 'noble'), skipOnUsage: true });
      await measure({ ...nb, id: 'backend.verify.passwordless.noble', label: 'aenv verify, passwordless --backend noble',
        argv: aenv('verify', env, '--backend', 'noble'), skipOnUsage: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(small, { force: true });

  // ---- batch of small files
  log(`batch: generating ${FILES} files of 1-16 KiB`);
  const { sums: batchSums, total: batchBytes } = writeSmallFiles(P('batch'), FILES, 1 * KiB, 16 * KiB);
  const bt = { group: 'batch', bytes: batchBytes, count: FILES };
  const sealed = P('batch-sealed');
  const be = await measure({ ...bt, id: 'batch.encrypt', label: `aenv encrypt ${FILES} files, one run (scrypt)`, tool: 'aenv',
    argv: aenv('encrypt', P('batch'), '-o', sealed, '--password-file', pw),
    verify: () => { const n = walkFiles(sealed).filter((p) => p.endsWith('.aspera-env')).length; return n === FILES ? null : `${n} envelopes, expected ${FILES}`; } });
  if (be.status === 'ok') {
    await measure({ ...bt, id: 'batch.decrypt', label: `aenv decrypt DIR -o OUT (${FILES} files)`, tool: 'aenv', before: freshDir('batch-out'),
      argv: (o) => aenv('decrypt', sealed, '-o', o, '--password-file', pw), verify: expectTree(batchSums), after: dropDir });
    await measure({ ...bt, id: 'batch.verify', label: `aenv verify DIR, keyed (${FILES} files)`, tool: 'aenv', argv: aenv('verify', sealed, '--password-file', pw) });
  } else skipRow('batch.decrypt', 'aenv decrypt DIR', 'batch', 'aenv', 'batch encrypt failed');
  rmSync(sealed, { recursive: true, force: true });
  if (HAVE_AGE && agePub) {
    // Setup, not timed: seal the batch for age, one age process per file, as many at once as cores.
    const ageSealed = P('batch-age');
    mkdirSync(ageSealed);
    const encLoop = 'for f; do age -r "$AGE_PUB" -o "$AGE_DIR/${f##*/}.age" "$f" || exit 255; done';
    const names = walkFiles(P('batch'));
    log(`  (setup: sealing ${names.length} files with age, ${os.cpus().length} at a time)`);
    const list = P('batch-list.txt');
    writeFileSync(list, names.join('\0'));
    const ae = await run(['sh', '-c', `xargs -0 -P ${os.cpus().length} -n 100 sh -c '${encLoop}' sh < "$0"`, list],
      { timeoutS: Math.max(TIMEOUT, FILES * 0.2), env: { ...childEnv, AGE_PUB: agePub, AGE_DIR: ageSealed }, cwd: tmp });
    const sealedN = walkFiles(ageSealed).length;
    if (ae.code === 0 && sealedN === FILES) {
      // Timed: age -d once per file from a shell loop, as a user without a batch tool would.
      const decLoop = 'set -e; for f in "$1"/*.age; do b=${f##*/}; age -d -i "$3" -o "$2/${b%.age}" "$f"; done';
      await measure({ ...bt, id: 'batch.age-decrypt', label: `age -d file by file (${FILES} spawns)`, tool: 'age', before: freshDir('batch-out'),
        timeoutS: Math.max(TIMEOUT, FILES * 0.1), argv: (o) => ['sh', '-c', decLoop, 'sh', ageSealed, o, ageKey], verify: expectTree(batchSums), after: dropDir });
    } else {
      failures++;
      skipRow('batch.age-decrypt', 'age -d file by file', 'batch', 'age', `age setup failed (exit ${ae.code}, ${sealedN}/${FILES} sealed): ${lastLine(ae.stderr)}`);
    }
    rmSync(ageSealed, { recursive: true, force: true });
  } else skipRow('batch.age-decrypt', 'age -d file by file', 'batch', 'age', HAVE_AGE ? 'age setup failed' : 'age not installed (apt-get install age)');

  // ---- report
  const ratios = computeRatios(rows);
  const targets = computeTargets(rows, SIZE, FILES);
  meta.loadEnd = os.loadavg()[0];
  const result = { meta, rows, sanity, ratios, targets, failures };
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(renderText(result));
  return failures;
}

main()
  .then((f) => {
    if (opts.keep) { log(`temp data kept in ${tmp}`); process.removeAllListeners('exit'); } else cleanup();
    process.exit(f ? 1 : 0);
  })
  .catch((e) => { log(`bench failed: ${e.message}`); cleanup(); process.exit(1); });
