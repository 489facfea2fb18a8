// The aenv command line (shared/CLI.md): flags parsed by yargs, dispatched to commands.ts.
// Usage errors exit 2 with `aenv: error:` and a `aenv: hint:` line; nothing prints a stack trace.

import * as path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { PasswordError } from '../crypto/keys.js';
import { BACKEND_NAMES } from '../crypto/backend.js';
import { Interrupted } from '../engine/context.js';
import { VERSION } from '../version.js';
import { runDecrypt, runEncrypt, runInspect, runVerify, type EncryptArgs, type WriteArgs } from './commands.js';
import { UsageError } from './password.js';
import { runStream } from './streams.js';

const EPILOG = `Password sources, in order: --password-file FILE (first line), the environment variable
ASPERA_SCP_FILEPASS, a prompt without echo when standard input is a terminal.
Exit status: 0 every file ok or skipped, 1 a file failed, 2 usage error, 130 interrupted.`;

function parseSize(v: unknown): number {
  const m = /^(\d+)\s*([kKmM]i?[bB]?)?$/.exec(String(v));
  if (!m) throw new UsageError(`--chunk-size ${String(v)} is not a size`, 'give bytes, e.g. 65536, 64K or 1M');
  const unit = (m[2] ?? '').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (n < 4096 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0) {
    throw new UsageError(`--chunk-size ${String(v)} is not a power of two from 4 KiB to 16 MiB`, 'e.g. 4096, 65536 (default), 1M, 16M');
  }
  return n;
}

function common<T>(y: Argv<T>) {
  return y
    .positional('paths', { type: 'string', array: true, describe: 'files or folders (walked recursively)' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per file on standard output, then a summary line' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only failures' })
    .option('jobs', { alias: 'j', type: 'number', describe: 'files processed at once (default: number of CPUs)' })
    .option('extension', { type: 'string', default: '.aspera-env', describe: 'ending of envelope names' })
    .option('follow-symlinks', { type: 'boolean', default: false, describe: 'follow symbolic links inside folders (never in a loop)' })
    .option('password-file', { type: 'string', describe: 'read the password from the first line of FILE' })
    .option('progress', { type: 'boolean', default: true, describe: 'progress display on a terminal (--no-progress to hide)' })
    .option('backend', { choices: BACKEND_NAMES, default: 'node' as const, describe: 'crypto implementation: node (OpenSSL) or noble (pure JS)' });
}

function writing<T>(y: Argv<T>) {
  return common(y)
    .option('output', { alias: 'o', type: 'string', describe: 'write outputs under DIR, mirroring folder PATHs (default: beside each input)' })
    .option('force', { type: 'boolean', describe: 'replace existing outputs (atomically)' })
    .option('skip-existing', { type: 'boolean', describe: 'leave existing outputs and report them skipped' })
    .option('remove-source', { type: 'boolean', default: false, describe: 'delete each input once its output is durably in place' })
    .conflicts('force', 'skip-existing');
}

function checkArgs(a: { paths?: string[] | undefined; jobs?: number | undefined; extension: string }, verb: string): void {
  if (!a.paths || a.paths.length === 0) throw new UsageError(`${verb} needs at least one PATH`, `aenv ${verb} --help`);
  if (a.paths.includes('-') && a.paths.length > 1) throw new UsageError('- (standard input) must be the only PATH', 'stream one envelope with `decrypt - < FILE`; give files and folders in another run');
  if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 256)) throw new UsageError('--jobs takes a whole number from 1 to 256', 'e.g. --jobs 4 (default: the number of CPUs)');
  if (a.extension === '' || a.extension.includes('/')) throw new UsageError('--extension must be a non-empty name ending such as .aspera-env', 'e.g. --extension .enc');
}

// yargs drops a bare `-` and puts everything after `--` into `_`, not into PATH...: so `-` is
// passed through as a token no real argument can hold (argv strings never contain NUL), and
// the words after `--` are added to the PATHs as they are (`-` there is a file named "-").
const STDIN_TOKEN = '\u0000-';

function splitArgv(argv: string[]): { args: string[]; rest: string[] } {
  const dd = argv.indexOf('--');
  const head = dd < 0 ? argv : argv.slice(0, dd);
  const rest = dd < 0 ? [] : argv.slice(dd + 1).map((p) => (p === '-' ? `.${path.sep}-` : p));
  return { args: head.map((x) => (x === '-' ? STDIN_TOKEN : x)), rest };
}

/** The parsed arguments with `-` restored and the words after `--` appended to the PATHs. */
function restore<T extends { paths?: string[] | undefined }>(a: T, rest: string[]): T & { paths: string[] } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) out[k] = (v as unknown) === STDIN_TOKEN ? '-' : v;
  out['paths'] = [...(a.paths ?? []).map((p) => (p === STDIN_TOKEN ? '-' : p)), ...rest];
  return out as T & { paths: string[] };
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let pending: Promise<number> | null = null;
  const { args, rest } = splitArgv(argv);
  const cli = yargs(args)
    .scriptName('aenv')
    .usage('aenv <command> PATH... [options]\n\nOpen, check and seal AENV/1 (.aspera-env) password-encrypted envelopes, offline.')
    .command('decrypt [paths..]', 'decrypt envelopes (files or whole trees); - for stdin to stdout', (y) => writing(y), (a0) => {
      const a = restore(a0, rest);
      checkArgs(a, 'decrypt');
      const wa = { ...a, paths: a.paths as string[] } as unknown as WriteArgs;
      pending = a.paths?.[0] === '-' ? runStream(wa, 'decrypt') : runDecrypt(wa);
    })
    .command('verify [paths..]', 'check envelopes: keyed with a password, else structure and digest only', (y) =>
      common(y).option('password-prompt', { type: 'boolean', default: false, describe: 'ask for the password (verify never asks otherwise)' }), (a0) => {
      const a = restore(a0, rest);
      checkArgs(a, 'verify');
      if (a.paths?.includes('-')) throw new UsageError('verify reads files, not standard input', 'use decrypt - to check a stream');
      pending = runVerify({ ...a, paths: a.paths as string[] } as unknown as Parameters<typeof runVerify>[0]);
    })
    .command('encrypt [paths..]', 'seal files (or whole trees) as envelopes; - for stdin to stdout', (y) =>
      writing(y)
        .option('suite', { choices: ['aes-256-gcm', 'chacha20-poly1305'] as const, default: 'aes-256-gcm' as const, describe: 'AEAD cipher suite' })
        .option('kdf', { choices: ['scrypt', 'argon2id', 'pbkdf2'] as const, default: 'scrypt' as const, describe: 'password KDF (default costs from the spec)' })
        .option('chunk-size', { type: 'string', default: '65536', describe: 'plaintext bytes per chunk: power of two, 4K..16M' }), (a0) => {
      const a = restore(a0, rest);
      checkArgs(a, 'encrypt');
      const ea = { ...a, paths: a.paths as string[], chunkSize: parseSize(a['chunk-size']) } as unknown as EncryptArgs;
      pending = a.paths?.[0] === '-' ? runStream(ea, 'encrypt') : runEncrypt(ea);
    })
    .command('inspect [paths..]', 'show header fields, sizes, chunk count and batch id (no password)', (y) =>
      y.positional('paths', { type: 'string', array: true }).option('json', { type: 'boolean', default: false }), (a0) => {
      const a = restore(a0, rest);
      if (a.paths.length === 0) throw new UsageError('inspect needs at least one FILE', 'aenv inspect --help');
      pending = runInspect({ paths: a.paths, json: a.json });
    })
    .demandCommand(1, 'give a command: decrypt, verify, encrypt or inspect')
    .strict()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError((msg ?? 'bad arguments').replace(/:?\s*\n\s*/g, ': ').replace(/: Argument: /, ': '), 'aenv --help');
    });
  try {
    await cli.parseAsync();
    if (pending) code = await pending;
  } catch (e) {
    return reportFatal(e);
  }
  return code;
}

export function reportFatal(e: unknown): number {
  if (e instanceof Interrupted) {
    process.stderr.write('aenv: interrupted\n');
    return 130;
  }
  if (e instanceof UsageError || e instanceof PasswordError) {
    process.stderr.write(`aenv: error: ${e.message}\n`);
    const hint = e instanceof UsageError ? e.hint : 'check the password source';
    if (hint) process.stderr.write(`aenv: hint: ${hint}\n`);
    return 2;
  }
  const err = e as NodeJS.ErrnoException;
  process.stderr.write(`aenv: error: ${err?.message?.split('\n')[0] ?? String(e)}\n`);
  process.stderr.write('aenv: hint: this is unexpected; please report it with the command you ran\n');
  return 1;
}
