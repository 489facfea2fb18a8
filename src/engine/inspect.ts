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
import { promises as fsp } from 'node:fs';
import { InputFile } from '../fsops/input.js';
import { Walker, type PassedKind } from '../fsops/walk.js';
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
  /**
   * What inspect checked: `header` (steps 1-5) or `header+size` (and the size fits the layout,
   * with a trailer, steps 7-8); never the chunks nor the content digest (verify checks those).
   * Absent when not even the header could be read.
   */
  checked?: 'header' | 'header+size';
}

/** What inspect never checks, said with every envelope it reads. */
export const NOT_CHECKED = 'chunks and content digest not checked: aenv verify checks them, the digest even without a password';

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
    r.checked = 'header';
    // The sizes are said only once the file's size fits the layout and it ends in a trailer:
    // a truncated file's length would give a chunk count and a plaintext size that are not its own.
    const layout = layoutForSize(size, chunkSize(h));
    const digest = hex(parseTrailer(await f.readExactly(new Uint8Array(TRAILER_LEN), size - TRAILER_LEN)));
    Object.assign(r, { chunks: layout.chunks, plaintext_bytes: layout.plaintextLen, content_digest: digest, checked: 'header+size' });
    r.detail = `header intact, and the size fits ${layout.chunks} chunk${layout.chunks === 1 ? '' : 's'} and a trailer; ${NOT_CHECKED}`;
  } catch (e) {
    if (e instanceof EnvelopeError) {
      r.status = e.status;
      r.detail = r.checked ? `header intact, but ${e.message}: the chunk count and plaintext size are unknown` : e.message;
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

/**
 * The files `inspect PATH...` looks at: a PATH file as it is, a folder walked as verify walks
 * it (files ending in `extension`, links not followed, what it passes over counted).
 */
export async function* inspectTargets(paths: readonly string[], extension: string): AsyncGenerator<{ file: string } | { problem: string; detail: string } | { passed: string; what: PassedKind }> {
  const walker = new Walker({ accept: (n) => n.endsWith(extension), followSymlinks: false });
  await walker.reserve(paths);
  for (const p of paths) {
    const st = await fsp.stat(p).catch(() => null);
    if (!st?.isDirectory()) {
      yield { file: p }; // inspectFile says what it is (missing, a FIFO, ...)
      continue;
    }
    for await (const it of walker.path(p)) {
      if (it.kind === 'file') yield { file: it.file.path };
      else if (it.kind === 'problem') yield { problem: it.problem.path, detail: it.problem.message };
      else if (it.kind === 'passed') yield { passed: it.path, what: it.what };
    }
  }
}
