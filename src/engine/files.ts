// One file, start to end: decrypt (steps 1-12 of shared/ENVELOPE.md into an atomic output),
// verify (keyed or passwordless, writing nothing) and encrypt. Each returns a FileResult and
// never leaves plaintext or a temporary file behind on failure. Every effect is bound to what
// was opened: the input is the file the walk saw (device, inode), the output is committed only
// while its folder and names are still aenv's (fsops/atomic.ts), and --remove-source deletes an
// input only while its name still points to the file that was read. A file without the AENV
// magic goes to engine/foreign.ts when the run has IBM's tool set up (WriteOptions.foreign).
// Each row of an AENV envelope carries what was read of it (file nonce, content digest, plaintext
// size) for the batch manifest, and decrypt can check a plaintext's SHA-256 against a checksum
// list before the commit (WriteOptions.judge).

import { unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { fileKeys, headerMacMatches, newFileNonce, sealHeader, type FileKeys } from '../crypto/keys.js';
import type { SuiteId } from '../format/constants.js';
import { chunkSize, constantTimeEqual, type Header } from '../format/header.js';
import type { KdfParams } from '../format/kdf-params.js';
import { layoutForSize, parseTrailer } from '../format/layout.js';
import { OFF_FILE_NONCE, TRAILER_LEN } from '../format/constants.js';
import { EnvelopeError } from '../format/status.js';
import { AtomicOutput, ExistsError, removeStaleTemps } from '../fsops/atomic.js';
import { fsyncDir, OutputDir } from '../fsops/dirs.js';
import { InputFile, type FileId } from '../fsops/input.js';
import type { Planned } from '../fsops/plan.js';
import { lstatOrNull } from '../fsops/stat.js';
import { StreamEncoder } from '../stream/encoder.js';
import { checkInterrupted, type RunContext } from './context.js';
import { decryptDigest, DigestCursor, drain, openPayload, payloadMemory, readEnvelope, readTrailer, sealFile, sealMemory, type Envelope } from './pipeline.js';
import { describeIoError, failure, type FileResult } from './results.js';
import { decryptForeign, isNoMagic, verifyForeign, type ForeignTool } from './foreign.js';

export interface WriteOptions {
  force: boolean;
  skipExisting: boolean;
  removeSource: boolean;
  /** Files without the AENV magic go to IBM's tool (engine/foreign.ts); unset: they stay not-envelope. */
  foreign?: ForeignTool | undefined;
  /** decrypt --checksums: the verdict on the plaintext's SHA-256, asked before the commit; a mismatch is not committed. */
  judge?: Judge | undefined;
}

/** A checksum list's verdict on a plaintext (src/batch/checksum-check.ts). */
export type Judge = (sha256: Uint8Array) => { kind: 'ok' | 'mismatch' | 'extra'; detail: string };

export type Seen = NonNullable<FileResult['envelope']>;
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** The row with what was read of the envelope and the checksum verdict, when there are any. */
function withSeen(r: FileResult, seen: Seen | null, verdict?: FileResult['checksum']): FileResult {
  return { ...r, ...(seen ? { envelope: seen } : {}), ...(verdict ? { checksum: verdict } : {}) };
}

/** A mismatching plaintext is not committed: the file is corrupt, the detail says why. */
export function checksumRefusal(detail: string): EnvelopeError {
  return new EnvelopeError('corrupt', `plaintext ${detail}: the output was not committed`);
}

/** An input: a path the walk found (with the identity it saw), or a bare path. */
export type InputPath = string | { path: string; dev: number; ino: number; followLink: boolean };

export const DIGEST_WARNING = 'content digest in the trailer does not match, but every chunk authenticated: the plaintext is authentic, the trailer is damaged';
export const WRONG_PASSWORD_DETAIL = 'wrong password (the header is intact but its MAC does not match this password; or the header was forged)';

export function open(input: InputPath): InputFile {
  return typeof input === 'string' ? InputFile.open(input) : InputFile.open(input.path, input as FileId, input.followLink);
}

/** The keys of a file whose header MAC matched, and which password of the run's list opened it (its index). */
export interface Unlocked extends FileKeys {
  password: number;
}

/**
 * Step 6: the master key (from the run's cache) and the header MAC, for each password of the
 * run in turn until one matches: at most one KDF per password and salt in the whole run.
 */
export async function unlock(header: Header, run: RunContext): Promise<Unlocked> {
  const cache = run.keys;
  if (!cache) throw new Error('no password');
  for (let i = 0; i < cache.size; i++) {
    const keys = fileKeys(run.backend, await cache.master(header.params, header.salt, i), header.fileNonce);
    if (headerMacMatches(run.backend, keys.headerKey, header)) return { ...keys, password: i };
  }
  throw new EnvelopeError('wrong-password', cache.size === 1 ? WRONG_PASSWORD_DETAIL
    : `no password of the list matches (${cache.size} tried): the header is intact but its MAC matches none of them (or the header was forged)`);
}

/** The row's `password` field: the list line that opened the file, when the run has a list. */
function passwordField(run: RunContext, k: Unlocked | null): { password?: number } {
  const line = k && run.passwordLines ? run.passwordLines[k.password] : undefined;
  return line === undefined ? {} : { password: line };
}

/** The output folder, resolved once per run, cleaned of dead runs' temporary files once. */
export function outputDir(p: Planned, run: RunContext): OutputDir {
  const key = `${p.base}\0${p.relDir}\0${p.within ?? ''}`;
  let dir = run.dirs.get(key);
  if (!dir) {
    dir = OutputDir.resolve(p.base, p.relDir, p.within ?? undefined, p.baseId);
    run.dirs.set(key, dir);
  }
  cleanOnce(dir.path, run);
  return dir;
}

function cleanOnce(dir: string, run: RunContext): void {
  if (run.cleaned.has(dir)) return;
  run.cleaned.add(dir);
  removeStaleTemps(dir);
}

/** The folder other users may write to, the first time this run writes under it (the row then warns). */
export function sharedFolder(dir: OutputDir, run: RunContext): string | undefined {
  if (dir.sharedWritable === null || run.warned.has(dir.sharedWritable)) return undefined;
  run.warned.add(dir.sharedWritable);
  return dir.sharedWritable;
}

/** exists/skipped before any work; the commit checks again, atomically. */
export function precheck(src: string, p: Planned, opt: WriteOptions, run: RunContext): FileResult | null {
  let there: boolean;
  try {
    there = !opt.force && lstatOrNull(p.output, true) !== null;
  } catch (e) {
    return failure(src, p.output, e);
  }
  if (!there) return null;
  // A run killed after naming its output but before removing its temporary file left one
  // here; a later run that skips this output still cleans the folder.
  cleanOnce(path.dirname(p.output), run);
  return { path: src, output: p.output, status: opt.skipExisting ? 'skipped' : 'exists', bytes: 0, detail: 'output already exists' };
}

/** The output is in place, but --remove-source could not remove the source. */
class SourceKept extends Error {
  constructor(readonly reason: string) {
    super('source not removed');
  }
}

/** --remove-source: the input goes only while its name still points to the file that was read. */
export async function removeSource(src: InputFile): Promise<void> {
  await src.settled();
  src.close();
  if (!src.nameStillPointsHere()) throw new SourceKept('its name no longer points to the file that was read (it was renamed, replaced or changed meanwhile)');
  try {
    unlinkSync(src.path);
  } catch (e) {
    throw new SourceKept(describeIoError(e));
  }
  await fsyncDir(path.dirname(src.path));
}

export function writeFailure(src: string, p: Planned, opt: WriteOptions, e: unknown, bytes: number, verb: string, shared: string | undefined): FileResult {
  const r = writeFailureOf(src, p, opt, e, bytes, verb);
  return shared ? { ...r, sharedFolder: shared } : r;
}

function writeFailureOf(src: string, p: Planned, opt: WriteOptions, e: unknown, bytes: number, verb: string): FileResult {
  if (e instanceof ExistsError && opt.skipExisting) {
    // Another run committed the same output between our precheck and our commit.
    return { path: src, output: p.output, status: 'skipped', bytes: 0, detail: 'output already exists (appeared while this file was being written)' };
  }
  if (e instanceof SourceKept) {
    return {
      path: src, output: p.output, status: 'io-error', bytes,
      detail: `${verb} to ${p.output}, but the ${verb === 'decrypted' ? 'envelope' : 'source'} could not be removed: ${e.reason}`,
    };
  }
  return failure(src, p.output, e);
}

/** What a file holds open while it is worked on; close() lets go of all of it, whatever happened. */
class Held {
  src?: InputFile;
  env?: Envelope;
  digest?: DigestCursor;
  out?: AtomicOutput;
  release?: () => void;
  /** A shared folder to warn about (set once the output folder is known). */
  shared?: string;
  constructor(private readonly run: RunContext) {}
  async close(): Promise<void> {
    this.digest?.stop();
    await this.src?.settled(); // no read in flight once the file is closed
    this.out?.discard();
    this.src?.close();
    if (this.env?.whole) this.run.buffers.give(this.env.whole.buffer as ArrayBuffer);
    this.release?.();
  }
}

export async function decryptFile(input: InputPath, p: Planned, opt: WriteOptions, run: RunContext): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  const early = precheck(name, p, opt, run);
  if (early) return early;
  const h = new Held(run);
  let bytes = 0;
  let seen: Seen | null = null;
  let verdict: FileResult['checksum'];
  try {
    const src = (h.src = open(input));
    let env: Envelope;
    try {
      env = h.env = await readEnvelope(src, run); // steps 1-5
    } catch (e) {
      if (opt.foreign && isNoMagic(e)) return await decryptForeign(name, src, p, opt, opt.foreign, run, e);
      throw e;
    }
    seen = { nonce: hex(env.header.fileNonce), digest: null, size: null };
    const digest = (h.digest = decryptDigest(env, run) ? new DigestCursor(env, run) : undefined); // reads on its own while the key is derived
    if (!env.whole) run.pool?.warm(); // the workers start while the key is derived
    const keys = await unlock(env.header, run); // step 6
    const layout = layoutForSize(env.size, chunkSize(env.header)); // step 7
    seen.size = layout.plaintextLen;
    const expected = parseTrailer(await readTrailer(env)); // step 8
    seen.digest = hex(expected);
    h.release = await run.memory.acquire(payloadMemory(env, layout, run));
    const dir = outputDir(p, run);
    h.shared = sharedFolder(dir, run);
    const out = (h.out = AtomicOutput.create(dir, path.basename(p.output)));
    const tap = opt.judge ? run.backend.sha256() : null;
    if (tap) out.onWrite = (bufs) => bufs.forEach((b) => tap.update(b));
    bytes = await drain(openPayload(env, layout, keys.payloadKey, digest ?? null, run), out, env.whole !== null, run); // step 10
    const computed = digest ? await digest.result : null;
    if (computed) seen.digest = hex(computed);
    const digestOk = computed === null || constantTimeEqual(computed, expected); // step 11: a warning only
    if (tap) {
      verdict = opt.judge!(tap.digest());
      if (verdict.kind === 'mismatch') throw checksumRefusal(verdict.detail);
    }
    checkInterrupted(run);
    await out.commit(opt.force, opt.removeSource); // step 12
    h.out = undefined;
    if (opt.removeSource) await removeSource(src);
    return withSeen({
      path: name, output: p.output, status: 'ok', bytes,
      detail: `decrypted ${layout.chunks} chunk${layout.chunks === 1 ? '' : 's'}${computed ? '' : ' (content digest not checked: every chunk authenticated; verify checks it)'}${opt.removeSource ? ', envelope removed' : ''}`,
      ...passwordField(run, keys),
      ...(digestOk ? {} : { warning: DIGEST_WARNING }),
      ...(h.shared ? { sharedFolder: h.shared } : {}),
    }, seen, verdict);
  } catch (e) {
    return withSeen(writeFailure(name, p, opt, e, bytes, 'decrypted', h.shared), seen, verdict);
  } finally {
    await h.close();
  }
}

/** Keyed (every step, digest included) when the run has keys, else passwordless (steps 1-5, 7-9). */
export async function verifyFile(input: InputPath, run: RunContext, foreign?: ForeignTool): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  const h = new Held(run);
  let seen: Seen | null = null;
  try {
    const src = (h.src = open(input));
    let env: Envelope;
    try {
      env = h.env = await readEnvelope(src, run); // steps 1-5
    } catch (e) {
      if (foreign && isNoMagic(e)) return await verifyForeign(name, src, foreign, run, e);
      throw e;
    }
    seen = { nonce: hex(env.header.fileNonce), digest: null, size: null };
    h.digest = new DigestCursor(env, run);
    if (run.keys && !env.whole) run.pool?.warm(); // the workers start while the key is derived
    const keys = run.keys ? await unlock(env.header, run) : null; // step 6
    const layout = layoutForSize(env.size, chunkSize(env.header)); // step 7
    seen.size = layout.plaintextLen;
    const expected = parseTrailer(await readTrailer(env)); // step 8
    seen.digest = hex(expected);
    if (keys) { // step 10
      h.release = await run.memory.acquire(payloadMemory(env, layout, run));
      await drain(openPayload(env, layout, keys.payloadKey, h.digest, run), null, false, run);
    } else {
      run.progress(env.size);
    }
    const computed = await h.digest.result;
    seen.digest = hex(computed);
    if (!constantTimeEqual(computed, expected)) { // step 9 / 11
      throw new EnvelopeError('corrupt', keys
        ? 'content digest mismatch (every chunk authenticated, so the trailer itself is damaged)'
        : 'content digest mismatch: the envelope was damaged in transit or storage');
    }
    const n = layout.chunks;
    return withSeen({
      path: name, status: 'ok', bytes: env.size, ...passwordField(run, keys),
      detail: keys ? `${n === 1 ? 'its one chunk' : `all ${n} chunks`} authenticated and content digest matches` : 'structure and content digest match (no password: not authenticated)',
    }, seen);
  } catch (e) {
    return withSeen(failure(name, undefined, e), seen);
  } finally {
    await h.close();
  }
}

/** How one encrypt run seals: one salt and one master key for every file of the run. */
export interface Sealing {
  suite: SuiteId;
  chunkLog2: number;
  params: KdfParams;
  salt: Uint8Array;
  master: Uint8Array;
}

/** A fresh header (new file nonce) and the payload key for one file. */
export function newHeader(run: RunContext, s: Sealing): { header: Uint8Array; payloadKey: Uint8Array } {
  return sealHeader(run.backend, s.master, { suite: s.suite, chunkLog2: s.chunkLog2, params: s.params, salt: s.salt, fileNonce: newFileNonce() });
}

/** A header and a stream encoder for a plaintext of unknown length (standard input). */
export function newEncoder(run: RunContext, s: Sealing): { header: Uint8Array; encoder: StreamEncoder } {
  const { header, payloadKey } = newHeader(run, s);
  return { header, encoder: new StreamEncoder(run.backend.aead(s.suite, payloadKey), 2 ** s.chunkLog2, run.backend.sha256(), header) };
}

export async function encryptFile(input: InputPath, p: Planned, opt: WriteOptions, run: RunContext, s: Sealing): Promise<FileResult> {
  const name = typeof input === 'string' ? input : input.path;
  const early = precheck(name, p, opt, run);
  if (early) return early;
  const h = new Held(run);
  let size = 0;
  try {
    const src = (h.src = open(input));
    size = src.size;
    const { header, payloadKey } = newHeader(run, s);
    h.release = await run.memory.acquire(sealMemory(size, 2 ** s.chunkLog2, run));
    const dir = outputDir(p, run);
    h.shared = sharedFolder(dir, run);
    const out = (h.out = AtomicOutput.create(dir, path.basename(p.output)));
    const tail = new LastBytes(TRAILER_LEN); // the trailer written last: its content digest goes into the manifest
    out.onWrite = (bufs) => bufs.forEach((b) => tail.push(b));
    const chunks = await sealFile(src, { suite: s.suite, chunkSize: 2 ** s.chunkLog2, header, payloadKey }, out, run);
    const sealed: Seen = { nonce: hex(header.subarray(OFF_FILE_NONCE, OFF_FILE_NONCE + 32)), digest: hex(parseTrailer(tail.bytes())), size };
    checkInterrupted(run);
    await out.commit(opt.force, opt.removeSource);
    h.out = undefined;
    if (opt.removeSource) await removeSource(src);
    return {
      path: name, output: p.output, status: 'ok', bytes: size,
      detail: `sealed in ${chunks} chunk${chunks === 1 ? '' : 's'}${opt.removeSource ? ', source removed' : ''}`,
      ...(h.shared ? { sharedFolder: h.shared } : {}),
      envelope: sealed,
    };
  } catch (e) {
    return writeFailure(name, p, opt, e, size, 'encrypted', h.shared);
  } finally {
    await h.close();
  }
}

/** The last `n` bytes of what went through it. */
class LastBytes {
  private buf = new Uint8Array(0);
  constructor(private readonly n: number) {}
  push(b: Uint8Array): void {
    if (b.length >= this.n) this.buf = b.slice(b.length - this.n);
    else {
      const joined = new Uint8Array(this.buf.length + b.length);
      joined.set(this.buf);
      joined.set(b, this.buf.length);
      this.buf = joined.slice(Math.max(0, joined.length - this.n));
    }
  }
  bytes(): Uint8Array {
    return this.buf;
  }
}

