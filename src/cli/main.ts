// The aenv command line (docs/CLI.md): the command and its flags read from the option table
// (options.ts) by parse.ts, each command's values checked against the table's types and handed to
// its function (commands.ts). Help is printed by help.ts (yargs), loaded only then. Usage errors
// exit 2 with `aenv: error:` and an `aenv: hint:` line; nothing prints a stack trace.

import * as path from 'node:path';
import { Interrupted } from '../engine/context.js';
import { UsageError } from '../engine/job.js';
import { EXIT } from '../engine/statuses.js';
import { versionLine } from '../version.js';
import { runDecrypt, runDoctor, runEncrypt, runInspect, runReport, runSelftest, runVerify } from './commands.js';
import { COMMANDS, isArgsOf, type ArgsOf, type CommandName } from './options.js';
import { parseCommand, unknownCommand } from './parse.js';
import { safeText } from './text.js';

/** What each command runs with its checked options. */
const RUN: { [C in CommandName]: (a: ArgsOf<C>) => Promise<number> } = {
  decrypt: runDecrypt, verify: runVerify, encrypt: runEncrypt, inspect: runInspect, report: runReport, doctor: runDoctor, selftest: runSelftest,
};

// `-` is passed through as a token no real argument can hold (argv strings never contain NUL),
// and the words after `--` are added to the PATHs as they are (`-` there is a file named "-").
const STDIN_TOKEN = '\u0000-';

function splitArgv(argv: string[]): { args: string[]; rest: string[] } {
  const dd = argv.indexOf('--');
  const head = dd < 0 ? argv : argv.slice(0, dd);
  const rest = dd < 0 ? [] : argv.slice(dd + 1).map((p) => (p === '-' ? `.${path.sep}-` : p));
  return { args: head.map((x) => (x === '-' ? STDIN_TOKEN : x)), rest };
}

function isCommand(name: string | undefined): name is CommandName {
  return COMMANDS.some((c) => c.name === name);
}

async function help(c: CommandName | null): Promise<number> {
  const { printHelp } = await import('./help.js');
  await printHelp(c);
  return EXIT.ok;
}

async function run<C extends CommandName>(c: C, args: string[], rest: string[]): Promise<number> {
  const parsed = parseCommand(c, args, STDIN_TOKEN);
  parsed['paths'] = [...(parsed['paths'] as string[]), ...rest];
  if (!isArgsOf(c, parsed)) throw new Error(`the parsed arguments of ${c} do not fit its option table`);
  return RUN[c](parsed);
}

export async function main(argv: string[]): Promise<number> {
  const { args, rest } = splitArgv(argv);
  try {
    const first = args[0];
    if (args.includes('--version')) {
      process.stdout.write(`${versionLine()}\n`);
      return EXIT.ok;
    }
    if (first === 'help') return await help(isCommand(args[1]) ? args[1] : null);
    if (args.includes('--help') || args.includes('-h')) return await help(isCommand(first) ? first : null);
    if (first === undefined) throw new UsageError('give a command: decrypt, verify, encrypt, inspect, report, doctor or selftest', 'aenv --help lists them');
    if (!isCommand(first)) {
      if (first.startsWith('-')) throw new UsageError(`${first} comes after a command`, `e.g. aenv decrypt PATH ${first}; aenv --help lists the commands`);
      throw unknownCommand(first === STDIN_TOKEN ? '-' : first);
    }
    return await run(first, args.slice(1), rest);
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
