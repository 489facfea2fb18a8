// Foreign envelopes from the outside (docs/CLI.md "Foreign envelopes"; docs/IBM-TOOLS.md "Using IBM's tools through aenv"), with the
// stand-in for IBM's asunprotect/asprotect (test/tools/aspera-standin.cjs): one decrypt of a tree
// mixing AENV/1 envelopes, foreign envelopes, a damaged AENV envelope, a foreign envelope under
// another password and a plaintext, each ending as it should with only complete outputs under
// final names; the same tree without the tool (not-envelope with a hint); finding the tool by
// AENV_ASUNPROTECT and PATH, and a named tool that is unusable (exit 2); -o, in place,
// --remove-source, --skip-existing, --force and --jobs with foreign files; verify with and
// without a password; inspect; --version; and `encrypt --format ibm` round trips.

import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aenv, jsonLines, PASSWORD, passwordFile, tempDir, VECTORS } from './helpers/cli.js';
import { listTree } from './helpers/faults.js';
import { killStandinLeftovers, noToolEnv, rowsBy, sealForeign } from './helpers/foreign.js';
import { installStandin, type Standin } from './helpers/standin.js';

vi.setConfig({ testTimeout: 60_000 });

const tmp = tempDir('aenv-foreign-');
let s: Standin;
let pw: string;
let src: string;
let home: string;
let n = 0;
const A = 'aenv alpha\n';
const F1 = Buffer.from('foreign one\n');
const F2 = randomBytes(300 * 1024);

beforeAll(() => {
  const tools = path.join(tmp.dir, 'tools');
  mkdirSync(tools);
  s = installStandin(tools);
  home = path.join(tmp.dir, 'home');
  mkdirSync(home);
  pw = passwordFile(tmp.dir);
  src = path.join(tmp.dir, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'a.txt'), A);
  const r = aenv(['encrypt', src, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q']);
  expect(r.code, r.stderr).toBe(0);
  sealForeign(s, F1, path.join(src, 'f1.txt.aspera-env'), PASSWORD);
  sealForeign(s, F2, path.join(src, 'sub', 'f2.bin.aspera-env'), PASSWORD);
  sealForeign(s, 'other', path.join(src, 'wp.txt.aspera-env'), 'another password');
  copyFileSync(path.join(VECTORS, 'bad-chunk-bitflip.aspera-env'), path.join(src, 'sub', 'bad-chunk-bitflip.aspera-env'));
  writeFileSync(path.join(src, 'x.aspera-env'), 'plaintext left by an HTTP fallback upload\n');
}, 60_000);
afterAll(() => {
  killStandinLeftovers(s);
  tmp.cleanup();
});

const fresh = (name: string): string => path.join(tmp.dir, `${name}-${n++}`);
const TOOL = (): string[] => ['--asunprotect', s.asunprotect];
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('decrypt of a mixed tree through the stand-in', () => {
  it('AENV, foreign, damaged, wrong-password and plaintext files in one run: each ends as it should, only complete outputs under final names', () => {
    const out = fresh('out');
    const before = listTree(src);
    const r = aenv(['decrypt', src, '-o', out, '--json', '--jobs', '3', ...TOOL(), '--password-file', pw]);
    expect(r.code, r.stderr).toBe(1);
    const rows = rowsBy(r.stdout, src);
    expect(rows['a.txt.aspera-env']).toMatchObject({ status: 'ok', bytes: A.length });
    expect(rows['a.txt.aspera-env']).not.toHaveProperty('via'); // AENV files never go to the tool
    expect(rows['f1.txt.aspera-env']).toMatchObject({ status: 'ok', via: 'asunprotect', bytes: F1.length, detail: 'opened by asunprotect', output: path.join(out, 'f1.txt') });
    expect(rows['sub/f2.bin.aspera-env']).toMatchObject({ status: 'ok', via: 'asunprotect', bytes: F2.length, output: path.join(out, 'sub', 'f2.bin') });
    expect(rows['wp.txt.aspera-env']).toMatchObject({ status: 'tool-error', via: 'asunprotect', bytes: 0, tool_exit: 3, tool_signal: null, tool_outcome: 'exited' });
    expect(rows['wp.txt.aspera-env']!['detail']).toBe('asunprotect exited with status 3: asunprotect: wp.txt.aspera-env: wrong password');
    // a damaged AENV envelope has the magic: the decoder's verdict, never the tool
    expect(rows['sub/bad-chunk-bitflip.aspera-env']).toMatchObject({ status: 'corrupt' });
    expect(rows['sub/bad-chunk-bitflip.aspera-env']).not.toHaveProperty('via');
    expect(rows['x.aspera-env']).toMatchObject({ status: 'tool-error', tool_exit: 4 });
    expect(String(rows['x.aspera-env']!['detail'])).toMatch(/not an Aspera envelope$/);
    expect(rows['summary']).toMatchObject({ ok: 3, failed: 3, by_status: { ok: 3, corrupt: 1, 'tool-error': 2 } });
    // exactly the three complete outputs, private, and nothing else (no temporary file, no partial output)
    expect(listTree(out)).toEqual(['a.txt', 'f1.txt', 'sub/f2.bin']);
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe(A);
    expect(readFileSync(path.join(out, 'f1.txt')).equals(F1)).toBe(true);
    expect(readFileSync(path.join(out, 'sub', 'f2.bin')).equals(F2)).toBe(true);
    for (const f of listTree(out)) expect(mode(path.join(out, f)), f).toBe(0o600);
    expect(listTree(src)).toEqual(before);
  });

  it('human lines: "via asunprotect" on ok lines, tool-error with the tool\'s message and a hint; the password appears nowhere', () => {
    const out = fresh('out');
    const r = aenv(['decrypt', src, '-o', out, ...TOOL(), '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ok +\S*f1\.txt\.aspera-env -> \S*f1\.txt \(12 B, via asunprotect\)$/m);
    expect(r.stderr).toMatch(/^tool-error +\S*wp\.txt\.aspera-env: asunprotect exited with status 3: asunprotect: wp\.txt\.aspera-env: wrong password\n +hint: IBM's asunprotect failed on this file[^\n]*wrong password/m);
    expect(r.stderr).toMatch(/^ {2}tool-error +2$/m);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('without the tool, files without the magic stay not-envelope with a hint naming asunprotect, --asunprotect and AENV_ASUNPROTECT; AENV files are unchanged', () => {
    const out = fresh('out');
    const env = noToolEnv(home);
    const r = aenv(['decrypt', src, '-o', out, '--json', '--password-file', pw], { env });
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, src);
    for (const f of ['f1.txt.aspera-env', 'sub/f2.bin.aspera-env', 'wp.txt.aspera-env', 'x.aspera-env']) {
      expect(rows[f], f).toMatchObject({ status: 'not-envelope', detail: 'no AENV magic at the start' });
      expect(rows[f], f).not.toHaveProperty('via');
    }
    expect(rows['a.txt.aspera-env']).toMatchObject({ status: 'ok' });
    expect(rows['sub/bad-chunk-bitflip.aspera-env']).toMatchObject({ status: 'corrupt' });
    expect(listTree(out)).toEqual(['a.txt']);
    const h = aenv(['decrypt', path.join(src, 'f1.txt.aspera-env'), '-o', fresh('out'), '--password-file', pw], { env });
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/not-envelope +\S*f1\.txt\.aspera-env: no AENV magic at the start\n +hint: [^\n]*plaintext[^\n]*another tool[^\n]*asunprotect[^\n]*--asunprotect PATH or AENV_ASUNPROTECT=PATH\n/);
  });

  it('finds the tool through AENV_ASUNPROTECT, and through PATH', () => {
    const f1 = path.join(src, 'f1.txt.aspera-env');
    for (const env of [{ ...noToolEnv(home), AENV_ASUNPROTECT: s.asunprotect }, { ...noToolEnv(home), PATH: `${s.dir}:/usr/bin:/bin` }]) {
      const out = fresh('out');
      const r = aenv(['decrypt', f1, '-o', out, '--json', '--password-file', pw], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 'ok', via: 'asunprotect' });
      expect(readFileSync(path.join(out, 'f1.txt')).equals(F1)).toBe(true);
    }
  });

  it('a --asunprotect or AENV_ASUNPROTECT naming nothing usable is a usage error (exit 2) before any work', () => {
    const out = fresh('out');
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--asunprotect', path.join(tmp.dir, 'no-such-tool')], {}, /--asunprotect \S*no-such-tool: no such file/],
      [[], { AENV_ASUNPROTECT: s.dir }, /AENV_ASUNPROTECT \S+: is a folder/],
      [['--asunprotect', pw], {}, /--asunprotect \S*password\.txt: not executable/],
    ];
    for (const [flags, env, msg] of cases) {
      const r = aenv(['decrypt', src, '-o', out, ...flags, '--password-file', pw], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^aenv: error: cannot use IBM's asunprotect: /);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^aenv: hint: give the path of the asunprotect executable/m);
      expect(existsSync(out)).toBe(false);
    }
  });
});

/** A folder of foreign envelopes only: f1.txt, sub/f2.bin (right password), wp.txt (another). */
function foreignOnly(): string {
  const d = fresh('fo');
  mkdirSync(path.join(d, 'sub'), { recursive: true });
  for (const f of ['f1.txt.aspera-env', 'sub/f2.bin.aspera-env', 'wp.txt.aspera-env']) copyFileSync(path.join(src, f), path.join(d, f));
  return d;
}

describe('write options with foreign files', () => {
  it('in place with --remove-source: envelopes the tool opened are removed once their outputs are in place; the failing one is kept', () => {
    const d = foreignOnly();
    const r = aenv(['decrypt', d, '--json', '--remove-source', ...TOOL(), '--password-file', pw]);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    expect(rows['f1.txt.aspera-env']).toMatchObject({ status: 'ok', via: 'asunprotect', detail: 'opened by asunprotect, envelope removed' });
    expect(rows['wp.txt.aspera-env']).toMatchObject({ status: 'tool-error' });
    expect(listTree(d)).toEqual(['f1.txt', 'sub/f2.bin', 'wp.txt.aspera-env']);
    expect(readFileSync(path.join(d, 'sub', 'f2.bin')).equals(F2)).toBe(true);
  });

  it('an existing output: `exists` by default and `skipped` with --skip-existing (the tool is not run); --force replaces it', () => {
    const d = foreignOnly();
    const out = fresh('out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'f1.txt'), 'OLD\n');
    const f1 = path.join(d, 'f1.txt.aspera-env');
    const def = aenv(['decrypt', f1, '-o', out, '--json', ...TOOL(), '--password-file', pw]);
    expect(def.code).toBe(1);
    expect(jsonLines(def.stdout)[0]).toMatchObject({ status: 'exists' });
    expect(jsonLines(def.stdout)[0]).not.toHaveProperty('via');
    const skip = aenv(['decrypt', f1, '-o', out, '--json', '--skip-existing', ...TOOL(), '--password-file', pw]);
    expect(skip.code).toBe(0);
    expect(jsonLines(skip.stdout)[0]).toMatchObject({ status: 'skipped' });
    expect(readFileSync(path.join(out, 'f1.txt'), 'utf8')).toBe('OLD\n');
    const force = aenv(['decrypt', f1, '-o', out, '--json', '--force', ...TOOL(), '--password-file', pw]);
    expect(force.code, force.stderr).toBe(0);
    expect(jsonLines(force.stdout)[0]).toMatchObject({ status: 'ok', via: 'asunprotect' });
    expect(readFileSync(path.join(out, 'f1.txt')).equals(F1)).toBe(true);
    expect(listTree(out)).toEqual(['f1.txt']);
  });

  it('--jobs 4 over twelve foreign files mirrored under -o: every output complete, rows in file order', () => {
    const d = fresh('many');
    const plain = new Map<string, Buffer>();
    for (let i = 0; i < 12; i++) {
      const rel = `d${i % 3}/m${String(i).padStart(2, '0')}.bin`;
      const data = randomBytes(1000 + i * 5000);
      plain.set(rel, data);
      sealForeign(s, data, path.join(d, `${rel}.aspera-env`), PASSWORD);
    }
    const out = fresh('out');
    const r = aenv(['decrypt', d, '-o', out, '--json', '--jobs', '4', ...TOOL(), '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonLines(r.stdout).filter((x) => 'path' in x);
    expect(rows.map((x) => path.relative(d, String(x['path'])))).toEqual([...plain.keys()].sort().map((k) => `${k}.aspera-env`));
    for (const x of rows) expect(x).toMatchObject({ status: 'ok', via: 'asunprotect' });
    expect(listTree(out)).toEqual([...plain.keys()].sort());
    for (const [rel, data] of plain) expect(readFileSync(path.join(out, rel)).equals(data), rel).toBe(true);
  });
});

describe('verify', () => {
  it('with a password: foreign ok via asunprotect, another password tool-error; nothing is written, nothing left in the temporary folder', () => {
    const d = foreignOnly();
    const priv = fresh('tmpdir');
    mkdirSync(priv);
    const before = listTree(d);
    const r = aenv(['verify', d, '--json', ...TOOL(), '--password-file', pw], { env: { TMPDIR: priv } });
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    expect(rows['f1.txt.aspera-env']).toMatchObject({
      status: 'ok', via: 'asunprotect', bytes: statSync(path.join(d, 'f1.txt.aspera-env')).size, detail: 'opened by asunprotect; plaintext discarded',
    });
    expect(rows['sub/f2.bin.aspera-env']).toMatchObject({ status: 'ok', via: 'asunprotect' });
    expect(rows['wp.txt.aspera-env']).toMatchObject({ status: 'tool-error', tool_exit: 3 });
    expect(listTree(d)).toEqual(before);
    expect(listTree(priv)).toEqual([]);
  });

  it('without a password: unsupported with a hint (only the tool can check it, and it needs the password); without the tool: not-envelope', () => {
    const d = foreignOnly();
    const r = aenv(['verify', d, '--json', ...TOOL()]);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    for (const f of ['f1.txt.aspera-env', 'wp.txt.aspera-env']) expect(rows[f]).toMatchObject({ status: 'unsupported' });
    const h = aenv(['verify', path.join(d, 'f1.txt.aspera-env'), ...TOOL()]);
    expect(h.stderr).toMatch(/unsupported +\S*f1\.txt\.aspera-env: foreign envelope \(no AENV magic\)[^\n]*\n +hint: [^\n]*asunprotect[^\n]*--password-file/);
    const none = aenv(['verify', d, '--json', '--password-file', pw], { env: noToolEnv(home) });
    for (const row of jsonLines(none.stdout).filter((x) => 'path' in x)) expect(row).toMatchObject({ status: 'not-envelope' });
  });
});

describe('inspect and --version', () => {
  it('inspect of a foreign file: not-envelope, its size, "foreign envelope (no AENV magic)", and whether asunprotect was found', () => {
    const f1 = path.join(src, 'f1.txt.aspera-env');
    const size = statSync(f1).size;
    const found = aenv(['inspect', f1, ...TOOL()]);
    expect(found.code).toBe(1); // not an AENV header: the exit status rule is unchanged
    expect(found.stdout).toBe([
      `${f1}: not-envelope (no AENV magic at the start)`,
      `  size            ${size} bytes`,
      '  format          foreign envelope (no AENV magic)',
      `  asunprotect     ${s.asunprotect} (from --asunprotect)`,
      '',
    ].join('\n'));
    const json = aenv(['inspect', f1, '--json'], { env: { ...noToolEnv(home), AENV_ASUNPROTECT: s.asunprotect } });
    expect(jsonLines(json.stdout)[0]).toMatchObject({ status: 'not-envelope', size, format: 'foreign', asunprotect: { found: true, path: s.asunprotect, source: 'env' } });
    const none = aenv(['inspect', f1], { env: noToolEnv(home) });
    expect(none.stdout).toMatch(/^ {2}asunprotect {5}not found \(looked in PATH and \d+ places?; --asunprotect PATH or AENV_ASUNPROTECT=PATH to name it\)$/m);
    // an AENV envelope shows no tool line
    expect(aenv(['inspect', path.join(src, 'a.txt.aspera-env'), ...TOOL()]).stdout).not.toMatch(/asunprotect/);
  });

  it('aenv doctor says which IBM tools aenv would run; --version is one line and --help names doctor (issue 22)', () => {
    const env = { ...noToolEnv(home), AENV_ASUNPROTECT: s.asunprotect };
    const d = aenv(['doctor'], { env });
    expect(d.code, d.stderr).toBe(0);
    const lines = d.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^aenv \d+\.\d+\.\d+ \(commit /);
    expect(lines).toContain(`  asunprotect: ${s.asunprotect} (from AENV_ASUNPROTECT)`);
    expect(lines.at(-1)).toMatch(/^ {2}asprotect: not found \(looked in PATH and \d+ places?; --asprotect PATH or AENV_ASPROTECT=PATH to name it\)$/);
    const v = aenv(['--version'], { env });
    expect(v.stdout.trim().split('\n')).toEqual([lines[0]]);
    const h = aenv(['--help'], { env });
    expect(h.stdout).not.toContain(s.asunprotect);
    expect(h.stdout).toMatch(/aenv doctor/);
  });
});

describe('encrypt --format ibm', () => {
  it('round trip through the stand-in: asprotect seals into aenv\'s outputs (via asprotect), asunprotect opens them back', () => {
    const p = fresh('plain');
    mkdirSync(path.join(p, 'd'), { recursive: true });
    const one = Buffer.from('one\n');
    const two = randomBytes(200_000);
    writeFileSync(path.join(p, 'one.txt'), one);
    writeFileSync(path.join(p, 'd', 'two.bin'), two);
    const enc = fresh('enc');
    const r = aenv(['encrypt', p, '-o', enc, '--format', 'ibm', '--asprotect', s.asprotect, '--json', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsBy(r.stdout, p);
    expect(rows['one.txt']).toMatchObject({ status: 'ok', via: 'asprotect', bytes: one.length, detail: 'sealed by asprotect', output: path.join(enc, 'one.txt.aspera-env') });
    expect(rows['d/two.bin']).toMatchObject({ status: 'ok', via: 'asprotect', bytes: two.length });
    expect(listTree(enc)).toEqual(['d/two.bin.aspera-env', 'one.txt.aspera-env']);
    for (const f of listTree(enc)) {
      expect(readFileSync(path.join(enc, f)).subarray(0, 8).toString('latin1'), f).toBe('ASPSTDN1'); // the stand-in's format, not AENV
      expect(mode(path.join(enc, f))).toBe(0o600);
    }
    const back = fresh('back');
    const d = aenv(['decrypt', enc, '-o', back, '--json', ...TOOL(), '--password-file', pw]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(path.join(back, 'one.txt')).equals(one)).toBe(true);
    expect(readFileSync(path.join(back, 'd', 'two.bin')).equals(two)).toBe(true);
    // in place, with --remove-source: the sources go once the envelopes are in place
    const q = fresh('plain');
    cpSync(p, q, { recursive: true });
    const rs = aenv(['encrypt', q, '--format', 'ibm', '--remove-source', '--json', '--password-file', pw], { env: { AENV_ASPROTECT: s.asprotect } });
    expect(rs.code, rs.stderr).toBe(0);
    expect(listTree(q)).toEqual(['d/two.bin.aspera-env', 'one.txt.aspera-env']);
  });

  it('usage errors: --suite, --kdf, --chunk-size or - with --format ibm; --asprotect without it; asprotect not found; a bad --tool-timeout', () => {
    const p = fresh('plain');
    mkdirSync(p);
    writeFileSync(path.join(p, 'one.txt'), 'one\n');
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--suite', 'aes-256-gcm'], {}, /--suite cannot be used with --format ibm/],
      [['--kdf', 'pbkdf2'], {}, /--kdf cannot be used with --format ibm/],
      [['--chunk-size', '64K'], {}, /--chunk-size cannot be used with --format ibm/],
      [[], noToolEnv(home), /--format ibm needs IBM's asprotect, which was not found/],
    ];
    for (const [flags, env, msg] of cases) {
      const r = aenv(['encrypt', p, '--format', 'ibm', ...flags, '--password-file', pw], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^aenv: hint: /m);
    }
    const stream = aenv(['encrypt', '-', '--format', 'ibm', '--asprotect', s.asprotect, '--password-file', pw], { input: 'x' });
    expect(stream.code).toBe(2);
    expect(stream.stderr).toMatch(/--format ibm cannot seal standard input/);
    for (const t of ['0', '-1', 'soon']) {
      const bad = aenv(['decrypt', src, '--tool-timeout', t, ...TOOL(), '--password-file', pw]);
      expect(bad.code, t).toBe(2);
      expect(bad.stderr).toMatch(/^aenv: error: --tool-timeout takes a number of seconds above 0/m);
    }
    const stray = aenv(['encrypt', p, '--asprotect', s.asprotect, '--password-file', pw]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--asprotect is used only with --format ibm/);
    expect(listTree(p)).toEqual(['one.txt']);
  });
});
