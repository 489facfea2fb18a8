// What writes one file's output (engine/files.ts runs it): AENV/1's own decoder or sealer
// (engine/aenv.ts), or IBM's tool (engine/ibm.ts). The choice is made once per file; after it
// every writer goes the same way: ready (everything that can fail before the output's folder is
// made), write into a new output there (not yet committed), then engine/files.ts commits it,
// the one way, and removes the source if asked.

import type { OutputDir } from '../fsops/dirs.js';
import type { FileResult } from './results.js';

/** An output written but not yet committed: aenv's temporary file (fsops/atomic.ts) or the tool's private folder (foreign/tool-output.ts). */
export interface Output {
  /** Flushed, named without replacing (replacing with `replace`), checked; the name made durable now with `durableName`. */
  commit(replace: boolean, durableName: boolean): Promise<void>;
  /** Not committed: its data truncated and its names removed. Never throws. */
  discard(): void;
  /** Before the commit: the output's modification time set to its input's, as `cp -p`, `rsync -a` and `tar` keep it. */
  keepTime(mtimeMs: number): void;
}

/** What a writer wrote, and what the row says of it. */
export interface Written {
  out: Output;
  /** Plaintext bytes (decrypt, encrypt). */
  bytes: number;
  /** The row's detail, without what happened to the source (e.g. "decrypted 3 chunks"). */
  detail: string;
  /** SHA-256 of the plaintext written, when it was asked for (decrypt --checksums). */
  sha256?: Uint8Array;
  /** What else the row carries: the list line of the password that opened it, a warning, the tool that ran, the envelope's nonce and digest. */
  fields: Pick<FileResult, 'password' | 'warning' | 'via' | 'envelope'>;
}

export interface Writer {
  /** What must hold before the output's folder is made: the keys (decoding step 6), layout and trailer (7, 8); the tool's input bound to the file opened. */
  ready(): Promise<void>;
  /** The output, named `name` in `dir`, written in full and not committed; with its SHA-256 when `sha256`. */
  write(dir: OutputDir, name: string, sha256: boolean): Promise<Written>;
  /** Once ready: what was read of an AENV/1 envelope (file nonce, plaintext size); none for IBM's tool. */
  envelope?(): NonNullable<FileResult['envelope']> | null;
  /** The row of a file that failed, with what the writer learnt of it (the envelope's nonce; the tool that ran). */
  failed(r: FileResult): FileResult;
  /** Starts no further read of the input (reads in flight end on their own). */
  stop(): void;
  /** Gives back what it took from the run (buffers, memory). */
  release(): void;
}
