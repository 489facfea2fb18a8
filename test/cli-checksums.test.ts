// Checksum lists from the outside (docs/batches.md "Checksum lists"): lists written by
// the real GNU `sha256sum` (plain and --tag, names with spaces, newlines and backslashes escaped
// the way it escapes them) are checked by `verify DIR --checksums` without a password, for aenv's
// envelopes and for a foreign one (sealed by the stand-in for IBM's asprotect); missing, extra and
// wrong lines are named; `--write-checksums` writes what `sha256sum` writes, byte for byte, and
// `sha256sum -c` accepts it; `decrypt --checksums` with a list of the plaintexts commits only
// outputs whose SHA-256 matches, also for a file opened by the stand-in's asunprotect.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, aenvAsync, PASSWORD, passwordFile, tempDir } from './helpers/cli.js';
import { listTree, rowsOf, temps } from './helpers/faults.js';
import { rowsBy, sealForeign } from './helpers/foreign.js';
import { installStandin, type Standin } from './helpers/standin.js';

const hasSha256sum = spawnSync('sha256sum', ['--version']).status === 0;
const tmp = tempDir('aenv-checksums-');
let s: Standin;
let pw: string;
let src: string;
let env: string;

const PLAIN: Record<string, string> = {
  'a.txt': 'alpha\n',
  'with space.txt': 'space\n',
  'new\nline.txt': 'newline\n',
  'back\\slash.txt': 'backslash\n',
  'sub/c.csv': 'id,name\n1,charlie\n',
  'sub/-dash.txt': 'dash\n',
};
const ENVS = [...Object.keys(PLAIN).map((p) => `${p}.aspera-env`), 'ibm.bin.aspera-env'];
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What `sha256sum [--tag] -- NAMES...` prints in `cwd`. */
function sha256sum(cwd: string, names: string[], tag = false): string {
  const r = spawnSync('sha256sum', [...(tag ? ['--tag'] : []), '--', ...names], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** The lines of a list, each with its end. */
const lines = (text: string): string[] => text.split(/(?<=\n)/);

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  mkdirSync(path.join(tmp.dir, 'tools'));
  s = installStandin(path.join(tmp.dir, 'tools'));
  src = path.join(tmp.dir, 'src');
  env = path.join(tmp.dir, 'env');
  for (const [rel, body] of Object.entries(PLAIN)) {
    mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    writeFileSync(path.join(src, rel), body);
  }
  const r = aenv(['encrypt', src, '-o', env, '--kdf', 'pbkdf2', '--password-file', pw]);
  if (r.code !== 0) throw new Error(r.stderr);
  sealForeign(s, 'sealed by IBM (the stand-in)\n', path.join(env, 'ibm.bin.aspera-env'), PASSWORD);
}, 60_000);
afterAll(() => {
  s?.cleanup();
  tmp.cleanup();
});

describe.skipIf(!hasSha256sum)('verify --checksums and --write-checksums (no password)', () => {
  it('a list written by sha256sum: every envelope, aenv\'s and IBM\'s, matches (exit 0)', () => {
    const list = path.join(tmp.dir, 'envs.sha256');
    writeFileSync(list, sha256sum(env, ENVS));
    const r = aenv(['verify', env, '--checksums', list, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsBy(r.stdout, env);
    for (const e of ENVS) expect(rows[e]).toMatchObject({ status: 'ok', checksum: 'ok' });
    expect(rows['a.txt.aspera-env']!['detail']).toMatch(/^structure and content digest match .*; SHA-256 matches the checksum list \(line \d+\)$/);
    expect(rows['ibm.bin.aspera-env']!['detail']).toMatch(/^SHA-256 matches the checksum list \(line 7\); no AENV magic .*only its bytes were checked$/);
    expect(rowsOf(r.stdout).summary).toMatchObject({ verify: 'passwordless', checksums: { list, ok: 7, mismatch: 0, extra: 0, missing: 0, bad_lines: 0 }, exit_status: 0 });
    // without the list the foreign file is not-envelope (no IBM tool here): the list is what checks it
    expect(aenv(['verify', env, '--json'], { env: { PATH: '/usr/bin:/bin', AENV_ASUNPROTECT: undefined } }).code).toBe(1);
  });

  it('--write-checksums writes exactly what sha256sum writes (escaped names, byte order), and sha256sum -c accepts it', () => {
    const out = path.join(tmp.dir, 'written.sha256');
    const r = aenv(['verify', env, '--write-checksums', out, '--json']);
    expect(r.code).toBe(1); // the foreign file is listed, but without IBM's tool it is not checked: not-envelope
    expect(rowsOf(r.stdout).rows.filter((x) => x['status'] !== 'ok').map((x) => [path.basename(String(x['path'])), x['status']])).toEqual([['ibm.bin.aspera-env', 'not-envelope']]);
    expect(rowsOf(r.stdout).summary['write_checksums']).toEqual({ file: out, entries: 7 });
    const expected = [...ENVS].sort(utf8Order).map((e) => sha256sum(env, [e])).join('');
    expect(readFileSync(out, 'utf8')).toBe(expected);
    expect(readFileSync(out, 'utf8')).toContain('\\'); // the newline and the backslash names are escaped as sha256sum does
    const check = spawnSync('sha256sum', ['-c', '--strict', out], { cwd: env, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('--write-checksums streams the list as the rows come: in the byte order of the paths (a folder a/ between a.txt and a0)', () => {
    const tree = path.join(tmp.dir, 'order');
    const names = ['a0.aspera-env', 'a/x.aspera-env', 'a.txt.aspera-env', 'b.aspera-env', 'a/b/c.aspera-env', 'A.aspera-env', '\u{1F600}.aspera-env', '\uFF21.aspera-env'];
    const bytes = readFileSync(path.join(env, 'a.txt.aspera-env'));
    for (const n of names) {
      mkdirSync(path.dirname(path.join(tree, n)), { recursive: true });
      writeFileSync(path.join(tree, n), bytes);
    }
    const out = path.join(tmp.dir, 'order.sha256');
    const r = aenv(['verify', tree, '--write-checksums', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const sorted = [...names].sort(utf8Order);
    expect(sorted).toEqual(['A.aspera-env', 'a.txt.aspera-env', 'a/b/c.aspera-env', 'a/x.aspera-env', 'a0.aspera-env', 'b.aspera-env', '\uFF21.aspera-env', '\u{1F600}.aspera-env']);
    expect(readFileSync(out, 'utf8')).toBe(sorted.map((n) => sha256sum(tree, [n])).join(''));
    // the rows come in the same order (the walk's)
    expect(rowsOf(r.stdout).rows.map((x) => path.relative(tree, String(x['path'])))).toEqual(sorted);
    const check = spawnSync('sha256sum', ['-c', '--strict', out], { cwd: tree, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('--write-checksums: a folder that cannot take FILE is a usage error before any work; an interrupted run leaves FILE as it was and no temporary file', async () => {
    const nowhere = aenv(['verify', env, '--write-checksums', path.join(tmp.dir, 'no-such-folder', 'x.sha256')]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).toBe('');
    expect(nowhere.stderr).toMatch(/^aenv: error: cannot write the checksum list .*x\.sha256 \(ENOENT\)\naenv: hint: /);

    const many = path.join(tmp.dir, 'many');
    mkdirSync(many);
    const bytes = readFileSync(path.join(env, 'a.txt.aspera-env'));
    for (let i = 0; i < 5000; i++) writeFileSync(path.join(many, `f${i}.aspera-env`), bytes);
    const listDir = path.join(tmp.dir, 'lists');
    mkdirSync(listDir);
    const out = path.join(listDir, 'many.sha256');
    writeFileSync(out, 'the list of an earlier run\n');
    const p = aenvAsync(['verify', many, '--write-checksums', out, '--jobs', '1']);
    let rows = 0;
    p.stdout.on('data', (d: Buffer) => (rows += d.toString().split('\n').length - 1));
    p.stderr.resume();
    const closed = new Promise<number | null>((res) => p.on('close', (c) => res(c)));
    // the temporary list exists from the start, beside FILE; interrupt once rows are coming
    while (p.exitCode === null && !(rows > 10 && temps(listDir).length === 1)) await new Promise((r) => setTimeout(r, 10));
    p.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(readFileSync(out, 'utf8')).toBe('the list of an earlier run\n');
    expect(readdirSync(listDir)).toEqual(['many.sha256']);
  }, 60_000);

  it('missing, extra and wrong lines, a bad line, the --tag form and CRLF: each named, exit 1', () => {
    const good = lines(sha256sum(env, ENVS.filter((e) => e !== 'a.txt.aspera-env'))); // a.txt not listed: extra
    const wrong = good.findIndex((l) => l.includes('sub/c.csv'));
    good[wrong] = `${'0'.repeat(64)}  sub/c.csv.aspera-env\n`; // wrong digest
    const tagged = good.findIndex((l) => l.includes('with space'));
    good[tagged] = sha256sum(env, ['with space.txt.aspera-env'], true); // SHA256 (name) = hex
    const crlf = good.findIndex((l) => l.includes('-dash'));
    good[crlf] = good[crlf]!.replace('\n', '\r\n');
    good.push(`${'1'.repeat(64)}  gone.txt.aspera-env\n`, 'not a checksum line\n');
    const list = path.join(tmp.dir, 'tampered.sha256');
    writeFileSync(list, good.join(''));
    const r = aenv(['verify', env, '--checksums', list, '--json']);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, env);
    expect(rows['a.txt.aspera-env']).toMatchObject({ status: 'ok', checksum: 'extra', warning: 'not in the checksum list' });
    expect(rows['sub/c.csv.aspera-env']).toMatchObject({ status: 'corrupt', checksum: 'mismatch', detail: expect.stringMatching(new RegExp(`^SHA-256 [0-9a-f]{64} differs from 0{64} in the checksum list \\(line ${wrong + 1}\\)$`)) });
    expect(rows['with space.txt.aspera-env']).toMatchObject({ status: 'ok', checksum: 'ok' });
    expect(rows['sub/-dash.txt.aspera-env']).toMatchObject({ status: 'ok', checksum: 'ok' });
    expect(rows['gone.txt.aspera-env']).toMatchObject({ status: 'missing', checksum: 'missing', detail: `listed in the checksum list (line ${good.length - 1}) but not present` });
    expect(r.stderr).toContain(`aenv: ${list}: ${good.length}: improperly formatted SHA256 checksum line`);
    expect(rowsOf(r.stdout).summary).toMatchObject({ checksums: { ok: 5, mismatch: 1, extra: 1, missing: 1, bad_lines: 1 }, exit_status: 1 });
    const human = aenv(['verify', env, '--checksums', list]);
    expect(human.stderr).toMatch(/checksums: .*tampered\.sha256 does not match \(1 mismatch, 1 extra, 1 missing, 1 bad line; 5 ok\)/);
  });

  it('a list whose only problem is an extra file still fails (exit 1); a list naming a file twice with two digests is an error', () => {
    const list = path.join(tmp.dir, 'short.sha256');
    writeFileSync(list, sha256sum(env, ENVS.slice(1)));
    expect(aenv(['verify', env, '--checksums', list]).code).toBe(1);
    const twice = path.join(tmp.dir, 'twice.sha256');
    writeFileSync(twice, sha256sum(env, ENVS) + `${'2'.repeat(64)}  ./a.txt.aspera-env\n`);
    const r = aenv(['verify', env, '--checksums', twice, '--json']);
    expect(r.code).toBe(1);
    expect(rowsBy(r.stdout, env)['a.txt.aspera-env']).toMatchObject({ status: 'corrupt', checksum: 'mismatch', detail: expect.stringMatching(/gives this file different digests \(lines 1, 8\)/) });
  });

  it('usage errors: two PATHs, no folder, an unreadable list', () => {
    expect(aenv(['verify', env, src, '--checksums', path.join(tmp.dir, 'envs.sha256')]).code).toBe(2);
    expect(aenv(['verify', path.join(env, 'a.txt.aspera-env'), '--checksums', path.join(tmp.dir, 'envs.sha256')]).stderr).toMatch(/--checksums needs exactly one folder PATH/);
    const r = aenv(['verify', env, '--checksums', path.join(tmp.dir, 'no-such.sha256')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aenv: error: cannot read the checksum list .*no-such\.sha256 \(ENOENT\)\naenv: hint: /);
  });
});

describe.skipIf(!hasSha256sum)('decrypt --checksums: the plaintexts are checked before they are committed', () => {
  const plainList = (dir: string): string => sha256sum(dir, Object.keys(PLAIN));
  const run = (out: string, list: string, ...extra: string[]) => aenv(['decrypt', env, '-o', out, '--checksums', list, '--json', '--password-file', pw, '--asunprotect', s.asunprotect, ...extra]);

  it('a list of the plaintexts made by sha256sum: every output committed (exit 0)', () => {
    const list = path.join(tmp.dir, 'plain.sha256');
    writeFileSync(list, plainList(src) + sha256sumOf('ibm.bin', 'sealed by IBM (the stand-in)\n'));
    const out = path.join(tmp.dir, 'plain-ok');
    const r = run(out, list);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rows = rowsBy(r.stdout, env);
    expect(rows['a.txt.aspera-env']).toMatchObject({ status: 'ok', checksum: 'ok', detail: expect.stringMatching(/; plaintext SHA-256 matches the checksum list \(line \d\)$/) });
    expect(rows['ibm.bin.aspera-env']).toMatchObject({ status: 'ok', via: 'asunprotect', checksum: 'ok' });
    expect(listTree(out).sort()).toEqual([...Object.keys(PLAIN), 'ibm.bin'].sort());
  });

  it('a wrong digest: that output is not committed (corrupt, nothing left), also for IBM\'s tool; missing and extra named; exit 1', () => {
    const good = lines(plainList(src));
    const wrong = good.findIndex((l) => l.includes('new\\nline')); // sha256sum escapes the name: the line starts with a backslash
    expect(good[wrong]!.startsWith('\\')).toBe(true);
    good[wrong] = `\\${'3'.repeat(64)}  new\\nline.txt\n`;
    const dash = good.findIndex((l) => l.includes('-dash'));
    good.splice(dash, 1); // not listed: extra
    good.push(sha256sumOf('ibm.bin', 'not what IBM sealed\n'), `${'4'.repeat(64)}  sub/gone.txt\n`);
    const list = path.join(tmp.dir, 'plain-bad.sha256');
    writeFileSync(list, good.join(''));
    const out = path.join(tmp.dir, 'plain-bad');
    const r = run(out, list);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, env);
    expect(rows['new\nline.txt.aspera-env']).toMatchObject({
      status: 'corrupt', checksum: 'mismatch',
      detail: expect.stringMatching(new RegExp(`^plaintext SHA-256 [0-9a-f]{64} differs from 3{64} in the checksum list \\(line ${wrong + 1}\\): the envelope opened intact, so the list and the plaintext differ; the output was not committed$`)),
    });
    expect(existsSync(path.join(out, 'new\nline.txt'))).toBe(false);
    expect(rows['ibm.bin.aspera-env']).toMatchObject({ status: 'corrupt', via: 'asunprotect', checksum: 'mismatch' });
    expect(existsSync(path.join(out, 'ibm.bin'))).toBe(false);
    expect(rows['sub/-dash.txt.aspera-env']).toMatchObject({ status: 'ok', checksum: 'extra', warning: 'plaintext not in the checksum list' });
    expect(rows['sub/gone.txt.aspera-env']).toMatchObject({ status: 'missing', output: path.join(out, 'sub', 'gone.txt') });
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(temps(out)).toEqual([]);
    expect(rowsOf(r.stdout).summary).toMatchObject({ checksums: { mismatch: 2, extra: 1, missing: 1 }, exit_status: 1 });
    // issue 20: people are told the list and the plaintext differ, not that the envelope is damaged
    const human = aenv(['decrypt', env, '-o', `${out}-human`, '--checksums', list, '--password-file', pw, '--asunprotect', s.asunprotect]);
    expect(human.stderr).toMatch(/^corrupt +.*new\\nline\.txt\.aspera-env": plaintext SHA-256 .*\n +hint: the envelope is intact and authentic: check that the checksum list is of these files/m);
    expect(human.stderr).not.toMatch(/new\\nline.*\n +hint: the envelope is damaged/);
  });
});

function sha256sumOf(name: string, body: string): string {
  const d = path.join(tmp.dir, `one-${name}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, name), body);
  return sha256sum(d, [name]);
}
