// Every flag combination of each command checked in one place (as age's cmd/age/age.go does),
// before any file is touched, and the job built from what was given. What only the file system
// can tell (a PATH that is a folder, a list that cannot be read, an output folder that holds a
// manifest) the engine checks before any work (engine/run.ts), with the same kind of error:
// exit status 2, one `aenv: error:` line and one `aenv: hint:` line.

import type { Readable, Writable } from 'node:stream';
import {
  shardOf, UsageError, type Ask, type DecryptJob, type EncryptJob, type FileInputs, type OutputPolicy, type PasswordSource, type SealingParams, type StreamInputs, type VerifyJob,
} from '../engine/job.js';
import type { ArgsOf } from './options.js';

/** The process's side of a run: its standard streams and the password prompt (null: standard input is no terminal). */
export interface Terminal {
  stdin: Readable;
  stdout: Writable;
  stdoutIsTerminal: boolean;
  ask: Ask | null;
}

/** Longest --tool-timeout accepted: a day. */
const MAX_TIMEOUT_S = 86_400;

/** What decrypt, verify and encrypt share. */
interface Common {
  paths: string[];
  filesFrom: string | undefined;
  null: boolean;
  shard: string | undefined;
  jobs: number | undefined;
  extension: string;
  followSymlinks: boolean;
}

/** The inputs of decrypt, verify and encrypt: PATHs and a list, or `-` alone (standard input). */
function inputsOf(verb: string, a: Common & { checksums?: string | undefined; writeChecksums?: string | undefined; manifest: boolean; portableNames?: boolean }, t: Terminal): FileInputs | StreamInputs {
  if (a.paths.length === 0 && a.filesFrom === undefined) throw new UsageError(`${verb} needs at least one PATH (or --files-from FILE)`, `aenv ${verb} --help`);
  const stream = a.paths.includes('-');
  if (stream && a.paths.length > 1) throw new UsageError('- (standard input) must be the only PATH', 'stream one envelope with `decrypt - < FILE`; give files and folders in another run');
  if (stream) {
    const batch = a.filesFrom !== undefined ? 'files-from' : a.shard !== undefined ? 'shard' : a.checksums !== undefined ? 'checksums'
      : a.writeChecksums !== undefined ? 'write-checksums' : a.manifest ? 'manifest' : null;
    if (batch) throw new UsageError(`--${batch} works on files and folders, not on standard input (-)`, 'save the stream to a file first');
    if (a.portableNames) throw new UsageError('--portable-names names outputs of files, but standard output (-) has no name', 'drop --portable-names, or give the envelope as a file and -o DIR');
  }
  if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 256)) throw new UsageError('--jobs takes a whole number from 1 to 256', 'e.g. --jobs 4 (default: the number of CPUs)');
  if (a.extension === '' || a.extension.includes('/')) throw new UsageError('--extension must be a non-empty name ending such as .aspera-env', 'e.g. --extension .enc');
  if (stream) return { kind: 'stream', input: t.stdin, output: t.stdout };
  if (a.null && a.filesFrom === undefined) throw new UsageError('-0 is for --files-from lists', 'e.g. find DIR -print0 | aenv verify --files-from - -0');
  return {
    kind: 'files', paths: a.paths, filesFrom: a.filesFrom === undefined ? undefined : { file: a.filesFrom, nul: a.null },
    shard: a.shard === undefined ? undefined : shardOf(a.shard), extension: a.extension, followSymlinks: a.followSymlinks,
  };
}

function kdfBudget(seconds: number): number {
  if (!(seconds > 0)) throw new UsageError('--kdf-budget takes a number of seconds greater than 0', 'e.g. --kdf-budget 60 (default 600)');
  return seconds;
}

function toolTimeout(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_S) {
    throw new UsageError(`--tool-timeout takes a number of seconds above 0, at most ${MAX_TIMEOUT_S}`, 'e.g. --tool-timeout 120 (default 60)');
  }
  return seconds;
}

/** --chunk-size BYTES (64K, 1M, ...): a power of two from 4 KiB to 16 MiB. */
function parseChunkSize(v: string): number {
  const m = /^(\d+)\s*([kKmM]i?[bB]?)?$/.exec(v);
  if (!m) throw new UsageError(`--chunk-size ${v} is not a size`, 'give bytes, e.g. 65536, 64K or 1M');
  const unit = (m[2] ?? '').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (n < 4096 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0) {
    throw new UsageError(`--chunk-size ${v} is not a power of two from 4 KiB to 16 MiB`, 'e.g. 4096, 65536 (default), 1M, 16M');
  }
  return n;
}

function existing(a: { force: boolean | undefined; skipExisting: boolean | undefined }): 'fail' | 'skip' | 'replace' {
  return a.force ? 'replace' : a.skipExisting ? 'skip' : 'fail';
}

/** decrypt and encrypt: where outputs go, what happens to existing ones and to the sources, how names are fitted to the drive. */
function outputPolicy(a: ArgsOf<'decrypt'> | ArgsOf<'encrypt'>): OutputPolicy {
  return { dir: a.output ?? null, existing: existing(a), removeSource: a.removeSource, portableNames: a.portableNames };
}

export function decryptJob(a: ArgsOf<'decrypt'>, t: Terminal): DecryptJob {
  const inputs = inputsOf('decrypt', a, t);
  const stream = inputs.kind === 'stream';
  const budget = kdfBudget(a.kdfBudget);
  return {
    command: 'decrypt', inputs,
    output: outputPolicy(a),
    password: { file: a.passwordFile, list: a.passwordList, ask: t.ask, prompt: stream ? 'never' : 'if-no-other', confirm: false },
    // a stream never runs IBM's tool
    opening: { kdfBudget: budget, asunprotect: a.asunprotect, toolTimeout: stream ? a.toolTimeout : toolTimeout(a.toolTimeout) },
    checkDigest: a.checkDigest, manifest: a.manifest, checksums: a.checksums,
    jobs: a.jobs, backend: a.backend,
  };
}

export function verifyJob(a: ArgsOf<'verify'>, t: Terminal): VerifyJob {
  const inputs = inputsOf('verify', a, t);
  const budget = kdfBudget(a.kdfBudget);
  if (inputs.kind === 'stream') throw new UsageError('verify reads files, not standard input', 'use decrypt - to check a stream');
  return {
    command: 'verify', inputs,
    password: { file: a.passwordFile, list: a.passwordList, ask: t.ask, prompt: a.passwordPrompt ? 'required' : 'never', confirm: false },
    opening: { kdfBudget: budget, asunprotect: a.asunprotect, toolTimeout: toolTimeout(a.toolTimeout) },
    manifest: a.manifest, checksums: a.checksums, writeChecksums: a.writeChecksums,
    jobs: a.jobs, backend: a.backend,
  };
}

/**
 * encrypt: with --format ibm, IBM's tool takes files and chooses its own parameters, so --suite,
 * --kdf, --chunk-size and `-` are refused; --asprotect only with ibm; --manifest needs -o DIR,
 * AENV/1 envelopes and the whole batch.
 */
export function encryptJob(a: ArgsOf<'encrypt'>, t: Terminal): EncryptJob {
  const inputs = inputsOf('encrypt', a, t);
  let sealing: SealingParams;
  if (a.format === 'ibm') {
    for (const [flag, v] of [['suite', a.suite], ['kdf', a.kdf], ['chunk-size', a.chunkSize]] as const) {
      if (v !== undefined) throw new UsageError(`--${flag} cannot be used with --format ibm`, 'IBM\'s asprotect chooses its own parameters; drop the flag, or use --format aenv');
    }
    if (inputs.kind === 'stream') throw new UsageError('--format ibm cannot seal standard input', 'IBM\'s asprotect reads files: save the data to a file first, or use --format aenv for a stream');
    sealing = { format: 'ibm', asprotect: a.asprotect, toolTimeout: toolTimeout(a.toolTimeout) };
  } else {
    if (a.asprotect !== undefined) throw new UsageError('--asprotect is used only with --format ibm', 'add --format ibm to seal with IBM\'s asprotect');
    sealing = { format: 'aenv', suite: a.suite ?? 'aes-256-gcm', kdf: a.kdf ?? 'scrypt', chunkSize: parseChunkSize(a.chunkSize ?? '65536') };
  }
  if (inputs.kind === 'stream' && t.stdoutIsTerminal) throw new UsageError('refusing to write a binary envelope to a terminal', 'redirect standard output to a file or a pipe');
  if (a.manifest) {
    const why = a.output === undefined ? 'needs -o DIR (the manifest sits at the root of the tree it lists)'
      : a.format === 'ibm' ? 'cannot list envelopes sealed by IBM\'s asprotect (they have no AENV file nonce)'
        : a.shard !== undefined ? 'lists a whole batch, so it cannot be written by one part (--shard) of it' : null;
    if (why) throw new UsageError(`--manifest ${why}`, 'e.g. aenv encrypt cases/0815 -o outgoing --manifest');
  }
  return {
    command: 'encrypt', inputs,
    output: outputPolicy(a),
    password: { file: a.passwordFile, ask: t.ask, prompt: inputs.kind === 'stream' ? 'never' : 'if-no-other', confirm: true },
    sealing, manifest: a.manifest,
    jobs: a.jobs, backend: a.backend,
  };
}

/** inspect FILE...: at least one. */
export function inspectPaths(a: ArgsOf<'inspect'>): string[] {
  if (a.paths.length === 0) throw new UsageError('inspect needs at least one FILE', 'aenv inspect --help');
  return a.paths;
}

/** report FILE...: at least one, standard input at most once. */
export function reportPaths(a: ArgsOf<'report'>): string[] {
  if (a.paths.length === 0) throw new UsageError('report needs at least one FILE (a --json report of aenv decrypt, verify or encrypt)', 'e.g. aenv report reports/part-*.jsonl');
  if (a.paths.filter((p) => p === '-').length > 1) throw new UsageError('- (standard input) can be given once', 'name the other reports as files');
  return a.paths;
}
