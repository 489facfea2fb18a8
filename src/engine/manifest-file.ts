// The sealed batch manifest as a file (docs/MANIFEST.md "The envelope around it"): written by
// `encrypt --manifest` at the root of -o DIR as an ordinary AENV/1 envelope, sealed with the
// run's password, parameters and salt and a fresh file nonce, through aenv's own atomic output;
// read by `verify` and `decrypt` of a tree with the run's keys (every chunk authenticated, the
// text decoded strictly by src/batch/manifest.ts as it is released), and bound to the batch: the
// text's `batch` line must be the salt of the manifest's own header.

import * as path from 'node:path';
import { ManifestDecoder, ManifestError, encodeManifest, type Manifest, type ManifestEntry } from '../batch/manifest.js';
import { chunkSize, constantTimeEqual } from '../format/header.js';
import { layoutForSize, parseTrailer } from '../format/layout.js';
import { AtomicOutput } from '../fsops/atomic.js';
import { InputFile } from '../fsops/input.js';
import type { RunContext } from './context.js';
import { envelopeOf, hex, newEncoder, unlock, type Sealing } from './aenv.js';
import { outputDir } from './files.js';
import { DigestCursor, openPayload, payloadMemory, readTrailer, type Envelope } from './pipeline.js';
import { readStart } from './start.js';

export interface OpenedManifest {
  manifest: Manifest;
  /** Its own content digest did not match (every chunk authenticated: the text is authentic). */
  warning?: string;
}

/**
 * Opens the manifest envelope `file` with the run's keys and decodes it. Throws EnvelopeError
 * (not an envelope, wrong password, corrupt), ManifestError (not in the canonical form, or not of
 * this batch) or an I/O error.
 */
export async function readManifest(file: string, run: RunContext): Promise<OpenedManifest> {
  const src = InputFile.open(file); // a symbolic link in its place is not followed
  let env: Envelope | undefined;
  let digest: DigestCursor | undefined;
  let release: (() => void) | undefined;
  try {
    env = envelopeOf(await readStart(src, run));
    digest = new DigestCursor(env, run);
    const keys = await unlock(env.header, run);
    const layout = layoutForSize(env.size, chunkSize(env.header));
    const expected = parseTrailer(await readTrailer(env));
    release = await run.memory.acquire(payloadMemory(env, layout, run));
    const decoder = new ManifestDecoder();
    for await (const p of openPayload(env, layout, keys.payloadKey, digest, run)) {
      try {
        decoder.push(p.plaintext);
      } finally {
        p.release();
      }
    }
    const digestOk = constantTimeEqual(await digest.result, expected);
    const manifest = decoder.end();
    const salt = hex(env.header.salt);
    if (manifest.salt !== salt) {
      throw new ManifestError(`its batch ${manifest.salt.slice(0, 16)}... is not the salt of its own envelope (${salt.slice(0, 16)}...): it does not belong to this batch`, 2,
        'the manifest was not written by encrypt --manifest for this batch; check the tree without it');
    }
    return { manifest, ...(digestOk ? {} : { warning: 'the content digest in its trailer does not match, but every chunk authenticated: the trailer is damaged' }) };
  } finally {
    digest?.stop();
    await src.settled(); // no read in flight once the file is closed
    src.close();
    if (env?.whole) run.buffers.give(env.whole.buffer as ArrayBuffer);
    release?.();
  }
}

/**
 * Seals the manifest of `entries` as `name` at the root of `outDir` (found as `outId` when the
 * run began) with the run's sealing, and commits it durably; replaces an existing one only when
 * `replace`. Returns the manifest's path and its number of entries.
 */
export async function sealManifest(outDir: string, outId: { dev: number; ino: number } | null, name: string, entries: ManifestEntry[],
  sealing: Sealing, run: RunContext, replace: boolean): Promise<{ path: string; entries: number }> {
  const pieces = encodeManifest(sealing.salt, entries); // a bad entry throws while it is written: nothing is committed
  const dir = outputDir({ base: outDir, relDir: '', output: path.join(outDir, name), within: null, baseId: outId }, run);
  const out = AtomicOutput.create(dir, name);
  try {
    const { header, encoder } = newEncoder(run, sealing);
    out.writeSync([header]);
    for (const piece of pieces) out.writeSync(encoder.push(piece));
    out.writeSync(encoder.end());
    await out.commit(replace, true);
  } catch (e) {
    out.discard();
    throw e;
  }
  return { path: path.join(outDir, name), entries: entries.length };
}
