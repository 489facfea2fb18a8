// bench/bench.mjs's later phases: the two crypto backends on a smaller file; a batch of small
// files sealed in one run against `age -d` file by file; and (issue 13) a tree of tiny
// envelopes, its walk and passwordless verify, with `find` as the bare walk.

import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  KiB, MiB, dropDir, envelopeIn, expectEnvelopes, expectTree, fmtSize, freshDir, run, walkFiles, writeRandomFile, writeSmallFiles,
} from './lib.mjs';
import { lastLine } from './measure.mjs';
import { install } from './peers.mjs';
import { KDFS } from './seal.mjs';

const DEFAULT = KDFS['scrypt-17'].params;
const PER_FOLDER = 1000;

export async function backendPhase(B) {
  const { M, P, aenv, pw, log, NOBLE } = B;
  log(`backends: node vs noble on ${fmtSize(NOBLE)}`);
  const small = P('plain-noble.bin');
  const sums = new Map([['plain-noble.bin', writeRandomFile(small, NOBLE)]]);
  for (const [short, suite] of [['aes', 'aes-256-gcm'], ['chacha', 'chacha20-poly1305']]) {
    const dir = P(`envn-${short}`);
    const e = await run(aenv('encrypt', small, '-o', dir, '--suite', suite, '--password-file', pw), { timeoutS: B.TIMEOUT, env: B.childEnv, cwd: B.tmp });
    const env = envelopeIn(dir, 'plain-noble.bin');
    if (e.code !== 0 || !env) { M.skipRow(`backend.${short}`, `backend rows ${suite}`, 'backend', 'aenv', `encrypt failed: ${lastLine(e.stderr)}`); M.fail(); continue; }
    for (const backend of ['node', 'noble']) {
      await M.measure({ group: 'backend', tool: 'aenv', bytes: NOBLE, id: `backend.decrypt.${short}.${backend}`, label: `aenv decrypt ${suite} --backend ${backend}`,
        kdf: DEFAULT, judged: backend === 'node', before: freshDir(P('out')),
        argv: (o) => aenv('decrypt', env, '-o', o, '--password-file', pw, '--backend', backend), verify: expectTree(sums), after: dropDir, skipOnUsage: true });
    }
    dropDir(dir);
  }
  rmSync(small, { force: true });
}

export async function batchPhase(B) {
  const { M, P, aenv, pw, log, peers, FILES } = B;
  log(`batch: generating ${FILES} files of 1-16 KiB`);
  const { sums, total } = writeSmallFiles(P('batch'), FILES, 1 * KiB, 16 * KiB);
  const bt = { group: 'batch', bytes: total, count: FILES };
  const sealed = P('batch-sealed'), out = P('batch-out');
  const be = await M.measure({ ...bt, id: 'batch.encrypt', label: `aenv encrypt ${FILES} files, one run, scrypt-17`, tool: 'aenv', kdf: DEFAULT,
    before: freshDir(sealed), argv: aenv('encrypt', P('batch'), '-o', sealed, '--password-file', pw), verify: expectEnvelopes(sealed, FILES) });
  if (be.status === 'ok') {
    await M.measure({ ...bt, id: 'batch.decrypt', label: `aenv decrypt DIR -o OUT (${FILES} files)`, tool: 'aenv', kdf: DEFAULT, before: freshDir(out),
      argv: (o) => aenv('decrypt', sealed, '-o', o, '--password-file', pw), verify: expectTree(sums), after: dropDir });
    await M.measure({ ...bt, id: 'batch.verify', label: `aenv verify DIR, keyed (${FILES} files)`, tool: 'aenv', kdf: DEFAULT, argv: aenv('verify', sealed, '--password-file', pw) });
  } else M.skipRow('batch.decrypt', 'aenv decrypt DIR', 'batch', 'aenv', 'batch encrypt failed');
  dropDir(sealed);
  if (peers.age && B.ageId) {
    // Setup, not timed: seal the batch for age, one age process per file, as many at once as cores.
    const ageSealed = P('batch-age');
    mkdirSync(ageSealed);
    const encLoop = 'for f; do "$AGE_BIN" -r "$AGE_PUB" -o "$AGE_DIR/${f##*/}.age" "$f" || exit 255; done';
    const names = walkFiles(P('batch'));
    log(`  (setup: sealing ${names.length} files with age, ${os.cpus().length} at a time)`);
    const list = P('batch-list.txt');
    writeFileSync(list, names.join('\0'));
    const ae = await run(['sh', '-c', `xargs -0 -P ${os.cpus().length} -n 100 sh -c '${encLoop}' sh < "$0"`, list],
      { timeoutS: Math.max(B.TIMEOUT, FILES * 0.2), env: { ...B.childEnv, AGE_BIN: peers.age.bin, AGE_PUB: B.ageId.pub, AGE_DIR: ageSealed }, cwd: B.tmp });
    const n = walkFiles(ageSealed).length;
    if (ae.code === 0 && n === FILES) {
      // Timed: age -d once per file from a shell loop, as a user without a batch tool would.
      const decLoop = 'set -e; for f in "$1"/*.age; do b=${f##*/}; "$4" -d -i "$3" -o "$2/${b%.age}" "$f"; done';
      await M.measure({ ...bt, id: 'batch.age-decrypt', label: `age -d file by file (${FILES} spawns)`, tool: 'age', before: freshDir(out),
        timeoutS: Math.max(B.TIMEOUT, FILES * 0.1), argv: (o) => ['sh', '-c', decLoop, 'sh', ageSealed, o, B.ageId.key, peers.age.bin], verify: expectTree(sums), after: dropDir });
    } else {
      M.fail();
      M.skipRow('batch.age-decrypt', 'age -d file by file', 'batch', 'age', `age setup failed (exit ${ae.code}, ${n}/${FILES} sealed): ${lastLine(ae.stderr)}`);
    }
    dropDir(ageSealed);
    rmSync(list, { force: true });
  } else M.skipRow('batch.age-decrypt', 'age -d file by file', 'batch', 'age', peers.age ? 'age setup failed' : `age not installed (${install.age})`);
  dropDir(P('batch'));
}

/** Temp space for a tree of n tiny envelopes: a 4 KiB block each (tmpfs pages, most disks), folders, slack. */
export const treeNeed = (n) => (n ? n * 5 * KiB + Math.ceil(n / PER_FOLDER) * 4 * KiB + 16 * MiB : 0);

/** Checks the summary `aenv verify` prints on stderr: "verify (passwordless): N files, ..." (with -q it prints none: exit 0 only). */
const expectCount = (n) => (_, r) => {
  const m = /^verify[^:\n]*: (\d+) files?\b/m.exec(r.stderr);
  return m && Number(m[1]) === n ? null : `expected "verify (passwordless): ${n} files" on stderr, got: ${lastLine(r.stderr)}`;
};

/** Checks that the checksum list `file` has `n` lines. */
const expectListed = (file, n) => () => {
  let lines = -1;
  try {
    lines = readFileSync(file, 'utf8').split('\n').length - 1;
  } catch (e) {
    return `no checksum list written: ${e.code ?? e}`;
  }
  return lines === n ? null : `expected ${n} lines in the checksum list, got ${lines}`;
};

export async function treePhase(B) {
  const { M, P, aenv, log, TREE } = B;
  if (!TREE) {
    for (const id of ['tree.find', 'tree.verify', 'tree.write-checksums']) M.skipRow(id, id, 'tree', id === 'tree.find' ? 'find' : 'aenv', 'no tree (--tree 0; --quick sets it unless --tree N is given)');
    return;
  }
  const root = P('tree');
  const fs = statfsSync(B.tmp);
  const need = treeNeed(TREE);
  if (fs.bavail * fs.bsize < need + 64 * MiB || (fs.ffree > 0 && fs.ffree < TREE * 1.1 + 1000)) {
    for (const id of ['tree.find', 'tree.verify', 'tree.write-checksums']) M.skipRow(id, id, 'tree', 'aenv', `no room for ${TREE} files (${fmtSize(need)}, ${TREE} inodes) in ${B.tmp}`);
    return;
  }
  // One tiny envelope (1 B, sealed in this process), its bytes copied to every leaf: passwordless verify checks
  // each file's structure and digest, so identical bytes cost what distinct ones would.
  const t0 = performance.now();
  const one = P('tree-one.aspera-env');
  writeRandomFile(P('tree-one.bin'), 1);
  await B.seal.seal(one, KDFS['pbkdf2-100k'].params, { plainPath: P('tree-one.bin') });
  const bytes = readFileSync(one);
  const width = String(Math.ceil(TREE / PER_FOLDER)).length;
  for (let i = 0, dir = null; i < TREE; i++) {
    if (i % PER_FOLDER === 0) { dir = join(root, `d${String(i / PER_FOLDER).padStart(width, '0')}`); mkdirSync(dir, { recursive: true }); }
    writeFileSync(join(dir, `f${i}.aspera-env`), bytes);
  }
  log(`tree: ${TREE} envelopes of ${bytes.length} B in ${Math.ceil(TREE / PER_FOLDER)} folders, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const tr = { group: 'tree', bytes: TREE * bytes.length, count: TREE, timeoutS: Math.max(B.TIMEOUT, TREE / 200) };
  await M.measure({ ...tr, id: 'tree.find', label: `find TREE -type f (the bare walk, ${TREE} files)`, tool: 'find', argv: ['find', root, '-type', 'f'] });
  await M.measure({ ...tr, id: 'tree.verify', label: `aenv verify TREE, passwordless (${TREE} files)`, tool: 'aenv', argv: aenv('verify', root), verify: expectCount(TREE) });
  await M.measure({ ...tr, id: 'tree.verify.quiet', label: 'aenv verify -q TREE, passwordless (no rows printed)', tool: 'aenv', argv: aenv('verify', '-q', root),
    detail: '-q prints no count: checked by exit 0' });
  // issue 24: the list is streamed into its file as the rows come, so memory does not grow with the files
  const sums = P('tree.sha256');
  await M.measure({ ...tr, id: 'tree.write-checksums', label: `aenv verify TREE --write-checksums FILE, passwordless (${TREE} files)`, tool: 'aenv',
    argv: aenv('verify', root, '--write-checksums', sums), verify: expectListed(sums, TREE), after: () => rmSync(sums, { force: true }) });
  dropDir(root);
  rmSync(one, { force: true });
}
