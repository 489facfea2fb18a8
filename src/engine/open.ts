// Opening an envelope of known size: decoding steps 1-8 of shared/ENVELOPE.md (magic,
// version, size, header_check, suite/kdf/limits, header_mac with a password, payload
// length, trailer magic), in that order, before any chunk is touched.

import type { promises as fsp } from 'node:fs';
import { fileKeys, headerMacMatches, type FileKeys } from '../crypto/keys.js';
import { HEADER_LEN, TRAILER_LEN } from '../format/constants.js';
import { chunkSize, parseHeader, type Header } from '../format/header.js';
import { layoutForSize, parseTrailer, type Layout } from '../format/layout.js';
import { EnvelopeError } from '../format/status.js';
import { readExactly } from './blocks.js';
import type { RunContext } from './context.js';

export interface Opened {
  header: Header;
  keys: FileKeys | null;
  layout: Layout;
  digest: Uint8Array;
  size: number;
}

export const WRONG_PASSWORD_DETAIL = 'wrong password (the header is intact but its MAC does not match this password; or the header was forged)';

/** Steps 1-5: the header alone. */
export async function readHeader(fh: fsp.FileHandle, size: number): Promise<Header> {
  const n = Math.min(size, HEADER_LEN);
  const prefix = await readExactly(fh, new Uint8Array(n), n, 0);
  return parseHeader(prefix, size);
}

/** Step 6: the master key (from the run's cache) and the header MAC. */
export async function unlock(header: Header, ctx: RunContext): Promise<FileKeys> {
  if (!ctx.keys) throw new Error('no password');
  const master = await ctx.keys.master(header.params, header.salt);
  const keys = fileKeys(ctx.backend, master, header.fileNonce);
  if (!headerMacMatches(ctx.backend, keys.headerKey, header)) {
    throw new EnvelopeError('wrong-password', WRONG_PASSWORD_DETAIL);
  }
  return keys;
}

/** Steps 1-8; step 6 only when `keyed`. */
export async function openEnvelope(fh: fsp.FileHandle, size: number, ctx: RunContext, keyed: boolean): Promise<Opened> {
  const header = await readHeader(fh, size);
  const keys = keyed ? await unlock(header, ctx) : null;
  const layout = layoutForSize(size, chunkSize(header));
  const trailer = await readExactly(fh, new Uint8Array(TRAILER_LEN), TRAILER_LEN, size - TRAILER_LEN);
  const digest = parseTrailer(trailer);
  return { header, keys, layout, digest, size };
}
