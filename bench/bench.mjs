// `npm run bench`: measures issue 10's targets side by side in one run: aenv decrypt/encrypt of
// one large file (with the format's cheapest KDF floor and with the default scrypt) against
// `age` (X25519), `gpg --symmetric` and `cp`; passwordless verify against `openssl dgst -sha256`;
// aenv's Argon2id against the reference argon2 CLI; a --jobs 4 decrypt of several large files;
// a batch of small files against `age -d` file by file; a tree of tiny envelopes (issue 13);
// every aenv row's peak RSS against 96 MiB + its KDF's memory. Median of --repeat runs.
// Makes its data in a temp folder (tmpfs when there is room), checks every output's SHA-256,
// removes the data at the end or on SIGINT. See --help; AENV_BIN=path benchmarks another binary.

import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KiB, MiB, TIME_BIN, cleanup, fmtSize, installSignalCleanup, makeTmpDir, onPath, pickTmpRoot, run } from './lib.mjs';
import { lastLine, measurer } from './measure.mjs';
import { findPeers } from './peers.mjs';
import { fixedPhase, largePhase, sanityPhase } from './phases-large.mjs';
import { backendPhase, batchPhase, treeNeed, treePhase } from './phases-many.mjs';
import { renderText } from './report.mjs';
import { sealer } from './seal.mjs';
import { computeRatios, computeTargets, judgeRss } from './targets.mjs';

const HELP = `usage: node bench/bench.mjs [options]   (or: npm run bench -- [options])
  --size MiB        large-file size (default 1024)
  --files N         small files in the batch (default 3000)
  --tree N          tiny envelopes in the tree rows (default 200000; 0 skips them; --quick: 0 unless given)
  --noble-size MiB  file size for the --backend noble rows (default 64, capped at --size)
  --quick           smoke run: --size 64 --files 300 --noble-size 16 --tree 0 (unless given)
  --repeat N        run each timed command N times and keep the median (default 1; the 1 B / KDF
                    rows run at least 5 times: the Argon2id target is a difference of two of them)
  --timeout S       kill a single run after S seconds and mark it failed (default 120)
  --json            print machine-readable results on stdout (progress stays on stderr;
                    through npm use "npm run -s bench -- --json" so npm adds no banner)
  --keep            keep the temp folder (its path is printed)
  --nice=N          run every timed command at nice N, its Linux autogroup included (e.g. --nice=-10
                    as root, to be less disturbed by other work on a shared machine; aenv and peers alike)
env: AENV_BIN=path  benchmark that binary (a .js/.mjs path runs under node) instead of node bin/aenv.js`;

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
const log = (...a) => console.error(...a);

// ---------------------------------------------------------------- options
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      size: { type: 'string' }, files: { type: 'string' }, tree: { type: 'string' }, 'noble-size': { type: 'string' },
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
const int = (v, name, min = 1) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) { console.error(`--${name} must be an integer >= ${min}, got ${v}`); process.exit(2); }
  return n;
};
const SIZE = int(opts.size ?? (opts.quick ? 64 : 1024), 'size', 4) * MiB;
const FILES = int(opts.files ?? (opts.quick ? 300 : 3000), 'files');
const TREE = int(opts.tree ?? (opts.quick ? 0 : 200000), 'tree', 0);
const NOBLE = Math.min(SIZE, int(opts['noble-size'] ?? (opts.quick ? 16 : 64), 'noble-size') * MiB);
const REPEAT = int(opts.repeat, 'repeat');
const TIMEOUT = int(opts.timeout, 'timeout');
const NICE = opts.nice == null ? null : Number(opts.nice);
if (NICE != null && (!Number.isInteger(NICE) || NICE < -20 || NICE > 19)) { console.error(`--nice takes -20..19, got ${opts.nice}`); process.exit(2); }

// ---------------------------------------------------------------- what to run
let AENV, jsCheckout = false;
if (process.env.AENV_BIN) {
  const b = process.env.AENV_BIN;
  const p = b.includes('/') ? resolve(b) : (onPath(b) ?? b);
  AENV = /\.[cm]?js$/.test(p) ? [process.execPath, p] : [p];
  if (b.includes('/') && !existsSync(p)) { log(`AENV_BIN=${b}: ${p} does not exist`); process.exit(2); }
} else {
  AENV = [process.execPath, join(repoRoot, 'bin/aenv.js')];
  jsCheckout = true;
}
if (!existsSync(join(repoRoot, 'dist/js/cli/run.js'))) {
  log('dist/js is missing: run `npm run build` first (npm run bench does it; the bench seals its KDF envelopes with it).');
  process.exit(2);
}

// The children get no password from the environment: passwordless verify must really be passwordless.
const childEnv = { ...process.env };
delete childEnv.ASPERA_SCP_FILEPASS;

// ---------------------------------------------------------------- temp folder
// plaintext, two envelopes, one peer file or output at a time, the chacha envelope (~5 x size); the
// --jobs files (3 x size, after the large file is gone); the noble set; the batch (~8.5 KiB a file, five
// copies); the tree (4 KiB a file on tmpfs and most disks).
const mainNeed = 5 * SIZE + 4 * NOBLE + FILES * 5 * 9 * KiB + 64 * MiB;
const picked = pickTmpRoot(mainNeed + treeNeed(TREE)) ?? pickTmpRoot(mainNeed);
if (!picked) { log(`not enough room for ${fmtSize(mainNeed)} of temp data in /dev/shm or ${os.tmpdir()}; try a smaller --size`); process.exit(2); }
installSignalCleanup(log);
const tmp = makeTmpDir(picked.root);
const P = (...a) => join(tmp, ...a);
const PASSWORD = 'correct horse battery staple (aenv bench)';
writeFileSync(P('password.txt'), `${PASSWORD}\n`, { mode: 0o600 });
writeFileSync(P('password-nonl.txt'), PASSWORD, { mode: 0o600 });
writeFileSync(P('wrong-password.txt'), 'not the password\n', { mode: 0o600 });

// ---------------------------------------------------------------- main
async function main() {
  const M = measurer({ repeat: REPEAT, timeout: TIMEOUT, nice: NICE, env: childEnv, cwd: tmp, log });
  const peers = findPeers();
  const meta = {
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?',
    memTotal: os.totalmem(), kernel: os.release(), loadStart: os.loadavg()[0],
    aenv: AENV.map((a) => a.replace(repoRoot + '/', '')).join(' '), tmp, tmpfs: picked.tmpfs,
    size: SIZE, files: FILES, tree: TREE, nobleSize: NOBLE, repeat: REPEAT, tinyRepeat: Math.max(5, REPEAT), kdfRuns: 3, nice: NICE,
    rss: TIME_BIN ? `${TIME_BIN} %M (child's ru_maxrss)` : 'n/a',
    peers: Object.fromEntries(Object.entries(peers).map(([k, v]) => [k, v?.version ?? null])),
  };
  log(`aenv bench: ${fmtSize(SIZE)} file, ${FILES} small files, tree of ${TREE}, noble rows at ${fmtSize(NOBLE)}; temp data in ${tmp}${picked.tmpfs ? ' (tmpfs)' : ''}`);
  log(`machine: ${meta.cpus} cores, load average ${meta.loadStart.toFixed(2)}, node ${meta.node}`);
  if (meta.loadStart > 0.5 * meta.cpus) log(`warning: the machine is busy (load average ${meta.loadStart.toFixed(2)} on ${meta.cpus} cores): figures will be noisy`);
  if (!TIME_BIN) log('note: /usr/bin/time not found, peak RSS will read n/a (Debian/Ubuntu: apt-get install time)');
  const v = await run([...AENV, '--version'], { timeoutS: 30, env: childEnv, captureStdout: true });
  if (v.code !== 0) throw new Error(`\`${meta.aenv} --version\` failed (exit ${v.code}): ${lastLine(v.stderr)}`);
  meta.aenvVersion = lastLine(v.stdout || v.stderr);

  const B = {
    M, P, tmp, log, peers, meta, childEnv, TIMEOUT, SIZE, FILES, TREE, NOBLE,
    pw: P('password.txt'), pwNoNl: P('password-nonl.txt'), wrongPw: P('wrong-password.txt'), password: PASSWORD,
    aenv: (...a) => [...AENV, ...a],
    // The CLI with one KDF's cost replaced (bench/aenv-kdf.mjs): only for the JS checkout.
    aenvKdf: jsCheckout ? (...a) => [process.execPath, join(here, 'aenv-kdf.mjs'), ...a] : null,
    seal: await sealer(repoRoot, PASSWORD),
  };
  await sanityPhase(B);
  await fixedPhase(B);
  await largePhase(B);
  await backendPhase(B);
  await batchPhase(B);
  await treePhase(B);

  const { rows, sanity } = M;
  judgeRss(rows);
  meta.loadEnd = os.loadavg()[0];
  const ratios = computeRatios(rows, meta);
  const targets = computeTargets(rows, meta);
  const result = { meta, rows, sanity, ratios, targets, failures: M.failures() };
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(renderText(result));
  return M.failures();
}

main()
  .then((f) => {
    if (opts.keep) { log(`temp data kept in ${tmp}`); process.removeAllListeners('exit'); cleanup({ keepTmp: true }); } else cleanup();
    process.exit(f ? 1 : 0);
  })
  .catch((e) => { log(`bench failed: ${e.stack ?? e.message}`); cleanup(); process.exit(1); });
