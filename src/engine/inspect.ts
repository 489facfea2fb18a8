// `inspect`: what an envelope's header says, without a password (decoding steps 1-5, and the
// structural steps 7-8): fields, sizes, chunk count, and the salt's first bytes as the id of
// the batch it was sealed with (files sealed in one run share a salt). A file without the AENV
// magic is a foreign envelope (engine/ibm.ts): its size, and whether IBM's asunprotect,
// which would open it, was found.

import { HEADER_LEN, KDF_NAMES, SUITE_NAMES, TRAILER_LEN } from '../format/constants.js';
import { chunkSize, parseHeader } from '../format/header.js';
import { describeKdf, namedKdfParams } from '../format/kdf-params.js';
import { layoutForSize, parseTrailer } from '../format/layout.js';
import { EnvelopeError } from '../format/status.js';
import { InputFile } from '../fsops/input.js';
import type { Location } from '../foreign/locate.js';
import { describeIoError } from './results.js';
import type { Status } from './statuses.js';

export interface InspectResult {
  path: string;
  status: Status;
  detail: string;
  size?: number;
  version?: number;
  suite?: string;
  kdf?: string;
  /** Under the KDF's own names (format/kdf-params.ts namedKdfParams). */
  kdf_params?: Record<string, number>;
  kdf_text?: string;
  chunk_size?: number;
  chunks?: number;
  plaintext_bytes?: number;
  batch_id?: string;
  content_digest?: string;
  /** "foreign": no AENV magic (status not-envelope). */
  format?: 'foreign';
  /** For a foreign envelope: whether IBM's asunprotect was found, where, and how. */
  asunprotect?: { found: boolean; path?: string; source?: string };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function inspectFile(src: string, tool?: Location): Promise<InspectResult> {
  let f: InputFile | undefined;
  const r: InspectResult = { path: src, status: 'ok', detail: '' };
  try {
    f = InputFile.open(src); // a named pipe or a device is refused, never read (no hang)
    const size = f.size;
    r.size = size;
    const h = parseHeader(await f.readExactly(new Uint8Array(Math.min(size, HEADER_LEN)), 0), size);
    Object.assign(r, {
      version: 1,
      suite: SUITE_NAMES[h.suite],
      kdf: KDF_NAMES[h.params.kdf],
      kdf_params: namedKdfParams(h.params),
      kdf_text: describeKdf(h.params),
      chunk_size: chunkSize(h),
      batch_id: hex(h.salt.subarray(0, 8)),
    });
    const layout = layoutForSize(size, chunkSize(h));
    r.chunks = layout.chunks;
    r.plaintext_bytes = layout.plaintextLen;
    r.content_digest = hex(parseTrailer(await f.readExactly(new Uint8Array(TRAILER_LEN), size - TRAILER_LEN)));
    r.detail = 'header intact; structure plausible (run verify to check the content)';
  } catch (e) {
    if (e instanceof EnvelopeError) {
      r.status = e.status;
      r.detail = e.message;
      if (e.status === 'not-envelope' && tool) { // decoding step 1: no magic
        r.format = 'foreign';
        r.asunprotect = tool.found ? { found: true, path: tool.path, source: tool.source } : { found: false };
      }
    } else {
      r.status = 'io-error';
      r.detail = describeIoError(e);
    }
  } finally {
    f?.close();
  }
  return r;
}
