// The SHA-256 (FIPS 180-4) of a whole file, trailer included, as `sha256sum` computes it: what
// checksum lists hold (docs/batches.md "Checksum lists"). `verify --checksums` and
// `--write-checksums` hash each envelope (aenv's or IBM's: any file) with it, and `decrypt
// --checksums` hashes what IBM's tool left before it is committed. The file read is the one the
// walk saw (device and inode), and it must not change while it is read.

import { MAGIC } from '../format/constants.js';
import { hasMagic } from '../format/header.js';
import { InputFile, type FileId } from '../fsops/input.js';
import { checkInterrupted, type RunContext } from './context.js';

/** Bytes per read. */
const BLOCK = 1 << 20;

export interface FileHash {
  /** SHA-256 of every byte of the file. */
  digest: Uint8Array;
  size: number;
  /** The file starts with the AENV magic. */
  magic: boolean;
}

/** Hashes `file` (opened without following a final link unless `followLink`, and checked to be `id` when given). */
export async function hashFile(file: string, run: RunContext, id?: FileId, followLink = false): Promise<FileHash> {
  const src = InputFile.open(file, id, followLink);
  try {
    const hash = run.backend.sha256();
    const size = src.size;
    const buf = new Uint8Array(Math.min(BLOCK, Math.max(size, 1)));
    let magic = false;
    for (let pos = 0; pos < size;) {
      checkInterrupted(run);
      const n = Math.min(buf.length, size - pos);
      const view = await src.readExactly(buf.subarray(0, n), pos);
      if (pos === 0) magic = view.length >= MAGIC.length && hasMagic(view);
      hash.update(view);
      pos += n;
    }
    src.checkUnchanged();
    return { digest: hash.digest(), size, magic };
  } finally {
    src.close();
  }
}
