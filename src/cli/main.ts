// The aenv command line (docs/CLI.md): flags parsed by yargs from the option table
// (options.ts), each command's values checked against the table's types and handed to its
// function (commands.ts). Usage errors exit 2 with `aenv: error:` and an `aenv: hint:` line;
// nothing prints a stack trace.

import * as path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { Interrupted } from '../engine/context.js';
import { UsageError } from '../engine/job.js';
import { EXIT } from '../engine/statuses.js';
import { toolLines } from '../engine/tools.js';
import { versionLine } from '../version.js';
import { runDecrypt, runEncrypt, runInspect, runReport, runSelftest, runVerify } from './commands.js';
import { command, isArgsOf, type ArgsOf, type CommandName } from './options.js';
import { safeText } from './text.js';

const EPILOG = `Password sources, in order: --password-file FILE (first line), the environment variable
ASPERA_SCP_FILEPASS, a prompt without echo when standard input is a terminal.
Exit status: 0 every file ok or skipped, 1 a file failed, 2 usage error, 130 interrupted.`;

/** What each command runs with its checked options. */
const RUN: { [C in CommandName]: (a: ArgsOf<C>) => Promise<number> } = {
  decrypt: runDecrypt, verify: runVerify, encrypt: runEncrypt, inspect: runInspect, report: runReport, selftest: runSelftest,
};

const WHAT: Partial<Record<CommandName, string>> = {
  inspect: 'envelope files', report: 'the --json reports of aenv runs (- for standard input)',
};

/** Adds a command's options from the table in options.ts (the one source of --help, man page, completions). */
function withOptions<T>(y: Argv<T>, name: CommandName): Argv<T> {
  const spec = command(name);
  let a = spec.args === '' ? y : y.positional('paths', { type: 'string', array: true, describe: WHAT[name] ?? 'files or folders (walked recursively)' });
  for (const o of spec.options) {
    a = a.option(o.name, {
      type: o.type,
      ...(o.alias ? { alias: o.alias } : {}),
      ...(o.choices ? { choices: o.choices } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      describe: o.describe,
    });
    for (const c of o.conflicts ?? []) if (o.name < c) a = a.conflicts(o.name, c);
  }
  return a;
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

/** What yargs parsed, with `-` restored and the words after `--` appended to the PATHs. */
function restore(parsed: Record<string, unknown>, rest: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = v === STDIN_TOKEN ? '-' : v;
  const given = Array.isArray(parsed['paths']) ? parsed['paths'] : [];
  out['paths'] = [...given.map((p) => (p === STDIN_TOKEN ? '-' : p)), ...rest];
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let pending: Promise<number> | null = null;
  const { args, rest } = splitArgv(argv);
  const tools = toolLines().split('\n').map(safeText).join('\n'); // which IBM tools aenv would run, for --version and --help
  /** A command's handler: its values checked against the table's types, then its function. */
  const handle = <C extends CommandName>(c: C) => (parsed: Record<string, unknown>): void => {
    const a = restore(parsed, rest);
    if (!isArgsOf(c, a)) throw new Error(`the parsed arguments of ${c} do not fit its option table`);
    pending = RUN[c](a);
  };
  let cli = yargs(args)
    .scriptName('aenv')
    .usage('aenv <command> PATH... [options]\n\nOpen, check and seal AENV/1 (.aspera-env) password-encrypted envelopes, offline.');
  for (const c of ['decrypt', 'verify', 'encrypt', 'inspect', 'report', 'selftest'] as const) {
    const spec = command(c);
    cli = cli.command(spec.args === '' ? c : `${c} ${spec.args}`, spec.summary, (y) => withOptions(y, c), handle(c));
  }
  cli = cli
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
    return pending ? await pending : EXIT.ok;
  } catch (e) {
    return reportFatal(e);
  }
}

/** The exit status of a run that ended with `e`, said in one error line and a hint. */
export function reportFatal(e: unknown): number {
  if (e instanceof Interrupted) {
    process.stderr.write('aenv: interrupted\n');
    return EXIT.interrupted;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`aenv: error: ${safeText(e.message)}\n`);
    if (e.hint) process.stderr.write(`aenv: hint: ${safeText(e.hint)}\n`);
    return EXIT.usage;
  }
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  process.stderr.write(`aenv: error: ${safeText(message ?? '')}\n`);
  process.stderr.write('aenv: hint: this is unexpected; please report it with the command you ran\n');
  return EXIT.failed;
}
