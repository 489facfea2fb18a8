// The command line's commands and options as data (docs/CLI.md "Commands", "Options"): yargs is built
// from this table (main.ts), and so are the man page and the shell completions of a release,
// so --help, `man aenv` and Tab completion cannot drift apart. The types of the parsed options
// come from the table too (ArgsOf): an option added here is a field every command's check
// (validate.ts) must read, with the type the table gives it.

import { UsageError } from '../engine/job.js';

export interface OptionSpec {
  readonly name: string;
  readonly alias?: string;
  readonly type: 'boolean' | 'string' | 'number';
  /** The value's placeholder in usage texts (man page), e.g. DIR. */
  readonly arg?: string;
  readonly choices?: readonly string[];
  readonly default?: string | number | boolean;
  readonly describe: string;
  /** Options this one cannot be combined with. */
  readonly conflicts?: readonly string[];
  /** What completes the value: files, folders, or nothing special. */
  readonly complete?: 'file' | 'dir';
}

export interface CommandSpec {
  readonly name: string;
  /** yargs positional syntax. */
  readonly args: string;
  /** The placeholder of the positionals in usage texts. */
  readonly argsText: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
}

const COMMON = [
  { name: 'json', type: 'boolean', default: false, describe: 'one JSON object per file on standard output, then a summary line' },
  { name: 'quiet', alias: 'q', type: 'boolean', default: false, describe: 'print only failures and one summary line' },
  { name: 'verbose', alias: 'v', type: 'boolean', default: false, describe: 'also list skipped files, every wrong-password file of a batch, and each entry the walk passes over (links not followed, sockets, devices)' },
  { name: 'jobs', alias: 'j', type: 'number', arg: 'N', describe: 'files processed at once (default: number of CPUs)' },
  { name: 'extension', type: 'string', arg: 'EXT', default: '.aspera-env', describe: 'ending of envelope names' },
  { name: 'follow-symlinks', type: 'boolean', default: false, describe: 'follow symbolic links inside folders (never in a loop)' },
  { name: 'password-file', type: 'string', arg: 'FILE', complete: 'file', describe: 'read the password from the first line of FILE' },
  { name: 'progress', type: 'boolean', default: true, describe: 'progress display on a terminal (--no-progress to hide)' },
  { name: 'backend', type: 'string', choices: ['node', 'noble'], default: 'node', describe: 'crypto implementation: node (OpenSSL) or noble (pure JS)' },
] as const satisfies readonly OptionSpec[];

/** decrypt and verify: several passwords, and the cap on the run's key derivations. */
const OPENING = [
  { name: 'password-list', type: 'string', arg: 'FILE', complete: 'file', describe: 'try every password of FILE (one per line) on each file; rows name the line that opened it' },
  { name: 'kdf-budget', type: 'number', arg: 'SECONDS', default: 600, describe: 'stop starting key derivations once they took this long in all (hostile headers); the rest fail as unsupported' },
] as const satisfies readonly OptionSpec[];

/** decrypt, verify, encrypt: inputs from a list, and one part of many (docs/batches.md "Inputs from a list", "Sharding"). */
const BATCH = [
  { name: 'files-from', type: 'string', arg: 'FILE', complete: 'file', describe: 'also take the paths listed in FILE, one per line (NUL-separated with -0); - reads standard input' },
  { name: 'null', alias: '0', type: 'boolean', default: false, describe: 'the --files-from list is NUL-separated (as find -print0 writes)' },
  { name: 'shard', type: 'string', arg: 'K/N', describe: 'take only part K of N of the files (a stable hash of each path below its PATH), for many machines' },
] as const satisfies readonly OptionSpec[];

const MANIFEST_CHECK = {
  name: 'manifest', type: 'boolean', default: false,
  describe: 'require a sealed batch manifest at the root of each folder PATH (a tree that has one is always checked against it)',
} as const satisfies OptionSpec;

/** decrypt: the content digest of large files too (docs/FORMAT.md "Decoding a file", step 11 makes it optional). */
const CHECK_DIGEST = {
  name: 'check-digest', type: 'boolean', default: false,
  describe: 'also check the trailer digest of large files (always done for files up to 1 MiB, and for large ones when a core is spare)',
} as const satisfies OptionSpec;

const WRITING = [
  ...COMMON,
  { name: 'output', alias: 'o', type: 'string', arg: 'DIR', complete: 'dir', describe: 'write outputs under DIR, mirroring folder PATHs (default: beside each input)' },
  { name: 'force', type: 'boolean', conflicts: ['skip-existing'], describe: 'replace existing outputs (atomically)' },
  { name: 'skip-existing', type: 'boolean', conflicts: ['force'], describe: 'leave existing outputs and report them skipped' },
  { name: 'remove-source', type: 'boolean', default: false, describe: 'delete each input once its output is durably in place' },
  {
    name: 'portable-names', type: 'boolean', default: false,
    describe: 'write an output whose name the drive cannot hold (FAT, exFAT, NTFS, Windows: : ? * and the like, CON, a trailing dot) under a look-alike name it can (: as U+FF1A ...); each row says from what',
  },
] as const satisfies readonly OptionSpec[];

// IBM's own tools, for envelopes without the AENV magic (engine/foreign.ts, engine/tools.ts).
const ASUNPROTECT = {
  name: 'asunprotect', type: 'string', arg: 'PATH', complete: 'file',
  describe: 'IBM\'s asunprotect, run for files without the AENV magic (default: AENV_ASUNPROTECT, then PATH, then IBM\'s install folders)',
} as const satisfies OptionSpec;
const TOOL_TIMEOUT = {
  name: 'tool-timeout', type: 'number', arg: 'SECONDS', default: 60,
  describe: 'stop IBM\'s tool after this long without progress (the file fails with tool-error)',
} as const satisfies OptionSpec;

export const COMMANDS = [
  {
    name: 'decrypt', args: '[paths..]', argsText: 'PATH...',
    summary: 'decrypt envelopes (files or whole trees); - for stdin to stdout',
    options: [
      ...WRITING, ...OPENING, ...BATCH, MANIFEST_CHECK,
      { name: 'checksums', type: 'string', arg: 'FILE', complete: 'file', describe: 'check each plaintext\'s SHA-256 against FILE (sha256sum format, names relative to the output tree) before it is committed' },
      CHECK_DIGEST, ASUNPROTECT, TOOL_TIMEOUT,
    ],
  },
  {
    name: 'verify', args: '[paths..]', argsText: 'PATH...',
    summary: 'check envelopes: keyed with a password, else structure and digest only',
    options: [
      ...COMMON, ...OPENING, { name: 'password-prompt', type: 'boolean', default: false, describe: 'ask for the password (verify never asks otherwise)' },
      ...BATCH, MANIFEST_CHECK,
      { name: 'checksums', type: 'string', arg: 'FILE', complete: 'file', describe: 'check every envelope\'s SHA-256 against FILE (sha256sum format, names relative to the folder PATH); no password needed' },
      { name: 'write-checksums', type: 'string', arg: 'FILE', complete: 'file', describe: 'write the envelopes\' SHA-256 to FILE in the sha256sum format (names relative to the folder PATH)' },
      ASUNPROTECT, TOOL_TIMEOUT,
    ],
  },
  {
    name: 'encrypt', args: '[paths..]', argsText: 'PATH...',
    summary: 'seal files (or whole trees) as envelopes; - for stdin to stdout',
    options: [
      ...WRITING,
      // No yargs defaults for these three: --format ibm refuses them when given (their defaults: validate.ts).
      { name: 'suite', type: 'string', choices: ['aes-256-gcm', 'chacha20-poly1305'], describe: 'AEAD cipher suite (default aes-256-gcm)' },
      { name: 'kdf', type: 'string', choices: ['scrypt', 'argon2id', 'pbkdf2'], describe: 'password KDF at the format\'s default costs (default scrypt)' },
      { name: 'chunk-size', type: 'string', arg: 'BYTES', describe: 'plaintext bytes per chunk: power of two, 4K..16M (default 65536)' },
      { name: 'format', type: 'string', choices: ['aenv', 'ibm'], default: 'aenv', describe: 'envelope format: aenv (AENV/1) or ibm (sealed by IBM\'s asprotect)' },
      {
        name: 'asprotect', type: 'string', arg: 'PATH', complete: 'file',
        describe: 'IBM\'s asprotect, for --format ibm (default: AENV_ASPROTECT, then PATH, then IBM\'s install folders)',
      },
      TOOL_TIMEOUT,
      ...BATCH,
      { name: 'manifest', type: 'boolean', default: false, describe: 'also write a sealed batch manifest at the root of -o DIR listing every envelope (needs -o)' },
    ],
  },
  {
    name: 'inspect', args: '[paths..]', argsText: 'FILE...',
    summary: 'show header fields, sizes, chunk count and batch id (no password)',
    options: [{ name: 'json', type: 'boolean', default: false, describe: 'one JSON object per file' }, ASUNPROTECT],
  },
  {
    name: 'report', args: '[paths..]', argsText: 'FILE...',
    summary: 'merge the --json reports of several runs (the shards of one tree): combined summary, exit 1 if any row failed',
    options: [{ name: 'json', type: 'boolean', default: false, describe: 'print the merged summary as one JSON line' }],
  },
  {
    name: 'doctor', args: '', argsText: '',
    summary: 'what this machine can open: the selftest, and where IBM\'s asunprotect and asprotect are (exit 1 if the selftest fails)',
    options: [],
  },
  {
    name: 'selftest', args: '', argsText: '',
    summary: 'known-answer tests of this binary and this machine\'s crypto, offline (exit 0 or 1)',
    options: [],
  },
] as const satisfies readonly CommandSpec[];

export type CommandName = (typeof COMMANDS)[number]['name'];

export function command(name: CommandName): CommandSpec {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

// ---------------------------------------------------------------- the types the table gives

type OptionOf<C extends CommandName> = Extract<(typeof COMMANDS)[number], { name: C }>['options'][number];

/** kebab-case to camelCase, as yargs names the parsed values: `skip-existing` -> `skipExisting`. */
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** A value as the table types it: a boolean, one of its choices, a number or a string. */
type ValueOf<O> = O extends { type: 'boolean' } ? boolean
  : O extends { choices: readonly (infer V)[] } ? V
    : O extends { type: 'number' } ? number : string;

/** Always there when the table gives a default; else possibly absent. */
type Given<O> = O extends { default: unknown } ? ValueOf<O> : ValueOf<O> | undefined;

/** A command's parsed options, named and typed by the table, and its PATHs. */
export type ArgsOf<C extends CommandName> = { paths: string[] } & { [O in OptionOf<C> as Camel<O['name']>]: Given<O> };

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Why `v` is not a value of option `o` (null: it is one). */
function misfit(o: OptionSpec, v: unknown): string | null {
  if (v === undefined) return o.default === undefined ? null : 'has no value';
  if (Array.isArray(v)) return 'is given more than once';
  if (typeof v !== o.type) return `takes a ${o.type}`;
  if (o.choices && !o.choices.includes(String(v))) return `takes one of ${o.choices.join(', ')}`;
  return null;
}

/**
 * Whether `raw` (what yargs parsed, with the PATHs) holds, for every option of command `c`, a
 * value of the type the table gives it: the check that lets the parsed values be read as
 * ArgsOf<C>. A value that does not fit (an option given twice) is a usage error.
 */
export function isArgsOf<C extends CommandName>(c: C, raw: Record<string, unknown>): raw is Record<string, unknown> & ArgsOf<C> {
  const paths = raw['paths'];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) return false;
  for (const o of command(c).options) {
    const why = misfit(o, raw[camel(o.name)]);
    if (why) throw new UsageError(`--${o.name} ${why}`, `aenv ${c} --help`);
  }
  return true;
}
