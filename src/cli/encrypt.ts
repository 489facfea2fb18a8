// `aenv encrypt PATH...` (shared/CLI.md): every file of the PATHs sealed in one run (one salt, one
// key derivation) into outputs beside them or mirrored under -o DIR, or by IBM's asprotect with
// --format ibm. With --manifest, once every envelope is sealed, one more envelope is written at
// the root of -o DIR: the batch manifest (docs/MANIFEST.md), sealed with the same password and
// salt, listing each envelope's path, plaintext size, file nonce and content digest. A run in
// which a file was not sealed writes none (a manifest lists a whole batch) and exits 1.

import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { MANIFEST_STEM, manifestName, type ManifestEntry } from '../batch/manifest.js';
import { toSlashPath } from '../batch/relpath.js';
import { KeyCache, passwordBytes } from '../crypto/keys.js';
import { loadBackend } from '../crypto/load.js';
import { KDF_ARGON2ID, KDF_PBKDF2, KDF_SCRYPT, SUITE_AES_256_GCM, SUITE_CHACHA20_POLY1305, type KdfId, type SuiteId } from '../format/constants.js';
import { DEFAULT_PARAMS } from '../format/kdf-params.js';
import { newContext } from '../engine/context.js';
import { encryptFile, type Sealing } from '../engine/files.js';
import { protectFile } from '../engine/foreign.js';
import { sealManifest } from '../engine/manifest-file.js';
import { describeIoError, failure, type FileResult } from '../engine/results.js';
import { PlanError, planOutput, type Planned } from '../fsops/plan.js';
import { finishRun, inputSpec, passwordOrUsage, totals, type WriteArgs } from './commands.js';
import { UsageError } from './errors.js';
import { foreignSetup, protectTool } from './foreign.js';
import { Inputs } from './inputs.js';
import { refuseOutputsThatAreInputs } from './prepass.js';
import { noInputs, OutFolder, reporter, runFiles, shardField } from './run-files.js';
import { showPath } from './text.js';

export interface EncryptArgs extends WriteArgs {
  suite: 'aes-256-gcm' | 'chacha20-poly1305';
  kdf: 'scrypt' | 'argon2id' | 'pbkdf2';
  chunkSize: number;
  format?: 'aenv' | 'ibm';
}

export const SUITES: Record<EncryptArgs['suite'], SuiteId> = { 'aes-256-gcm': SUITE_AES_256_GCM, 'chacha20-poly1305': SUITE_CHACHA20_POLY1305 };
export const KDFS: Record<EncryptArgs['kdf'], KdfId> = { scrypt: KDF_SCRYPT, argon2id: KDF_ARGON2ID, pbkdf2: KDF_PBKDF2 };

export async function sealingFor(a: EncryptArgs, keys: KeyCache): Promise<Sealing> {
  const chunkLog2 = Math.log2(a.chunkSize);
  const params = DEFAULT_PARAMS[KDFS[a.kdf]];
  const salt = randomBytes(32);
  return { suite: SUITES[a.suite], chunkLog2, params, salt, master: await keys.master(params, salt) };
}

/** --manifest: the usage rules, checked before any work. */
async function checkManifestArgs(a: EncryptArgs): Promise<void> {
  const why = a.output === undefined ? 'needs -o DIR (the manifest sits at the root of the tree it lists)'
    : a.format === 'ibm' ? 'cannot list envelopes sealed by IBM\'s asprotect (they have no AENV file nonce)'
      : a.shard !== undefined ? 'lists a whole batch, so it cannot be written by one part (--shard) of it' : null;
  if (why) throw new UsageError(`--manifest ${why}`, 'e.g. aenv encrypt cases/0815 -o outgoing --manifest');
  const name = manifestName(a.extension);
  const there = await fsp.lstat(path.join(a.output!, name)).catch(() => null);
  if (there && !a.force) {
    throw new UsageError(`${showPath(path.join(a.output!, name))} exists already: -o DIR holds a batch manifest`, 'seal the batch into an empty -o folder, or pass --force to replace it (and the envelopes)');
  }
  for (const p of a.paths) {
    const st = await fsp.stat(p).catch(() => null);
    const clash = st?.isDirectory() ? (await fsp.lstat(path.join(p, MANIFEST_STEM)).catch(() => null)) !== null : path.basename(p) === MANIFEST_STEM;
    if (clash) {
      throw new UsageError(`${showPath(st?.isDirectory() ? path.join(p, MANIFEST_STEM) : p)} would be sealed as ${name}, the batch manifest's name`, 'rename that file, or seal without --manifest');
    }
  }
}

export async function runEncrypt(a: EncryptArgs): Promise<number> {
  if (a.manifest) await checkManifestArgs(a);
  const out = new OutFolder(a.output ?? null);
  await out.look();
  const inputs = new Inputs(inputSpec(a, 'encrypt', out));
  if (!(await inputs.any())) throw noInputs(a.paths, a.filesFrom, 'files');
  await refuseOutputsThatAreInputs(inputs.spec, (f) => planOutput(f, 'encrypt', a.extension, a.output ?? null).output);
  const ibm = a.format === 'ibm' ? protectTool(a) : null; // --format ibm: IBM's asprotect seals
  const pw = await passwordOrUsage(a, true, 'encrypt');
  const backend = await loadBackend(a.backend);
  const rep = reporter(a, 'encrypt');
  const keys = ibm ? null : new KeyCache(backend, passwordBytes(pw));
  const ctx = newContext(backend, keys, (n) => rep.progress(n));
  const sealing = keys ? await sealingFor(a, keys) : null;
  await out.make();
  const opt = { force: Boolean(a.force), skipExisting: Boolean(a.skipExisting), removeSource: Boolean(a.removeSource) };
  const abort = new AbortController();
  const foreign = ibm ? { ...foreignSetup(a, ibm, { bytes: [], texts: [pw], lines: null }, abort.signal), tool: ibm } : null;
  const mname = manifestName(a.extension);
  const entries: ManifestEntry[] = [];
  let unsealed = 0;
  const code = await runFiles(a, ctx, rep, inputs, {
    file: async (f, _manifest, fctx) => {
      if ((f.root === null || f.listed) && path.basename(f.path).endsWith(a.extension)) {
        return { path: f.path, status: 'skipped', bytes: 0, detail: `already ends in ${a.extension}` };
      }
      let p: Planned;
      try {
        p = planOutput(f, 'encrypt', a.extension, out.dir, out.baseId);
        if (a.manifest && p.relDir === '' && path.basename(p.output) === mname) {
          throw new PlanError(`its envelope would be named ${mname}, the batch manifest's name`, 'rename the file, or seal without --manifest');
        }
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        return failure(f.path, undefined, e);
      }
      return foreign ? protectFile(f, p, opt, foreign, fctx) : encryptFile(f, p, opt, fctx, sealing!);
    },
    report: (_it, r: FileResult) => {
      if (!a.manifest) return r;
      if (r.status !== 'ok' || !r.envelope || r.output === undefined) unsealed++;
      else entries.push({ path: toSlashPath(path.relative(out.dir!, r.output), path.sep), size: r.envelope.size ?? 0, nonce: r.envelope.nonce, digest: r.envelope.digest! });
      return r;
    },
  }, await totals(rep, inputs), abort);
  if (code >= 0) return code;
  if (inputs.found === 0 && inputs.problems === 0) throw noInputs(a.paths, a.filesFrom, 'files');
  let manifest: Record<string, unknown> = {};
  let failedManifest = false;
  if (a.manifest) {
    const where = path.join(out.dir!, mname);
    if (unsealed > 0) {
      failedManifest = true;
      manifest = { manifest: { path: where, written: false, error: `${unsealed} file${unsealed === 1 ? ' was' : 's were'} not sealed in this run` } };
      rep.note(`aenv: error: the batch manifest was not written: ${unsealed} file${unsealed === 1 ? ' was' : 's were'} not sealed in this run, and a manifest lists a whole batch`);
      rep.note('aenv: hint: fix what failed and seal the batch again into an empty -o folder (or with --force)');
    } else {
      try {
        const m = await sealManifest(out.dir!, out.baseId, mname, entries, sealing!, ctx, Boolean(a.force));
        manifest = { manifest: { path: m.path, written: true, entries: m.entries } };
        if (!a.json && !a.quiet) process.stdout.write(`${'manifest'.padEnd(14)} ${showPath(m.path)}: ${m.entries} envelope${m.entries === 1 ? '' : 's'} listed, sealed with the run's password and salt\n`);
      } catch (e) {
        failedManifest = true;
        const detail = e instanceof Error && e.name === 'ManifestError' ? e.message : describeIoError(e);
        manifest = { manifest: { path: where, written: false, error: detail } };
        rep.note(`aenv: error: the batch manifest ${showPath(where)} was not written: ${detail}`);
      }
    }
  }
  return finishRun(rep, { ...shardField(inputs.spec.shard), ...manifest }, failedManifest);
}
