// The command line read from the option table (options.ts) without yargs, which is loaded only to
// print help (help.ts): a run starts without building the help text (issue 22: start-up), and a
// mistake is said in aenv's words, as age says its own: the flag as typed, "did you mean", and
// the subcommand's help to read. Flags follow getopt's habits: `--name VALUE`, `--name=VALUE`,
// `-o VALUE`, `-oVALUE`, `--no-name` for a boolean, `-qv` for several one-letter booleans, `--`
// ends the flags, and `-` alone is standard input.

import { UsageError } from '../engine/job.js';
import { COMMANDS, type CommandName, type OptionSpec } from './options.js';

/** The commands, as typed. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** Edit distance (insertions, deletions, substitutions, swaps of two neighbours). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `names` to `typed` (case, `_` for `-` and a few typos forgiven), or null. */
export function closest(typed: string, names: readonly string[]): string | null {
  const t = typed.toLowerCase().replace(/_/g, '-');
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const dist = n === t ? 0 : n.startsWith(t) && t.length >= 3 ? 1 : distance(t, n);
    if (dist < bestD) {
      best = n;
      bestD = dist;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : null;
}

/** An unknown command's usage error. */
export function unknownCommand(typed: string): UsageError {
  const near = closest(typed, [...COMMAND_NAMES, 'doctor']);
  return new UsageError(`unknown command ${JSON.stringify(typed)}`, near ? `did you mean \`aenv ${near}\`? (aenv --help lists the commands)` : 'aenv --help lists the commands');
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Where a flag no command of this name has lives, for the hint. */
function otherCommands(name: string, c: CommandName): string[] {
  return COMMANDS.filter((x) => x.name !== c && x.options.some((o: OptionSpec) => o.name === name)).map((x) => x.name);
}

/**
 * `args` (after the command's name; `-` and the words after `--` already set apart by the caller)
 * read against command `c`'s options: every option under its camelCase name (defaults filled
 * in), the PATHs in `paths`. Every mistake is a UsageError naming the flag as typed.
 */
export function parseCommand(c: CommandName, args: readonly string[], stdinToken: string): Record<string, unknown> {
  const spec = COMMANDS.find((x) => x.name === c)!;
  const options: readonly OptionSpec[] = spec.options;
  const help = `aenv ${c} --help`;
  const byName = new Map(options.map((o) => [o.name, o]));
  const byAlias = new Map(options.filter((o) => o.alias).map((o) => [o.alias!, o]));
  const out: Record<string, unknown> = {};
  const given = new Set<string>();
  const paths: string[] = [];

  const unknown = (typed: string, name: string): UsageError => {
    const near = closest(name, options.map((o) => o.name));
    if (near) return new UsageError(`unknown flag ${typed}`, `did you mean --${near}? (${help} lists ${c}'s flags)`);
    const elsewhere = otherCommands(name, c);
    if (elsewhere.length) return new UsageError(`${c} has no flag ${typed}`, `it is a flag of ${elsewhere.join(', ')}; ${help} lists ${c}'s flags`);
    return new UsageError(`unknown flag ${typed}`, `${help} lists ${c}'s flags`);
  };
  const set = (o: OptionSpec, typed: string, raw: string | boolean): void => {
    if (given.has(o.name)) throw new UsageError(`${typed} is given more than once`, `give it once; ${help}`);
    given.add(o.name);
    let v: string | number | boolean;
    if (o.type === 'boolean') {
      if (typeof raw === 'boolean') v = raw;
      else if (raw === 'true' || raw === 'false') v = raw === 'true';
      else throw new UsageError(`${typed} takes no value (it was given ${JSON.stringify(raw)})`, `write ${typed} alone, or --no-${o.name}`);
    } else if (typeof raw === 'boolean') {
      throw new UsageError(`${typed} needs a value${o.arg ? ` (${o.arg})` : ''}`, `e.g. ${typed} ${o.arg ?? 'VALUE'}; ${help}`);
    } else if (o.type === 'number') {
      v = raw.trim() === '' ? NaN : Number(raw); // NaN: validate.ts says what the flag takes
    } else {
      v = raw === stdinToken ? '-' : raw;
    }
    if (o.choices && !o.choices.includes(String(v))) {
      // only a value's beginning or its case is taken for a typo here: bcrypt is not a misspelt scrypt
      const t = String(v).toLowerCase();
      const near = t.length >= 2 ? o.choices.find((x) => x === t || x.startsWith(t)) : undefined;
      throw new UsageError(`${typed} ${JSON.stringify(String(v))} is not one of ${o.choices.join(', ')}`,
        near ? `did you mean ${typed} ${near}?` : `e.g. ${typed} ${o.choices[0]}; ${help}`);
    }
    out[camel(o.name)] = v;
  };

  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string | boolean => (i + 1 < args.length ? args[++i]! : true);
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      const o = byName.get(name);
      if (!o && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean' && inline === undefined) {
        set(byName.get(name.slice(3))!, a, false);
        continue;
      }
      if (!o) throw unknown(eq < 0 ? a : a.slice(0, eq), name);
      set(o, eq < 0 ? a : a.slice(0, eq), inline ?? (o.type === 'boolean' ? true : next()));
    } else if (a.startsWith('-') && a !== '-' && a !== stdinToken && a.length > 1) {
      // -q, -qv, -o DIR, -oDIR, -j4; a long name with one dash (-output) is a slip, not -o utput
      if (a.length > 2 && byName.has(a.slice(1).split('=')[0]!)) throw new UsageError(`unknown flag ${a}`, `did you mean -${a}? (long flags take two dashes)`);
      for (let k = 1; k < a.length; k++) {
        const o = byAlias.get(a[k]!);
        if (!o) {
          throw unknown(`-${a[k]}`, a.slice(1));
        }
        if (o.type === 'boolean') {
          set(o, `-${a[k]}`, true);
          continue;
        }
        set(o, `-${a[k]}`, k + 1 < a.length ? a.slice(k + 1).replace(/^=/, '') : next());
        break;
      }
    } else {
      paths.push(a === stdinToken ? '-' : a);
    }
  }
  for (const o of options) {
    for (const other of o.conflicts ?? []) {
      if (given.has(o.name) && given.has(other) && out[camel(o.name)] !== false && out[camel(other)] !== false) {
        throw new UsageError(`--${o.name} and --${other} cannot be used together`, `choose one; ${help}`);
      }
    }
    if (!given.has(o.name) && o.default !== undefined) out[camel(o.name)] = o.default;
  }
  if (spec.args === '' && paths.length) throw new UsageError(`${c} takes no PATH (it was given ${JSON.stringify(paths[0])})`, help);
  out['paths'] = paths;
  return out;
}
