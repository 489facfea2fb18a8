// The aenv command line (shared/CLI.md): flags parsed by yargs, dispatched to commands.ts.
// Usage errors exit 2 with `aenv: error:` and a `aenv: hint:` line; nothing prints a stack trace.

import * as path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { PasswordError } from '../crypto/keys.js';
import { Interrupted } from '../engine/context.js';
import { versionLine } from '../version.js';
import { runDecrypt, runInspect, runSelftest, runVerify, type WriteArgs } from './commands.js';
import { runEncrypt, type EncryptArgs } from './encrypt.js';
import { runReport } from './report-cmd.js';
import { checkFormatArgs, toolLines } from './foreign.js';
import { command } from './options.js';
import { UsageError } from './errors.js';
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

/** Adds a command's options from the table in options.ts (the one source of --help, man page, completions). */
function withOptions<T>(y: Argv<T>, name: string): Argv<T> {
  const spec = command(name);
  const what = name === 'inspect' ? 'envelope files' : name === 'report' ? 'the --json reports of aenv runs (- for standard input)' : 'files or folders (walked recursively)';
  let a = spec.args === '' ? y : y.positional('paths', { type: 'string', array: true, describe: what }) as Argv<T>;
  for (const o of spec.options) {
    a = a.option(o.name, {
      type: o.type,
      ...(o.alias ? { alias: o.alias } : {}),
      ...(o.choices ? { choices: o.choices } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      describe: o.describe,
    }) as Argv<T>;
    for (const c of o.conflicts ?? []) if (o.name < c) a = a.conflicts(o.name, c) as Argv<T>;
  }
  return a;
}

function checkArgs(a: Parsed, verb: string): void {
  const list = a['filesFrom'] as string | undefined;
  if ((!a.paths || a.paths.length === 0) && list === undefined) throw new UsageError(`${verb} needs at least one PATH (or --files-from FILE)`, `aenv ${verb} --help`);
  if (a.paths?.includes('-') && a.paths.length > 1) throw new UsageError('- (standard input) must be the only PATH', 'stream one envelope with `decrypt - < FILE`; give files and folders in another run');
  if (a.paths?.includes('-')) {
    const batch = ['filesFrom', 'shard', 'checksums', 'writeChecksums'].find((k) => a[k] !== undefined) ?? (a['manifest'] ? 'manifest' : undefined);
    if (batch) throw new UsageError(`--${batch.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} works on files and folders, not on standard input (-)`, 'save the stream to a file first');
  }
  if (a.jobs !== undefined && (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 256)) throw new UsageError('--jobs takes a whole number from 1 to 256', 'e.g. --jobs 4 (default: the number of CPUs)');
  if (a.extension === '' || a.extension.includes('/')) throw new UsageError('--extension must be a non-empty name ending such as .aspera-env', 'e.g. --extension .enc');
  if (a.kdfBudget !== undefined && !(typeof a.kdfBudget === 'number' && a.kdfBudget > 0)) {
    throw new UsageError('--kdf-budget takes a number of seconds greater than 0', 'e.g. --kdf-budget 60 (default 600)');
  }
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

/** What yargs parsed for one command (options as named in options.ts). */
type Parsed = { paths?: string[] | undefined; jobs?: number | undefined; extension: string; [option: string]: unknown };

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let pending: Promise<number> | null = null;
  const { args, rest } = splitArgv(argv);
  const tools = toolLines(); // which IBM tools aenv would run, for --version and --help
  const cli = yargs(args)
    .scriptName('aenv')
    .usage('aenv <command> PATH... [options]\n\nOpen, check and seal AENV/1 (.aspera-env) password-encrypted envelopes, offline.')
    .command(`decrypt ${command('decrypt').args}`, command('decrypt').summary, (y) => withOptions(y, 'decrypt'), (a0) => {
      const a = restore(a0 as unknown as Parsed, rest);
      checkArgs(a, 'decrypt');
      const wa = { ...a, paths: a.paths as string[] } as unknown as WriteArgs;
      pending = a.paths?.[0] === '-' ? runStream(wa, 'decrypt') : runDecrypt(wa);
    })
    .command(`verify ${command('verify').args}`, command('verify').summary, (y) => withOptions(y, 'verify'), (a0) => {
      const a = restore(a0 as unknown as Parsed, rest);
      checkArgs(a, 'verify');
      if (a.paths?.includes('-')) throw new UsageError('verify reads files, not standard input', 'use decrypt - to check a stream');
      pending = runVerify({ ...a, paths: a.paths as string[] } as unknown as Parameters<typeof runVerify>[0]);
    })
    .command(`encrypt ${command('encrypt').args}`, command('encrypt').summary, (y) => withOptions(y, 'encrypt'), (a0) => {
      const a = restore(a0 as unknown as Parsed, rest);
      checkArgs(a, 'encrypt');
      checkFormatArgs(a);
      const ea = {
        ...a, paths: a.paths as string[], suite: a['suite'] ?? 'aes-256-gcm', kdf: a['kdf'] ?? 'scrypt', chunkSize: parseSize(a['chunk-size'] ?? '65536'),
      } as unknown as EncryptArgs;
      pending = a.paths?.[0] === '-' ? runStream(ea, 'encrypt') : runEncrypt(ea);
    })
    .command(`inspect ${command('inspect').args}`, command('inspect').summary, (y) => withOptions(y, 'inspect'), (a0) => {
      const a = restore(a0 as unknown as Parsed, rest);
      if (a.paths.length === 0) throw new UsageError('inspect needs at least one FILE', 'aenv inspect --help');
      pending = runInspect({ paths: a.paths, json: Boolean(a.json), asunprotect: a['asunprotect'] as string | undefined });
    })
    .command(`report ${command('report').args}`, command('report').summary, (y) => withOptions(y, 'report'), (a0) => {
      const a = restore(a0 as unknown as Parsed, rest);
      pending = runReport({ paths: a.paths, json: Boolean(a.json) });
    })
    .command('selftest', command('selftest').summary, (y) => withOptions(y, 'selftest'), () => {
      pending = runSelftest();
    })
    .demandCommand(1, 'give a command: decrypt, verify, encrypt, inspect, report or selftest')
    .strict()
    .version(`${versionLine()}\n${tools}`)
    .help()
    .alias('h', 'help')
    .epilog(`${EPILOG}\nIBM's tools, for envelopes without the AENV magic (--asunprotect, --asprotect):\n${tools}`)
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
