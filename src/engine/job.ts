// A run, described: what the command line hands the engine (runJob, engine/run.ts), and what it
// gets back through its view. The job says what to do (the command, its inputs, where outputs
// go and what happens to existing ones, where the password comes from, which checks apply, how
// to seal or open); the view sees the run (its start, progress, each row, notes, the summary).
// The engine finds the files, plans the outputs, opens and commits each file, and keeps the
// count; the view only prints.

import type { Readable, Writable } from 'node:stream';
import type { BackendName } from '../crypto/backend.js';
import { BatchError } from '../batch/errors.js';
import { parseShard, type Shard } from '../batch/shard.js';
import type { FileResult } from './results.js';
import type { PassedKind } from '../fsops/walk.js';
import type { Status } from './statuses.js';

/** The job cannot run as described (bad flags, no inputs, no password): exit status 2, one error line and a hint. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type { Shard };

/** --shard K/N as a part of the tree; a usage error when it is not one. */
export function shardOf(text: string): Shard {
  try {
    return parseShard(text);
  } catch (e) {
    if (e instanceof BatchError) throw new UsageError(e.message, e.hint);
    throw e;
  }
}

/** Files and folders (walked), from the PATHs and a --files-from list. */
export interface FileInputs {
  kind: 'files';
  paths: readonly string[];
  /** --files-from FILE (`-`: standard input), NUL-separated with -0. */
  filesFrom?: { file: string; nul: boolean } | undefined;
  shard?: Shard | undefined;
  /** The ending of envelope names. */
  extension: string;
  followSymlinks: boolean;
}

/** `-`: one stream in, one stream out. */
export interface StreamInputs {
  kind: 'stream';
  input: Readable;
  output: Writable;
}

/** Where outputs go and what happens around them (decrypt, encrypt). */
export interface OutputPolicy {
  /** -o DIR; null: beside each input. */
  dir: string | null;
  /** An output that exists already: the file fails (`exists`), is `skipped`, or is replaced atomically. */
  existing: 'fail' | 'skip' | 'replace';
  /** Delete each input once its output is durably in place. */
  removeSource: boolean;
  /**
   * An output name the output drive cannot hold (or two it holds as one) is written under a name
   * it can, and its row says so; otherwise such a file fails (bad-name, name-conflict) before
   * anything is written (engine/checks/drives.ts, docs/removable-drives.md).
   */
  portableNames: boolean;
}

/** Asks on the terminal without echo (the command line's prompt). */
export type Ask = (prompt: string) => Promise<string>;

/** Where the run's password comes from, in this order: a file, the environment, a prompt; or a list. */
export interface PasswordSource {
  /** --password-file FILE: its first line. */
  file?: string | undefined;
  /** --password-list FILE: every line (decrypt, verify); combines with no other source. */
  list?: string | undefined;
  /** The prompt, when standard input is a terminal (null: none); used only when standard input is not the run's data. */
  ask: Ask | null;
  /** never: no prompt; if-no-other: when no file or variable gives one; required: the password must come from the prompt (verify --password-prompt). */
  prompt: 'never' | 'if-no-other' | 'required';
  /** Ask twice (encrypt). */
  confirm: boolean;
}

/** How files are opened (decrypt, verify). */
export interface Opening {
  /** Stop starting key derivations once they took this many seconds in all. */
  kdfBudget: number;
  /** --asunprotect PATH: IBM's tool for files without the AENV magic. */
  asunprotect?: string | undefined;
  /** Seconds without progress before IBM's tool is stopped. */
  toolTimeout: number;
}

/** How encrypt seals: AENV/1 with these parameters, or IBM's asprotect. */
export type SealingParams =
  | { format: 'aenv'; suite: 'aes-256-gcm' | 'chacha20-poly1305'; kdf: 'scrypt' | 'argon2id' | 'pbkdf2'; chunkSize: number }
  | { format: 'ibm'; asprotect?: string | undefined; toolTimeout: number };

interface JobBase {
  password: PasswordSource;
  /** Files at once (default: the number of CPUs). */
  jobs?: number | undefined;
  backend: BackendName;
}

export interface DecryptJob extends JobBase {
  command: 'decrypt';
  inputs: FileInputs | StreamInputs;
  output: OutputPolicy;
  opening: Opening;
  /** Check the content digest of large files too (--check-digest). */
  checkDigest: boolean;
  /** A sealed batch manifest is required at the root of each folder PATH. */
  manifest: boolean;
  /** Each plaintext's SHA-256 checked against this list before it is committed. */
  checksums?: string | undefined;
}

export interface VerifyJob extends JobBase {
  command: 'verify';
  inputs: FileInputs;
  opening: Opening;
  manifest: boolean;
  /** Every envelope's SHA-256 checked against this list. */
  checksums?: string | undefined;
  /** The envelopes' SHA-256 written to this list. */
  writeChecksums?: string | undefined;
}

export interface EncryptJob extends JobBase {
  command: 'encrypt';
  inputs: FileInputs | StreamInputs;
  output: OutputPolicy;
  sealing: SealingParams;
  /** Also write a sealed batch manifest at the root of the output folder. */
  manifest: boolean;
}

export type Job = DecryptJob | VerifyJob | EncryptJob;

/** What the run counts before it starts (for a progress display). */
export interface Totals {
  files: number;
  bytes: number;
}

/** A line beside the rows: `aenv: error: ...` and the like (on standard error), or a result line (standard output). */
export interface Note {
  /** error, warning, hint, interrupted: said as `aenv: LEVEL: TEXT`; plain: `aenv: TEXT`; result: a line for people on standard output. */
  level: 'error' | 'warning' | 'hint' | 'interrupted' | 'plain' | 'result';
  text: string;
}

/** The fields of the JSON summary after the counts, in order (key_derivations, shard, batch, ..., exit_status). */
export type SummaryFields = Record<string, unknown> & { exit_status: number };

/** What a run did, once every row is out. */
export interface Summary {
  /** decrypt, encrypt, verify, verify (passwordless). */
  verb: string;
  ok: number;
  failed: number;
  skipped: number;
  /** Plaintext bytes written (decrypt, encrypt) or envelope bytes checked (verify). */
  bytes: number;
  seconds: number;
  /** When the run ended (ISO 8601, UTC), so that `aenv report` can tell the newer of two runs of one part. */
  finished: string;
  /** Rows by status, in the order of STATUSES. */
  byStatus: [Status, number][];
  /** With --password-list: each line of the list and how many files it opened. */
  passwords: [number, number][] | null;
  fields: SummaryFields;
  /** Lines under the people's summary table (the batch, the checksum list). */
  lines: string[];
  /** Said after "all ok" or "N failed" (e.g. what a keyed check proves). */
  note: string;
  /** The batch does not match its manifest or checksum list, though no file failed on its own. */
  mismatch: boolean;
}

/** How the command line sees a run. */
export interface RunView {
  /** A progress display is shown, so the run counts its files first. */
  readonly wantsTotals: boolean;
  /** The run begins its files; `totals` null when they were not counted. */
  start(verb: string, totals: Totals | null): void;
  /** Bytes done; `quiet`: counted without a redraw (the row follows at once). */
  progress(bytes: number, quiet: boolean): void;
  row(r: FileResult): void;
  /**
   * Resolves once the rows written so far have gone out (a pipe to a slow reader, `aenv verify
   * DIR | less`): the run waits for it before each file and each row made at the end, so that a
   * reader that stops reading holds the run back instead of its rows piling up in memory.
   * `stop`: an interruption, which ends the wait at once.
   */
  drained?(stop?: AbortSignal): Promise<void>;
  /** The walk passed over an entry (engine/passed.ts). */
  passed?(path: string, what: PassedKind): void;
  note(n: Note): void;
  summary(s: Summary): void;
}
