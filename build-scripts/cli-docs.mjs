// The man page aenv.1 and the bash and zsh completions, generated from the same command and
// option table that yargs builds --help from (src/cli/options.ts, COMMANDS, compiled to
// dist/js/cli/options.js by `npm run build`), so `aenv --help`, `man aenv` and Tab completion
// cannot drift apart: an option or a command added to the table appears in all three with no
// change here. The prose sections of the man page (password, statuses, exit status) restate
// docs/CLI.md. Nothing here reads the clock: the page's date is passed in (release.mjs uses
// the commit's date).
//
// Usage: node build-scripts/cli-docs.mjs --out DIR [--date YYYY-MM-DD] [--version V]
//   writes DIR/aenv.1, DIR/completions/aenv.bash, DIR/completions/_aenv
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Options every command has: yargs adds them (main.ts: .version(), .help(), alias h). */
export const GLOBAL_OPTIONS = [
  { name: 'help', alias: 'h', type: 'boolean', describe: 'show help (for a command: aenv COMMAND --help)' },
  { name: 'version', type: 'boolean', describe: 'show the version, the commit it was built from, the Node.js runtime and the target' },
];

async function load(root, rel, names) {
  const file = join(root, 'dist', 'js', ...rel.split('/'));
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    throw new Error(`cannot load ${file} (${err.code ?? err.message}); run \`npm run build\` first`);
  }
  for (const n of names) {
    if (!mod[n]) throw new Error(`${file} exports no ${n}: build-scripts/cli-docs.mjs reads it for the man page; update one of them`);
  }
  return mod;
}

/**
 * The tables the CLI is built from, compiled by `npm run build`: { commands } (COMMANDS of
 * cli/options.js) and { statuses, hints } (STATUSES and HINTS of engine/statuses.js).
 */
export async function loadCliTables(root = ROOT) {
  const { COMMANDS } = await load(root, 'cli/options.js', ['COMMANDS']);
  if (!Array.isArray(COMMANDS) || COMMANDS.length === 0) throw new Error('dist/js/cli/options.js: COMMANDS is empty');
  const { STATUSES, HINTS } = await load(root, 'engine/statuses.js', ['STATUSES', 'HINTS']);
  return { commands: COMMANDS, statuses: STATUSES, hints: HINTS };
}

/** The spellings of an option on the command line, long first: ['--output', '-o']. */
export function flags(o) {
  const long = `--${o.name}`;
  return o.alias ? [long, `-${o.alias}`] : [long];
}

/** Boolean options that are on by default are turned off as --no-NAME (yargs negation). */
export function negatable(o) {
  return o.type === 'boolean' && o.default === true;
}

/** Takes a value (the next word or =VALUE). */
function takesValue(o) {
  return o.type !== 'boolean';
}

function placeholder(o) {
  return o.arg ?? (o.type === 'number' ? 'N' : 'VALUE');
}

function hasPositionals(c) {
  return c.args.trim() !== '';
}

// ---------------------------------------------------------------------------------------------
// man page

/** Text for a roff text line: backslashes, hyphens (as \- so that options copy and search
 * right), and a leading dot or quote that would make the line a request. */
function roff(text) {
  return String(text)
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

const B = (t) => `\\fB${roff(t)}\\fR`;
const I = (t) => `\\fI${roff(t)}\\fR`;

function sentence(text) {
  const t = String(text).trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

function optionTag(o) {
  const names = [...flags(o)].reverse().map(B); // -o, --output
  if (negatable(o)) names.push(B(`--no-${o.name}`));
  let tag = names.join(', ');
  if (o.choices) tag += ` ${o.choices.map(B).join('|')}`;
  else if (takesValue(o)) tag += ` ${I(placeholder(o))}`;
  return tag;
}

function optionBody(o) {
  const parts = [roff(sentence(o.describe))];
  if (negatable(o)) parts.push(o.describe.includes(`--no-${o.name}`) ? 'On by default.' : `On by default; ${B(`--no-${o.name}`)} turns it off.`);
  else if (o.default !== undefined && o.type !== 'boolean') parts.push(`Default: ${B(String(o.default))}.`);
  if (o.conflicts?.length) parts.push(`Cannot be combined with ${o.conflicts.map((c) => B(`--${c}`)).join(', ')}.`);
  return parts.join('\n');
}

function optionItems(options) {
  return options.map((o) => `.TP\n${optionTag(o)}\n${optionBody(o)}`).join('\n');
}

function synopsisLine(c) {
  return `${B(`aenv ${c.name}`)} [${I('options')}]${hasPositionals(c) ? ` ${I(c.argsText.replace(/\.\.\.$/, ''))}${c.argsText.endsWith('...') ? '\\&...' : ''}` : ''}`;
}

/** What a status means where its hint (what to do) is empty. */
const QUIET_STATUSES = { ok: 'opened, verified or sealed: nothing to do', skipped: 'left alone on purpose (--skip-existing): nothing to do' };

/**
 * aenv.1 in the man(7) macros, from loadCliTables()'s tables; `date` (YYYY-MM-DD) and
 * `version` go into the title line.
 */
export function manPage({ commands, statuses, hints }, { date, version }) {
  const out = [];
  out.push(`.\\" aenv.1: generated by build-scripts/cli-docs.mjs from src/cli/options.ts; do not edit.`);
  out.push(`.TH AENV 1 ${date} "aenv ${version}" "User Commands"`);
  out.push('.SH NAME');
  out.push(`aenv \\- open, check and seal AENV/1 (.aspera\\-env) password\\-encrypted envelopes, offline`);
  out.push('.SH SYNOPSIS');
  out.push(commands.map(synopsisLine).join('\n.br\n'));
  out.push('.br');
  out.push(`${B('aenv')} ${B('--version')} | ${B('--help')}`);
  out.push('.SH DESCRIPTION');
  out.push(roff(
    'aenv opens .aspera-env envelopes, files sealed with a password before they leave a machine, ' +
    'without any network access, in bulk. It decrypts whole folder trees in one command, checks ' +
    'that envelopes arrived whole (with the password, or without it), seals files the same way, ' +
    "and shows what an envelope's header says.",
  ));
  out.push('.PP');
  out.push(roff(
    'A PATH is a file or a folder. Folders are walked recursively; decrypt and verify take the ' +
    'regular files whose names end in the extension (.aspera-env unless --extension is given), ' +
    'encrypt takes every other regular file. Symbolic links inside folders are followed only ' +
    'with --follow-symlinks. a/b.csv.aspera-env decrypts to a/b.csv. An output that exists is ' +
    'never replaced unless --force is given, and an output appears under its final name only ' +
    'once it is complete and verified. A single - as PATH streams standard input to standard output.',
  ));
  out.push('.SH COMMANDS');
  for (const c of commands) {
    out.push(`.SS ${B(`aenv ${c.name}`)}${hasPositionals(c) ? ` ${I(c.argsText)}` : ''}`);
    out.push(roff(sentence(c.summary)));
    if (c.options.length) out.push(optionItems(c.options));
  }
  out.push('.SH GLOBAL OPTIONS');
  out.push(roff('Every command also takes these.'));
  out.push(optionItems(GLOBAL_OPTIONS));
  out.push('.SH PASSWORD');
  out.push(roff(
    'The password is taken, in this order, from --password-file FILE (its first line, without ' +
    'the line ending), the environment variable ASPERA_SCP_FILEPASS, or a prompt that does not ' +
    'echo when standard input is a terminal. There is no option that takes the password itself. ' +
    'decrypt and encrypt without a password exit with status 2; verify without one runs the ' +
    'checks that need no password and says so. The password is never printed, logged or reported.',
  ));
  out.push('.SH RESULTS');
  out.push(roff('Each file ends with one status; what to do about it:'));
  for (const st of statuses) out.push(`.TP\n${B(st)}\n${roff(hints[st] || QUIET_STATUSES[st] || 'see docs/CLI.md, "Results"')}`);
  out.push('.SH EXIT STATUS');
  for (const [code, what] of [
    ['0', 'every file ok or skipped'],
    ['1', 'at least one file failed'],
    ['2', 'usage error: bad options, no inputs, no password where one is needed'],
    ['130', 'interrupted (SIGINT): finished files stay, the unfinished one leaves nothing'],
  ]) out.push(`.TP\n${B(code)}\n${roff(what)}`);
  out.push('.SH ENVIRONMENT');
  out.push(`.TP\n${B('ASPERA_SCP_FILEPASS')}\n${roff('the password, when --password-file is not given (as ascp uses it)')}`);
  out.push(`.TP\n${B('NO_COLOR')}\n${roff('when set and not empty, no colours even on a terminal')}`);
  out.push('.SH EXAMPLES');
  for (const [what, cmd] of [
    ['Decrypt a tree into a mirror tree; exit status 1 if any file failed:', 'aenv decrypt /media/drive/incoming -o ~/cases/0815 --password-file ~/pw.txt'],
    ['Check that envelopes arrived whole, without the password:', 'aenv verify /media/drive/incoming'],
    ['Decrypt a stream:', 'aenv decrypt - --password-file ~/pw.txt < big.tar.aspera-env | tar x'],
  ]) {
    out.push('.PP');
    out.push(roff(what));
    out.push('.PP');
    out.push('.RS 4');
    out.push(`.EX\n${roff(cmd)}\n.EE`);
    out.push('.RE');
  }
  out.push('.SH SEE ALSO');
  out.push(roff('README.md and the guide in docs/ (both in the release archive): docs/CLI.md, the command line in full; docs/air-gap.md, carrying aenv into an isolated network; docs/FORMAT.md, the envelope format.'));
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// bash

/** Single-quoted for sh. */
const sq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** A bash completion script (bash 3.2 and later: macOS's bash too). */
export function bashCompletion(commands) {
  const L = [];
  L.push('# bash completion for aenv: generated by build-scripts/cli-docs.mjs from src/cli/options.ts; do not edit.');
  L.push('# Use: source this file, or put it in /usr/share/bash-completion/completions/aenv');
  L.push('# (or ~/.local/share/bash-completion/completions/aenv).');
  L.push('');
  L.push('_aenv_reply() {');
  L.push('  # COMPREPLY from compgen, one word per line (file names may hold spaces)');
  L.push('  local line');
  L.push('  COMPREPLY=()');
  L.push('  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$@")');
  L.push('}');
  L.push('');
  L.push('_aenv() {');
  L.push('  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i w');
  L.push('  local global=' + sq(GLOBAL_OPTIONS.flatMap(flags).join(' ')));
  L.push('  # --opt=value: bash splits at "=" (COMP_WORDBREAKS)');
  L.push('  if [[ $cur == = ]]; then cur=; elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi');
  L.push('  for ((i = 1; i < COMP_CWORD; i++)); do');
  L.push('    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac');
  L.push('  done');
  L.push('  if [[ -z $cmd ]]; then');
  L.push(`    _aenv_reply -W ${sq(`${commands.map((c) => c.name).join(' ')} `)}"$global" -- "$cur"`);
  L.push('    return 0');
  L.push('  fi');
  L.push('  local opts= conflicts= positionals=1');
  L.push('  case $cmd in');
  for (const c of commands) {
    L.push(`    ${c.name})`);
    // the value of the option before the cursor
    const valued = c.options.filter(takesValue);
    if (valued.length) {
      L.push('      case $prev in');
      for (const o of valued) {
        const pat = flags(o).join('|');
        if (o.choices) L.push(`        ${pat}) _aenv_reply -W ${sq(o.choices.join(' '))} -- "$cur"; return 0 ;;`);
        else if (o.complete === 'dir') L.push(`        ${pat}) compopt -o filenames 2>/dev/null; _aenv_reply -d -- "$cur"; return 0 ;;`);
        else if (o.complete === 'file') L.push(`        ${pat}) compopt -o filenames 2>/dev/null; _aenv_reply -f -- "$cur"; return 0 ;;`);
        else L.push(`        ${pat}) return 0 ;; # ${placeholder(o)}: nothing to offer`);
      }
      L.push('      esac');
    }
    const words = c.options.flatMap((o) => [...flags(o), ...(negatable(o) ? [`--no-${o.name}`] : [])]);
    L.push(`      opts=${sq(words.join(' '))}`);
    // typed:offered pairs never offered together: conflicts (every spelling), --x with --no-x
    const spell = (name) => {
      const o = c.options.find((x) => x.name === name);
      return o ? flags(o) : [`--${name}`];
    };
    const pairs = c.options.flatMap((o) => [
      ...(o.conflicts ?? []).flatMap((x) => flags(o).flatMap((a) => spell(x).map((b) => `${a}:${b}`))),
      ...(negatable(o) ? [`--${o.name}:--no-${o.name}`, `--no-${o.name}:--${o.name}`] : []),
    ]);
    if (pairs.length) L.push(`      conflicts=${sq(pairs.join(' '))}`);
    if (!hasPositionals(c)) L.push('      positionals=');
    L.push('      ;;');
  }
  L.push('    *) return 0 ;;');
  L.push('  esac');
  L.push('  for ((i = 1; i < COMP_CWORD; i++)); do');
  L.push('    [[ ${COMP_WORDS[i]} == -- ]] && { opts=; global=; break; }');
  L.push('  done');
  L.push('  if [[ $cur == -* && ( -n $opts || -n $global ) ]]; then');
  L.push('    # leave out options already given and those they conflict with');
  L.push('    local offer= o p');
  L.push('    for o in $opts $global; do');
  L.push('      for ((i = 1; i < COMP_CWORD; i++)); do');
  L.push('        w=${COMP_WORDS[i]%%=*}');
  L.push('        [[ $w == "$o" ]] && continue 2');
  L.push('        for p in $conflicts; do [[ $p == "$w:$o" ]] && continue 3; done');
  L.push('      done');
  L.push('      offer+=" $o"');
  L.push('    done');
  L.push('    _aenv_reply -W "$offer" -- "$cur"');
  L.push('  elif [[ -n $positionals ]]; then');
  L.push('    compopt -o filenames 2>/dev/null');
  L.push('    _aenv_reply -f -- "$cur"');
  L.push('  fi');
  L.push('  return 0');
  L.push('}');
  L.push('');
  L.push('complete -F _aenv aenv aenv.exe');
  return `${L.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// zsh

/** Text inside an _arguments [description] or a message: escape what _arguments parses. */
function zdesc(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/([[\]:])/g, '\\$1');
}

function zshSpec(o, allSpellings) {
  // exclusion list: the option's own spellings (given once) and the options it conflicts with
  const excl = [...flags(o), ...(negatable(o) ? [`--no-${o.name}`] : [])];
  for (const c of o.conflicts ?? []) excl.push(...(allSpellings.get(c) ?? [`--${c}`]));
  const action = o.choices ? `(${o.choices.join(' ')})` : o.complete === 'dir' ? '_files -/' : o.complete === 'file' ? '_files' : ' ';
  const value = takesValue(o) ? `:${zdesc((o.choices ? o.name : placeholder(o)).toLowerCase())}:${action}` : '';
  const specs = [];
  const names = flags(o).map((f) => (takesValue(o) ? (f.startsWith('--') ? `${f}=` : `${f}+`) : f));
  const head = `(${excl.join(' ')})`;
  for (const n of names) specs.push(`${head}${n}[${zdesc(o.describe)}]${value}`);
  if (negatable(o)) specs.push(`${head}--no-${o.name}[${zdesc(`turn off: ${o.describe}`)}]`);
  return specs;
}

/** A zsh completion function file (_aenv), for a folder on $fpath. */
export function zshCompletion(commands) {
  const L = [];
  L.push('#compdef aenv aenv.exe');
  L.push('# zsh completion for aenv: generated by build-scripts/cli-docs.mjs from src/cli/options.ts; do not edit.');
  L.push('# Use: put this file, named _aenv, in a folder on $fpath before compinit runs.');
  L.push('');
  L.push('_aenv() {');
  L.push('  local curcontext=$curcontext state line ret=1');
  L.push('  typeset -A opt_args');
  const globals = GLOBAL_OPTIONS.flatMap((o) => flags(o).map((f) => `'(- *)${f}[${zdesc(o.describe)}]'`));
  L.push(`  _arguments -C ${globals.join(' ')} '1: :->command' '*:: :->args' && ret=0`);
  L.push('  case $state in');
  L.push('    command)');
  L.push('      local -a cmds');
  L.push(`      cmds=(${commands.map((c) => sq(`${c.name}:${c.summary.replace(/:/g, '\\:')}`)).join(' ')})`);
  L.push("      _describe -t commands 'aenv command' cmds && ret=0");
  L.push('      ;;');
  L.push('    args)');
  L.push('      curcontext=${curcontext%:*:*}:aenv-$words[1]:');
  L.push('      case $words[1] in');
  for (const c of commands) {
    const spellings = new Map(c.options.map((o) => [o.name, [...flags(o), ...(negatable(o) ? [`--no-${o.name}`] : [])]]));
    const specs = [
      ...c.options.flatMap((o) => zshSpec(o, spellings)),
      ...GLOBAL_OPTIONS.flatMap((o) => flags(o).map((f) => `(- *)${f}[${zdesc(o.describe)}]`)),
    ];
    if (hasPositionals(c)) specs.push(`*:${zdesc(c.argsText.replace(/\.\.\.$/, '').toLowerCase())}:_files`);
    L.push(`        (${c.name})`);
    L.push(`          _arguments -s -S \\`);
    for (const s of specs) L.push(`            ${sq(s)} \\`);
    L.push('            && ret=0');
    L.push('          ;;');
  }
  L.push('      esac');
  L.push('      ;;');
  L.push('  esac');
  L.push('  return ret');
  L.push('}');
  L.push('');
  L.push('_aenv "$@"');
  return `${L.join('\n')}\n`;
}

/** Writes aenv.1 and completions/{aenv.bash,_aenv} into outDir; returns their paths. */
export async function writeCliDocs(outDir, { date, version, root = ROOT }) {
  const tables = await loadCliTables(root);
  const { commands } = tables;
  mkdirSync(join(outDir, 'completions'), { recursive: true });
  const files = {
    man: join(outDir, 'aenv.1'),
    bash: join(outDir, 'completions', 'aenv.bash'),
    zsh: join(outDir, 'completions', '_aenv'),
  };
  writeFileSync(files.man, manPage(tables, { date, version }));
  writeFileSync(files.bash, bashCompletion(commands));
  writeFileSync(files.zsh, zshCompletion(commands));
  return files;
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' }, date: { type: 'string' }, version: { type: 'string' } } });
  if (!values.out) throw new Error('give --out DIR');
  const version = values.version ?? JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const date = values.date ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`--date ${date} is not YYYY-MM-DD`);
  const files = await writeCliDocs(resolve(values.out), { date, version });
  for (const f of Object.values(files)) console.log(f);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`cli-docs: error: ${err.message}`);
    process.exit(1);
  });
}
