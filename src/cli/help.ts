// The help texts (`aenv --help`, `aenv COMMAND --help`), made by yargs from the option table
// (options.ts). Loaded only when help is asked for: building them (yargs, string widths) took
// most of aenv's start-up (issue 22), and the command line itself is read by parse.ts.

import yargs, { type Argv } from 'yargs';
import { versionLine } from '../version.js';
import { command, COMMANDS, type CommandName } from './options.js';

const EPILOG = `Password sources, in order: --password-file FILE (first line), the environment variable
ASPERA_SCP_FILEPASS, a prompt without echo when standard input is a terminal.
Exit status: 0 every file ok or skipped, 1 a file failed, 2 usage error, 130 interrupted.
Where IBM's tools are (for envelopes without the AENV magic) and what this machine can open: aenv doctor`;

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
  }
  return a;
}

/** Prints the help of `c` (null: of aenv as a whole) on standard output. */
export async function printHelp(c: CommandName | null): Promise<void> {
  let cli = yargs(c ? [c, '--help'] : ['--help'])
    .scriptName('aenv')
    .usage('aenv <command> PATH... [options]\n\nOpen, check and seal AENV/1 (.aspera-env) password-encrypted envelopes, offline.');
  for (const x of COMMANDS) {
    cli = cli.command(x.args === '' ? x.name : `${x.name} ${x.args}`, x.summary, (y) => withOptions(y, x.name), () => {});
  }
  await cli
    .version(versionLine())
    .help()
    .alias('h', 'help')
    .epilog(EPILOG)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .parseAsync();
}
