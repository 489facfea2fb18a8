// One file, start to end: decrypt (steps 1-12 of shared/ENVELOPE.md into an atomic output),
// verify (keyed or passwordless, writing nothing) and encrypt. Each returns a FileResult and
// never leaves plaintext or a temporary file behind on failure.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileKeys } from '../crypto/keys.js';
import type { SuiteId } from '../format/constants.js';
import { encodeMacInput, finishHeader } from '../format/header.js';
import type { KdfParams } from '../format/kdf-params.js';
import { EnvelopeError } from '../format/status.js';
import { commit, createTemp, discardTemp, exists, ExistsError, finishTemp, fsyncDir, removeStaleTemps, type TempFile } from '../fsops/atomic.js';
import { ensureOutputDir, type Planned } from '../fsops/plan.js';
import { ChunkSealer } from '../stream/chunks.js';
import { StreamEncoder } from '../stream/encoder.js';
import { readBlocks } from './blocks.js';
import { checkInterrupted, type FileResult, type RunContext } from './context.js';
import { openEnvelope } from './open.js';
import { checkDigest, openPayload, TARGET_BLOCK } from './payload.js';
import { describeIoError, failure } from './results.js';

export interface WriteOptions {
  force: boolean;
  skipExisting: boolean;
  removeSource: boolean;
}

export const DIGEST_WARNING = 'content digest in the trailer does not match, but every chunk authenticated: the plaintext is authentic, the trailer is damaged';

/** Writes all of `bufs` (writev may write less than asked). */
async function writeAll(fh: fsp.FileHandle, bufs: Uint8Array[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length) {
    const { bytesWritten } = await fh.writev(rest);
    let n = bytesWritten;
    while (rest.length && n >= rest[0]!.length) n -= rest.shift()!.length;
    if (n > 0 && rest.length) rest[0] = rest[0]!.subarray(n);
  }
}

/** Removes, once per run and folder, the temporary files of dead runs (killed mid-write). */
async function cleanOnce(dir: string, ctx: RunContext): Promise<void> {
  if (ctx.cleaned.has(dir)) return;
  ctx.cleaned.add(dir);
  await removeStaleTemps(dir);
}

async function outputDir(p: Planned, ctx: RunContext): Promise<string> {
  const dir = await ensureOutputDir(p.base, p.relDir);
  await cleanOnce(dir, ctx);
  return dir;
}

/** exists/skipped before any work; the commit re-checks atomically. */
async function precheck(src: string, p: Planned, opt: WriteOptions, ctx: RunContext): Promise<FileResult | null> {
  try {
    if (opt.force || !(await exists(p.output))) return null;
  } catch (e) {
    return failure(src, p.output, e);
  }
  // A run killed after naming its output but before removing its temporary file left one
  // here; a later run that skips this output still cleans the folder.
  await cleanOnce(path.dirname(p.output), ctx);
  return opt.skipExisting
    ? { path: src, output: p.output, status: 'skipped', bytes: 0, detail: 'output already exists' }
    : { path: src, output: p.output, status: 'exists', bytes: 0, detail: 'output already exists' };
}

async function openSource(src: string): Promise<{ fh: fsp.FileHandle; size: number }> {
  const fh = await fsp.open(src, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The output is in place, but --remove-source could not remove the source. */
class SourceKept extends Error {
  constructor(readonly reason: unknown) {
    super('source not removed');
  }
}

/** The result of a write that failed: a commit beaten by a racing run, or a source kept. */
function writeFailure(src: string, p: Planned, opt: WriteOptions, e: unknown, bytes: number, verb: string): FileResult {
  if (e instanceof ExistsError && opt.skipExisting) {
    // Another run committed the same output between our precheck and our commit.
    return { path: src, output: p.output, status: 'skipped', bytes: 0, detail: 'output already exists (appeared while this file was being written)' };
  }
  if (e instanceof SourceKept) {
    return {
      path: src, output: p.output, status: 'io-error', bytes,
      detail: `${verb} to ${p.output}, but the ${verb === 'decrypted' ? 'envelope' : 'source'} could not be removed: ${describeIoError(e.reason)}`,
    };
  }
  return failure(src, p.output, e);
}

/** Writes through `produce` into a temporary file, then commits it and maybe removes `src`. */
async function writeOutput(src: string, p: Planned, opt: WriteOptions, ctx: RunContext,
  produce: (tmp: TempFile) => Promise<void>, closeSource: () => Promise<void>): Promise<void> {
  const dir = await outputDir(p, ctx);
  const tmp = await createTemp(dir);
  try {
    await produce(tmp);
    checkInterrupted(ctx);
    await finishTemp(tmp);
    await commit(tmp.path, p.output, opt.force);
  } catch (e) {
    await discardTemp(tmp);
    throw e;
  }
  if (opt.removeSource) {
    // The output and its folder are flushed (commit did both): only now may the source go.
    try {
      await closeSource();
      await fsp.unlink(src);
    } catch (e) {
      throw new SourceKept(e);
    }
    await fsyncDir(path.dirname(src));
  }
}

export async function decryptFile(src: string, p: Planned, opt: WriteOptions, ctx: RunContext): Promise<FileResult> {
  const early = await precheck(src, p, opt, ctx);
  if (early) return early;
  let fh: fsp.FileHandle | undefined;
  let written = 0;
  try {
    const s = await openSource(src);
    fh = s.fh;
    const o = await openEnvelope(fh, s.size, ctx, true);
    written = o.layout.plaintextLen;
    let digestOk = true;
    await writeOutput(src, p, opt, ctx, async (tmp) => {
      digestOk = await openPayload(fh!, o, ctx, (pts) => writeAll(tmp.fh, pts));
    }, async () => { await fh?.close(); fh = undefined; });
    const n = o.layout.chunks;
    return {
      path: src, output: p.output, status: 'ok', bytes: o.layout.plaintextLen,
      detail: `decrypted ${n} chunk${n === 1 ? '' : 's'}${opt.removeSource ? ', envelope removed' : ''}`,
      ...(digestOk ? {} : { warning: DIGEST_WARNING }),
    };
  } catch (e) {
    return writeFailure(src, p, opt, e, written, 'decrypted');
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Keyed (every step, digest included) when ctx has keys, else passwordless (steps 1-5, 7-9). */
export async function verifyFile(src: string, ctx: RunContext): Promise<FileResult> {
  let fh: fsp.FileHandle | undefined;
  try {
    const s = await openSource(src);
    fh = s.fh;
    const keyed = ctx.keys !== null;
    const o = await openEnvelope(fh, s.size, ctx, keyed);
    if (keyed) {
      if (!(await openPayload(fh, o, ctx, null))) {
        throw new EnvelopeError('corrupt', 'content digest mismatch (every chunk authenticated, so the trailer itself is damaged)');
      }
    } else {
      await checkDigest(fh, o, ctx);
    }
    return {
      path: src, status: 'ok', bytes: s.size,
      detail: keyed ? `${o.layout.chunks === 1 ? 'its one chunk' : `all ${o.layout.chunks} chunks`} authenticated and content digest matches` : 'structure and content digest match (no password: not authenticated)',
    };
  } catch (e) {
    return failure(src, undefined, e);
  } finally {
    await fh?.close().catch(() => undefined);
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
export function newHeader(ctx: RunContext, s: Sealing): { header: Uint8Array; payloadKey: Uint8Array } {
  const fileNonce = randomBytes(32);
  const keys = fileKeys(ctx.backend, s.master, fileNonce);
  const macInput = encodeMacInput({ suite: s.suite, chunkLog2: s.chunkLog2, params: s.params, salt: s.salt, fileNonce });
  return { header: finishHeader(macInput, ctx.backend.hmacSha256(keys.headerKey, macInput)), payloadKey: keys.payloadKey };
}

export function newEncoder(ctx: RunContext, s: Sealing): { header: Uint8Array; encoder: StreamEncoder } {
  const { header, payloadKey } = newHeader(ctx, s);
  const sealer = new ChunkSealer(ctx.backend, s.suite, payloadKey);
  return { header, encoder: new StreamEncoder(sealer, 2 ** s.chunkLog2, ctx.backend.sha256(), header) };
}

export async function encryptFile(src: string, p: Planned, opt: WriteOptions, ctx: RunContext, s: Sealing): Promise<FileResult> {
  const early = await precheck(src, p, opt, ctx);
  if (early) return early;
  let fh: fsp.FileHandle | undefined;
  let size = 0;
  try {
    const src0 = await openSource(src);
    fh = src0.fh;
    size = src0.size;
    const { header, encoder } = newEncoder(ctx, s);
    await writeOutput(src, p, opt, ctx, async (tmp) => {
      await writeAll(tmp.fh, [header]);
      for await (const block of readBlocks(fh!, 0, src0.size, TARGET_BLOCK)) {
        checkInterrupted(ctx);
        await writeAll(tmp.fh, encoder.push(block));
        ctx.progress(block.length);
      }
      await writeAll(tmp.fh, encoder.end());
    }, async () => { await fh?.close(); fh = undefined; });
    return {
      path: src, output: p.output, status: 'ok', bytes: src0.size,
      detail: `sealed in ${encoder.chunks} chunk${encoder.chunks === 1 ? '' : 's'}${opt.removeSource ? ', source removed' : ''}`,
    };
  } catch (e) {
    return writeFailure(src, p, opt, e, size, 'encrypted');
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
