// `inspect`: what an envelope's header says, without a password (decoding steps 1-5, and the
// structural steps 7-8): fields, sizes, chunk count, and the salt's first bytes as the id of
// the batch it was sealed with (files sealed in one run share a salt).

import { promises as fsp } from 'node:fs';
import { KDF_NAMES, SUITE_NAMES, TRAILER_LEN } from '../format/constants.js';
import { chunkSize } from '../format/header.js';
import { describeKdf } from '../format/kdf-params.js';
import { layoutForSize, parseTrailer } from '../format/layout.js';
import { EnvelopeError, type Status } from '../format/status.js';
import { readExactly } from './blocks.js';
import { readHeader } from './open.js';
import { describeIoError } from './results.js';

export interface InspectResult {
  path: string;
  status: Status;
  detail: string;
  size?: number;
  version?: number;
  suite?: string;
  kdf?: string;
  kdf_params?: { p1: number; p2: number; p3: number };
  kdf_text?: string;
  chunk_size?: number;
  chunks?: number;
  plaintext_bytes?: number;
  batch_id?: string;
  content_digest?: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function inspectFile(src: string): Promise<InspectResult> {
  let fh: fsp.FileHandle | undefined;
  const r: InspectResult = { path: src, status: 'ok', detail: '' };
  try {
    fh = await fsp.open(src, 'r');
    const size = (await fh.stat()).size;
    r.size = size;
    const h = await readHeader(fh, size);
    Object.assign(r, {
      version: 1,
      suite: SUITE_NAMES[h.suite],
      kdf: KDF_NAMES[h.params.kdf],
      kdf_params: { p1: h.params.p1, p2: h.params.p2, p3: h.params.p3 },
      kdf_text: describeKdf(h.params),
      chunk_size: chunkSize(h),
      batch_id: hex(h.salt.subarray(0, 8)),
    });
    const layout = layoutForSize(size, chunkSize(h));
    r.chunks = layout.chunks;
    r.plaintext_bytes = layout.plaintextLen;
    r.content_digest = hex(parseTrailer(await readExactly(fh, new Uint8Array(TRAILER_LEN), TRAILER_LEN, size - TRAILER_LEN)));
    r.detail = 'header intact; structure plausible (run verify to check the content)';
  } catch (e) {
    if (e instanceof EnvelopeError) {
      r.status = e.status;
      r.detail = e.message;
    } else {
      r.status = 'io-error';
      r.detail = describeIoError(e);
    }
  } finally {
    await fh?.close().catch(() => undefined);
  }
  return r;
}
