// bench/bench.mjs's first phases: sanity probes; fixed costs (1 B envelopes per KDF setting,
// process start, the reference argon2 CLI) and the choice of the cheapest KDF floor; the large
// file against age, gpg, cp and openssl; the --jobs 4 decrypt of several large files.

import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  MiB, checkTree, dropDir, envelopeIn, expectEnvelope, expectEnvelopes, expectTree, fmtSize, freshDir, run, writeRandomFile,
} from './lib.mjs';
import { lastLine } from './measure.mjs';
import { ageIdentity, argon2Argv, gpgSetup, install } from './peers.mjs';
import { FLOORS, KDFS } from './seal.mjs';

const KDF_NAME = { 1: 'scrypt', 2: 'argon2id', 3: 'pbkdf2' };
const DEFAULT = KDFS['scrypt-17'].params;

export async function sanityPhase(B) {
  const { M, P, aenv, pw, log } = B;
  log('sanity checks');
  const tiny = P('tiny.bin');
  const tinySum = writeRandomFile(tiny, 1 * MiB + 123);
  const enc = await run(aenv('encrypt', tiny, '-o', P('tiny-env'), '--password-file', pw), { timeoutS: B.TIMEOUT, env: B.childEnv, cwd: B.tmp });
  const tinyEnv = envelopeIn(P('tiny-env'), 'tiny.bin');
  if (enc.code !== 0 || !tinyEnv) throw new Error(`aenv encrypt of a 1 MiB file failed (exit ${enc.code}): ${lastLine(enc.stderr)}`);
  const out = freshDir(P('tiny-out'))();
  const r = await run(aenv('decrypt', tinyEnv, '-o', out, '--password-file', pw), { timeoutS: B.TIMEOUT, env: B.childEnv, cwd: B.tmp });
  const err = r.code !== 0 ? `exit ${r.code}: ${lastLine(r.stderr)}` : await checkTree(out, new Map([['tiny.bin', tinySum]]));
  M.check('decrypt round trip (sha256)', !err, err ?? 'identical');
  dropDir(out);
  const bad = P('damaged', 'tiny.bin.aspera-env');
  mkdirSync(dirname(bad), { recursive: true });
  writeFileSync(bad, readFileSync(tinyEnv));
  { // flip one payload byte in the middle
    const fd = openSync(bad, 'r+'); const b = Buffer.alloc(1); const at = Math.floor(statSync(bad).size / 2);
    readSync(fd, b, 0, 1, at); b[0] ^= 0x01; writeSync(fd, b, 0, 1, at); closeSync(fd);
  }
  const badOut = P('bad-out');
  await M.expectFailure('passwordless verify of a damaged envelope', aenv('verify', bad));
  await M.expectFailure('keyed verify of a damaged envelope', aenv('verify', bad, '--password-file', pw));
  await M.expectFailure('decrypt of a damaged envelope', aenv('decrypt', bad, '-o', freshDir(badOut)(), '--password-file', pw), badOut);
  await M.expectFailure('decrypt with a wrong password', aenv('decrypt', tinyEnv, '-o', freshDir(badOut)(), '--password-file', B.wrongPw), badOut);
  for (const d of [badOut, P('damaged'), P('tiny-env')]) dropDir(d);
  rmSync(tiny, { force: true });
}

export async function fixedPhase(B) {
  const { M, P, aenv, pw, log, meta, seal, peers } = B;
  log(`KDF costs in this process (node backend, median of ${meta.kdfRuns})`);
  meta.kdfInProcess = {};
  for (const [id, k] of Object.entries(KDFS)) {
    meta.kdfInProcess[id] = (await seal.kdfMs(k.params, meta.kdfRuns)).ms;
    log(`  ${id.padEnd(14)} ${meta.kdfInProcess[id].toFixed(0).padStart(6)} ms  ${k.label}`);
  }
  meta.cheapest = FLOORS.reduce((a, b) => (meta.kdfInProcess[b] < meta.kdfInProcess[a] ? b : a));
  log(`  cheapest floor here: ${meta.cheapest}`);

  log('fixed costs: 1 B envelopes, sealed in this process with each KDF setting');
  const one = P('one.bin');
  const oneSum = new Map([['one.bin', writeRandomFile(one, 1)]]);
  const envs = {};
  for (const [id, k] of Object.entries(KDFS)) {
    envs[id] = P(`one-${id}`, 'one.bin.aspera-env');
    mkdirSync(dirname(envs[id]), { recursive: true });
    await seal.seal(envs[id], k.params, { plainPath: one });
  }
  const tiny = { group: 'fixed', tool: 'aenv', repeat: meta.tinyRepeat };
  // A bare start of the Node.js aenv runs on (issue 22: aenv's own start-up is measured against it)
  await M.measure({ ...tiny, id: 'fixed.node', label: 'node -e 0 (the Node.js aenv runs on: a bare start)', tool: 'node', argv: [process.execPath, '-e', '0'] });
  await M.measure({ ...tiny, id: 'fixed.start', label: 'aenv verify 1 B, passwordless (process start)', argv: aenv('verify', envs['argon2id-64m']) });
  for (const [id, k] of Object.entries(KDFS)) {
    await M.measure({ ...tiny, id: `fixed.decrypt.${id}`, label: `aenv decrypt 1 B, ${id}${id === meta.cheapest ? ' (cheapest)' : ''}`, kdf: k.params,
      before: freshDir(P('out')), argv: (o) => aenv('decrypt', envs[id], '-o', o, '--password-file', pw), verify: expectTree(oneSum), after: dropDir });
  }
  if (peers.argon2) {
    // Same password, an ASCII salt (the CLI takes it as a string); its raw output must equal aenv's own Argon2id.
    const salt = randomBytes(16).toString('hex');
    const want = (await seal.kdfMs(KDFS['argon2id-64m'].params, 1, Buffer.from(salt))).key.toString('hex');
    await M.measure({ ...tiny, id: 'fixed.argon2-cli', label: 'argon2 SALT -id -m 16 -t 3 -p 1 -l 32 -r (reference)', tool: 'argon2',
      argv: argon2Argv(peers.argon2, salt), stdinFile: B.pwNoNl, captureStdout: true,
      verify: (_, r) => (r.stdout.trim() === want ? null : `output ${r.stdout.trim().slice(0, 16)}... differs from aenv's Argon2id ${want.slice(0, 16)}...`) });
    const row = M.rows.at(-1);
    if (row.status === 'ok') M.check('argon2 CLI and aenv derive the same Argon2id key', true, 'identical 32 bytes');
  } else M.skipRow('fixed.argon2-cli', 'argon2 reference CLI', 'fixed', 'argon2', `argon2 not installed (${install.argon2})`);
  for (const id of Object.keys(KDFS)) dropDir(dirname(envs[id]));
  rmSync(one, { force: true });
}

export async function largePhase(B) {
  const { M, P, aenv, pw, log, meta, peers, SIZE } = B;
  log(`large file: generating ${fmtSize(SIZE)}`);
  const plain = P('plain.bin');
  const sums = new Map([['plain.bin', writeRandomFile(plain, SIZE)]]);
  const big = { group: 'large', bytes: SIZE };
  const out = P('out');
  const cheap = KDFS[meta.cheapest].params;

  await M.measure({ ...big, id: 'large.cp', label: 'cp (the limit of the medium)', tool: 'cp', before: freshDir(out),
    argv: (o) => ['cp', plain, join(o, 'plain.bin')], verify: expectTree(sums), after: dropDir });

  // age: X25519 identity, no password KDF
  const ageId = peers.age ? await ageIdentity(peers.age, B.tmp) : { error: `age not installed (${install.age})` };
  if (ageId.error) {
    if (peers.age) M.fail();
    for (const id of ['large.age-encrypt', 'large.age-decrypt']) M.skipRow(id, id.replace('large.', ''), 'large', 'age', ageId.error);
  } else {
    B.ageId = ageId;
    const sealed = P('plain.bin.age');
    await M.measure({ ...big, id: 'large.age-encrypt', label: 'age -e (X25519)', tool: 'age', before: () => rmSync(sealed, { force: true }),
      argv: [peers.age.bin, '-r', ageId.pub, '-o', sealed, plain] });
    await M.measure({ ...big, id: 'large.age-decrypt', label: 'age -d (X25519, ChaCha20-Poly1305)', tool: 'age', before: freshDir(out),
      argv: (o) => [peers.age.bin, '-d', '-i', ageId.key, '-o', join(o, 'plain.bin'), sealed], verify: expectTree(sums), after: dropDir });
    rmSync(sealed, { force: true });
  }

  // gpg --symmetric AES-256, private GNUPGHOME; its agent started before timing
  if (peers.gpg) {
    const g = gpgSetup(peers.gpg, B.tmp, pw);
    // Warm-up, not timed: the agent starts and calibrates its S2K count on first use.
    await run(['gpgconf', '--launch', 'gpg-agent'], { timeoutS: 30, env: g.env });
    writeRandomFile(P('warm.bin'), 1);
    await run(g.encrypt(P('warm.bin'), P('warm.bin.gpg')), { timeoutS: 60, env: g.env });
    for (const f of ['warm.bin', 'warm.bin.gpg']) rmSync(P(f), { force: true });
    const sealed = P('plain.bin.gpg');
    await M.measure({ ...big, id: 'large.gpg-encrypt', label: 'gpg --symmetric --cipher-algo AES256', tool: 'gpg', env: g.env,
      before: () => rmSync(sealed, { force: true }), argv: g.encrypt(plain, sealed) });
    await M.measure({ ...big, id: 'large.gpg-decrypt', label: 'gpg --decrypt (AES256, passphrase file)', tool: 'gpg', env: g.env, before: freshDir(out),
      argv: (o) => g.decrypt(sealed, join(o, 'plain.bin')), verify: expectTree(sums), after: dropDir });
    rmSync(sealed, { force: true });
  } else for (const id of ['large.gpg-encrypt', 'large.gpg-decrypt']) M.skipRow(id, id.replace('large.', ''), 'large', 'gpg', `gpg not installed (${install.gpg})`);

  // aenv encrypt: the default KDF, and the cheapest floor through bench/aenv-kdf.mjs
  const envDefault = P('env-default');
  const ed = await M.measure({ ...big, id: 'large.encrypt.default', label: 'aenv encrypt aes-256-gcm, scrypt-17 (default)', tool: 'aenv', kdf: DEFAULT,
    before: freshDir(envDefault), argv: aenv('encrypt', plain, '-o', envDefault, '--password-file', pw), verify: expectEnvelope(envDefault, 'plain.bin') });
  const envCli = P('env-cheap-cli');
  if (B.aenvKdf) {
    await M.measure({ ...big, id: 'large.encrypt.cheap', label: `aenv encrypt aes-256-gcm, ${meta.cheapest} (cheapest)`, tool: 'aenv', kdf: cheap,
      env: { ...B.childEnv, AENV_BENCH_KDF: `${cheap.kdf}:${cheap.p1}:${cheap.p2}:${cheap.p3}` }, before: freshDir(envCli),
      argv: B.aenvKdf('encrypt', plain, '-o', envCli, '--kdf', KDF_NAME[cheap.kdf], '--password-file', pw), verify: expectEnvelope(envCli, 'plain.bin') });
    dropDir(envCli);
  } else M.skipRow('large.encrypt.cheap', `aenv encrypt, ${meta.cheapest}`, 'large', 'aenv', 'needs the JS checkout (bench/aenv-kdf.mjs); the CLI seals at default costs only');

  // aenv decrypt: the cheapest-KDF envelope sealed in this process, and the default one
  const envCheap = P('env-cheap', 'plain.bin.aspera-env');
  mkdirSync(dirname(envCheap), { recursive: true });
  const t0 = performance.now();
  await B.seal.seal(envCheap, cheap, { plainPath: plain });
  log(`  (setup: sealed the ${meta.cheapest} envelope in this process in ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  await M.measure({ ...big, id: 'large.decrypt.cheap', label: `aenv decrypt aes-256-gcm, ${meta.cheapest} (cheapest)`, tool: 'aenv', kdf: cheap,
    before: freshDir(out), argv: (o) => aenv('decrypt', envCheap, '-o', o, '--password-file', pw), verify: expectTree(sums), after: dropDir });
  dropDir(dirname(envCheap));
  if (ed.status === 'ok') {
    const env = envelopeIn(envDefault, 'plain.bin');
    await M.measure({ ...big, id: 'large.decrypt.default', label: 'aenv decrypt aes-256-gcm, scrypt-17 (default)', tool: 'aenv', kdf: DEFAULT,
      before: freshDir(out), argv: (o) => aenv('decrypt', env, '-o', o, '--password-file', pw), verify: expectTree(sums), after: dropDir });
    await M.measure({ ...big, id: 'large.verify.passwordless', label: 'aenv verify, passwordless (SHA-256 of the envelope)', tool: 'aenv', argv: aenv('verify', env) });
    if (peers.openssl) {
      await M.measure({ ...big, id: 'large.openssl-sha256', label: 'openssl dgst -sha256 (the same envelope)', tool: 'openssl', argv: [peers.openssl.bin, 'dgst', '-sha256', env] });
    } else M.skipRow('large.openssl-sha256', 'openssl dgst -sha256', 'large', 'openssl', `openssl not installed (${install.openssl})`);
    await M.measure({ ...big, id: 'large.verify.keyed', label: 'aenv verify, keyed, scrypt-17', tool: 'aenv', kdf: DEFAULT, argv: aenv('verify', env, '--password-file', pw) });
  } else M.skipRow('large.decrypt.default', 'aenv decrypt, scrypt-17', 'large', 'aenv', 'no envelope (encrypt failed)');
  dropDir(envDefault);

  const envChacha = P('env-chacha');
  const ec = await M.measure({ ...big, id: 'large.encrypt.chacha', label: 'aenv encrypt chacha20-poly1305, scrypt-17', tool: 'aenv', kdf: DEFAULT,
    before: freshDir(envChacha), argv: aenv('encrypt', plain, '-o', envChacha, '--suite', 'chacha20-poly1305', '--password-file', pw),
    verify: expectEnvelope(envChacha, 'plain.bin') });
  if (ec.status === 'ok') {
    const env = envelopeIn(envChacha, 'plain.bin');
    await M.measure({ ...big, id: 'large.decrypt.chacha', label: 'aenv decrypt chacha20-poly1305, scrypt-17', tool: 'aenv', kdf: DEFAULT,
      before: freshDir(out), argv: (o) => aenv('decrypt', env, '-o', o, '--password-file', pw), verify: expectTree(sums), after: dropDir });
  }
  dropDir(envChacha);
  rmSync(plain, { force: true });
  await jobsPhase(B);
}

/** --jobs 4 over 4 files of size/4 each (the same bytes in all as the large file), sealed in one run. */
async function jobsPhase(B) {
  const { M, P, aenv, pw, log, meta, SIZE } = B;
  const n = 4, size = Math.max(1 * MiB, Math.floor(SIZE / n / MiB) * MiB);
  Object.assign(meta, { jobsFiles: n, jobsSize: size });
  log(`--jobs 4: generating ${n} files of ${fmtSize(size)}`);
  const dir = P('jobs-plain'), env = P('jobs-env'), out = P('out');
  mkdirSync(dir, { recursive: true });
  const sums = new Map();
  for (let i = 0; i < n; i++) sums.set(`big${i}.bin`, writeRandomFile(join(dir, `big${i}.bin`), size));
  const g = { group: 'jobs', tool: 'aenv', bytes: n * size, count: n, kdf: DEFAULT };
  const e = await M.measure({ ...g, id: 'jobs.encrypt', label: `aenv encrypt --jobs 4, ${n} files, scrypt-17`, before: freshDir(env),
    argv: aenv('encrypt', dir, '-o', env, '--jobs', '4', '--password-file', pw), verify: expectEnvelopes(env, n) });
  dropDir(dir);
  if (e.status === 'ok') {
    await M.measure({ ...g, id: 'jobs.decrypt', label: `aenv decrypt --jobs 4, ${n} files, scrypt-17`, before: freshDir(out),
      argv: (o) => aenv('decrypt', env, '-o', o, '--jobs', '4', '--password-file', pw), verify: expectTree(sums), after: dropDir });
  } else M.skipRow('jobs.decrypt', 'aenv decrypt --jobs 4', 'jobs', 'aenv', 'encrypt failed');
  dropDir(env);
}
