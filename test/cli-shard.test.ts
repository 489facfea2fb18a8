// One tree on many machines (docs/batches.md "Sharding", "Inputs from a list", "Merging
// reports"), from the outside: N `--shard K/N` runs into one shared output tree produce exactly
// the outputs of one unsharded run, byte for byte, each file in exactly one part, each part the one
// the documented shell rule computes; `aenv report` of their --json reports exits 0, and 1 when a
// part is missing, cut short or failed; a sealed manifest checked by shards names a deleted file
// in one part only; `--files-from` lists from the real `find -print0` with odd names, on standard
// input and in a file, alone and sharded, give the same outputs. A part interrupted by SIGINT keeps
// its part in its report's summary, and `aenv report` says how far it got (and that a rerun
// superseded it) rather than calling it missing or blaming a manifest.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aenv, aenvAsync, BIN, passwordFile, tempDir } from './helpers/cli.js';
import { listTree, rowsOf, sha256 } from './helpers/faults.js';

// Most tests run aenv several times: more than vitest's default 5 s on a busy 2-core machine.
vi.setConfig({ testTimeout: 60_000 });

const tmp = tempDir('aenv-shard-');
afterAll(() => tmp.cleanup());
const N = 4;
let pw: string;
let tree: string;
let whole: string;
let wholeRows: string[];

/** Plaintexts: nested folders and odd names (spaces, a newline, a backslash, a quote, unicode). */
function names(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 24; i++) out.push(`${['', 'a/', 'a/b/', 'c d/'][i % 4]}file ${i}.txt`);
  out.push('odd/new\nline.txt', 'odd/back\\slash.txt', "odd/it's.txt", 'odd/ünï 日本.txt', 'odd/-dash.txt');
  return out;
}

/** Every file under `dir`: relative path -> SHA-256. */
function contents(dir: string): Record<string, string> {
  return Object.fromEntries(listTree(dir).map((f) => [f, sha256(path.join(dir, f))]));
}

const decrypt = (args: string[], input?: string | Buffer) => aenv(['decrypt', ...args, '--json', '--password-file', pw], input !== undefined ? { input } : {});

/** The part of `rel` among `n`, computed by the shell rule of docs/batches.md "Sharding" (bash, sha256sum, cut). */
function shellPart(rel: string, n: number): number {
  const r = spawnSync('bash', ['-c', 'h=$(printf \'%s\' "$1" | sha256sum | cut -c1-12); echo $(( 0x$h % $2 + 1 ))', 'rule', rel, String(n)], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  const src = path.join(tmp.dir, 'src');
  for (const [i, n] of names().entries()) {
    mkdirSync(path.dirname(path.join(src, n)), { recursive: true });
    writeFileSync(path.join(src, n), `plaintext ${i}: ${n}\n`.repeat(i + 1));
  }
  tree = path.join(tmp.dir, 'tree');
  const r = aenv(['encrypt', src, '-o', tree, '--kdf', 'pbkdf2', '--password-file', pw]);
  if (r.code !== 0) throw new Error(r.stderr);
  whole = path.join(tmp.dir, 'whole');
  const w = decrypt([tree, '-o', whole]);
  if (w.code !== 0) throw new Error(w.stderr);
  wholeRows = rowsOf(w.stdout).rows.map((x) => String(x['path'])).sort();
}, 60_000);

describe('--shard K/N', () => {
  const reports = path.join(tmp.dir, 'reports');
  const shared = path.join(tmp.dir, 'shared');

  beforeAll(() => {
    mkdirSync(reports);
    for (let k = 1; k <= N; k++) {
      const r = decrypt([tree, '-o', shared, '--shard', `${k}/${N}`, '--skip-existing']);
      writeFileSync(path.join(reports, `part-${k}.jsonl`), r.stdout);
      if (r.code !== 0) throw new Error(`part ${k}: ${r.stderr}`);
    }
  }, 60_000);

  it('N parts into one output tree give exactly the outputs of one unsharded run, byte for byte', () => {
    expect(contents(shared)).toEqual(contents(whole));
    expect(Object.keys(contents(whole))).toHaveLength(names().length);
  });

  it('the parts are disjoint and cover the tree; each file is in the part docs/batches.md\'s shell rule computes', () => {
    const seen: string[] = [];
    for (let k = 1; k <= N; k++) {
      const { rows, summary } = rowsOf(readFileSync(path.join(reports, `part-${k}.jsonl`), 'utf8'));
      expect(summary).toMatchObject({ shard: `${k}/${N}`, exit_status: 0 });
      expect(rows.length).toBeGreaterThan(0); // 29 files in 4 parts: none is empty here
      for (const row of rows) {
        const rel = path.relative(tree, String(row['path'])).split(path.sep).join('/');
        expect(shellPart(rel, N)).toBe(k);
        seen.push(String(row['path']));
      }
    }
    expect(seen.sort()).toEqual(wholeRows);
  });

  it('aenv report merges the parts: exit 0, the summary counts every file once', () => {
    const files = Array.from({ length: N }, (_, i) => path.join(reports, `part-${i + 1}.jsonl`));
    const r = aenv(['report', ...files, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout)['summary'];
    expect(s).toMatchObject({ ok: names().length, failed: 0, skipped: 0, reports: N, shards: N, duplicates: 0, truncated: 0, exit_status: 0 });
    const human = aenv(['report', ...files]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^report: 4 reports \\(4 parts\\), ${names().length} files, `));
    expect(human.stdout).toMatch(/report: every run succeeded and the set of reports is complete/);
    const stdin = aenv(['report', '-', ...files.slice(1)], { input: readFileSync(files[0]!) });
    expect(stdin.code).toBe(0);
  });

  it('aenv report exits 1 when a part is missing, cut short, run twice, or failed', () => {
    const files = Array.from({ length: N }, (_, i) => path.join(reports, `part-${i + 1}.jsonl`));
    const lacking = aenv(['report', ...files.filter((f) => !f.endsWith('part-3.jsonl'))]);
    expect(lacking.code).toBe(1);
    expect(lacking.stdout).toMatch(/no report for part 3 of 4/);
    const cut = path.join(tmp.dir, 'cut.jsonl');
    writeFileSync(cut, readFileSync(files[1]!, 'utf8').split('\n').filter((l) => l && !l.startsWith('{"summary"')).join('\n') + '\n');
    const c = aenv(['report', files[0]!, cut, files[2]!, files[3]!]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/cut\.jsonl: no summary line after \d+ rows?: the run was cut short/);
    const twice = aenv(['report', ...files, files[0]!]);
    expect(twice.code).toBe(1);
    expect(twice.stdout).toMatch(/part 1\/4 is in 2 reports/);
    // a part in which a file failed: the merged report names it and exits 1
    const bad = path.join(tmp.dir, 'bad-tree');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'x.aspera-env'), 'plaintext, not an envelope\n');
    const parts = [1, 2].map((k) => {
      const r = aenv(['verify', bad, '--shard', `${k}/2`, '--json']);
      const f = path.join(tmp.dir, `bad-${k}.jsonl`);
      writeFileSync(f, r.stdout);
      return f;
    });
    const failed = aenv(['report', ...parts]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^ {2}not-envelope +1$/m);
    expect(failed.stdout).toMatch(/^not-envelope +.*x\.aspera-env \(part [12] of 2\): no AENV magic/m); // the row names its part
  });

  it('usage errors: a part outside 1..N, not K/N', () => {
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1']) {
      const r = aenv(['verify', tree, '--shard', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/aenv: error: --shard .*\naenv: hint: /);
    }
  });
});

describe('an interrupted part (issue 20)', () => {
  it('SIGINT in the middle of a part: its report says the part and how far it got; aenv report says so, and a rerun supersedes it', async () => {
    // a tree whose part K holds small files (walked first) and a large one (walked last)
    const src = path.join(tmp.dir, 'int-src');
    mkdirSync(src);
    for (let i = 0; i < 12; i++) writeFileSync(path.join(src, `s${String(i).padStart(2, '0')}.txt`), `small ${i}\n`);
    writeFileSync(path.join(src, 'zz-large.bin'), randomBytes(48 * 1024 * 1024));
    const enc = path.join(tmp.dir, 'int-enc');
    expect(aenv(['encrypt', src, '-o', enc, '--kdf', 'pbkdf2', '--password-file', pw, '-q']).code).toBe(0);
    const k = shellPart('zz-large.bin.aspera-env', 2);
    const out = path.join(tmp.dir, 'int-out');
    const reports = path.join(tmp.dir, 'int-reports');
    mkdirSync(reports);
    // the pure-JS backend is slow enough that the large file is still being written when SIGINT comes
    const child = aenvAsync(['decrypt', enc, '-o', out, '--shard', `${k}/2`, '--json', '--backend', 'noble', '--jobs', '1', '--password-file', pw]);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const partial = (): boolean => existsSync(out) && readdirSync(out).some((n) => n.endsWith('.partial') && statSync(path.join(out, n)).size > 0);
    const deadline = Date.now() + 60_000;
    while (!partial() && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(partial(), 'the large file was being written').toBe(true);
    child.kill('SIGINT');
    expect(await done).toBe(130);
    const { rows, summary } = rowsOf(stdout);
    const small = names12().filter((n) => shellPart(`${n}.aspera-env`, 2) === k).length;
    expect(rows).toHaveLength(small); // every small file of the part, not the large one
    expect(summary).toMatchObject({ interrupted: true, shard: `${k}/2`, files_done: small, ok: small, failed: 0, exit_status: 130 });
    writeFileSync(path.join(reports, `part-${k}.jsonl`), stdout);
    const other = decrypt([enc, '-o', out, '--shard', `${3 - k}/2`]);
    expect(other.code, other.stderr).toBe(0);
    writeFileSync(path.join(reports, `part-${3 - k}.jsonl`), other.stdout);
    const files = [1, 2].map((p) => path.join(reports, `part-${p}.jsonl`));
    const merged = aenv(['report', ...files]);
    expect(merged.code).toBe(1);
    expect(merged.stdout).toContain(`${files[k - 1]}: ${small + 1}: part ${k} of 2 was interrupted after ${small} file${small === 1 ? '' : 's'} (exit status 130): `);
    expect(merged.stdout).not.toMatch(/no report for part|did not match its manifest|though no file failed/);
    expect(JSON.parse(aenv(['report', '--json', ...files]).stdout)['summary']).toMatchObject({ interrupted: 1, shards: 2, failed: 0, exit_status: 1 });
    // the part run again: the finished report supersedes the interrupted one, which is named
    const again = decrypt([enc, '-o', out, '--shard', `${k}/2`, '--skip-existing']);
    expect(again.code, again.stderr).toBe(0);
    const rerun = path.join(reports, `part-${k}.rerun.jsonl`);
    writeFileSync(rerun, again.stdout);
    const all = aenv(['report', ...files, rerun]);
    expect(all.code, all.stdout).toBe(0);
    expect(all.stdout).toMatch(/^report: 3 reports \(2 parts, 1 superseded\), 13 files, /);
    expect(all.stdout).toContain(`warning: ${files[k - 1]}: ${small + 1}: part ${k} of 2 again in ${rerun}, which ran the part to its end: this report is not counted`);
    expect(readFileSync(path.join(out, 'zz-large.bin')).equals(readFileSync(path.join(src, 'zz-large.bin')))).toBe(true);
  }, 120_000);
});

/** The small files of the interrupted-part tree. */
function names12(): string[] {
  return Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}.txt`);
}

describe('a manifest checked by shards', () => {
  it('a deleted file is missing in its own part only; every part checks the rest against the whole manifest', () => {
    const sealed = path.join(tmp.dir, 'sealed');
    const r = aenv(['encrypt', path.join(tmp.dir, 'src'), '-o', sealed, '--manifest', '--kdf', 'pbkdf2', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    rmSync(path.join(sealed, 'a', 'file 1.txt.aspera-env'));
    const owner = shellPart('a/file 1.txt.aspera-env', 3);
    const files: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const v = aenv(['verify', sealed, '--shard', `${k}/3`, '--json', '--password-file', pw]);
      const { rows, summary } = rowsOf(v.stdout);
      const missing = rows.filter((x) => x['status'] === 'missing');
      expect(missing.length, `part ${k}`).toBe(k === owner ? 1 : 0);
      expect(v.code).toBe(k === owner ? 1 : 0);
      expect(summary).toMatchObject({ exit_status: k === owner ? 1 : 0, batch: { manifest: 'ok' } });
      files.push(path.join(tmp.dir, `m-${k}.jsonl`));
      writeFileSync(files.at(-1)!, v.stdout);
    }
    const merged = aenv(['report', ...files, '--json']);
    expect(merged.code).toBe(1);
    expect(JSON.parse(merged.stdout)['summary']).toMatchObject({ failed: 1, duplicates: 0, by_status: { missing: 1 } }); // the manifest is verified by one part only
  });
});

describe('--files-from', () => {
  /** `find . -name '*.aspera-env' -print0` run in `dir`. */
  const find0 = (dir: string): Buffer => spawnSync('find', ['.', '-name', '*.aspera-env', '-print0'], { cwd: dir }).stdout;

  it('a NUL-separated list from the real find -print0 on standard input: the same outputs as the tree, folders kept', () => {
    const list = find0(tree);
    expect(list.includes(Buffer.from('odd/new\nline.txt.aspera-env'))).toBe(true);
    const out = path.join(tmp.dir, 'ff-stdin');
    const r = aenv(['decrypt', '--files-from', '-', '-0', '-o', out, '--json', '--password-file', pw], { cwd: tree, input: list });
    expect(r.code, r.stderr).toBe(0);
    expect(contents(out)).toEqual(contents(whole));
  });

  it('the same list in a file, run in N shards: the union is the whole, each part the shell rule\'s', () => {
    const listFile = path.join(tmp.dir, 'list0');
    writeFileSync(listFile, find0(tree));
    const out = path.join(tmp.dir, 'ff-shards');
    for (let k = 1; k <= 3; k++) {
      const r = aenv(['decrypt', '--files-from', listFile, '-0', '-o', out, '--shard', `${k}/3`, '--json', '--password-file', pw], { cwd: tree });
      expect(r.code, r.stderr).toBe(0);
      for (const row of rowsOf(r.stdout).rows) expect(shellPart(String(row['path']).replace(/^\.\//, ''), 3)).toBe(k);
    }
    expect(contents(out)).toEqual(contents(whole));
  });

  it('a list in a pipe (bash\'s <(find ...)) is read once: every file, no pass before the run', () => {
    const r = spawnSync('bash', ['-c', '"$0" "$1" verify --files-from <(find . -name \'*.aspera-env\' -print0) -0 --json', process.execPath, BIN], { cwd: tree, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(rowsOf(r.stdout).rows).toHaveLength(names().length);
  });

  it('one path per line; a listed path that is not there is an io-error row with its name, the others still run', () => {
    const listFile = path.join(tmp.dir, 'list-lines');
    writeFileSync(listFile, 'file 0.txt.aspera-env\r\n\na/file 1.txt.aspera-env\nno-such.aspera-env\n');
    const out = path.join(tmp.dir, 'ff-lines');
    const r = aenv(['verify', '--files-from', listFile, '--json'], { cwd: tree });
    expect(r.code).toBe(1);
    const rows = rowsOf(r.stdout).rows;
    expect(rows.map((x) => [x['path'], x['status']])).toEqual([['file 0.txt.aspera-env', 'ok'], ['a/file 1.txt.aspera-env', 'ok'], ['no-such.aspera-env', 'io-error']]);
    expect(decrypt(['--files-from', listFile, '-o', out]).code).toBe(1);
  });

  it('usage errors: a newline list given -0, -0 without --files-from, an unreadable list; an output that is another listed input', () => {
    const lines = path.join(tmp.dir, 'nl-list');
    writeFileSync(lines, 'a\nb\n');
    const r = aenv(['verify', '--files-from', lines, '-0'], { cwd: tree });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aenv: error: --files-from .*: the list holds no NUL byte but has line breaks: it looks newline-separated\naenv: hint: drop -0/);
    expect(aenv(['verify', tree, '-0']).stderr).toMatch(/aenv: error: -0 is for --files-from lists/);
    expect(aenv(['verify', '--files-from', path.join(tmp.dir, 'nope')]).code).toBe(2);
    // x.aspera-env.aspera-env decrypts to x.aspera-env, which the list names too: refused before any work
    const d = path.join(tmp.dir, 'double');
    mkdirSync(d);
    writeFileSync(path.join(d, 'x'), 'inner\n');
    expect(aenv(['encrypt', path.join(d, 'x'), '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source']).code).toBe(0);
    renameSync(path.join(d, 'x.aspera-env'), path.join(d, 'inner'));
    expect(aenv(['encrypt', path.join(d, 'inner'), '--kdf', 'pbkdf2', '--password-file', pw]).code).toBe(0); // an envelope sealed once more
    renameSync(path.join(d, 'inner'), path.join(d, 'x.aspera-env'));
    renameSync(path.join(d, 'inner.aspera-env'), path.join(d, 'x.aspera-env.aspera-env'));
    const list = path.join(tmp.dir, 'double-list');
    writeFileSync(list, 'x.aspera-env.aspera-env\nx.aspera-env\n');
    const before = listTree(d);
    const u = aenv(['decrypt', '--files-from', list, '--force', '--password-file', pw], { cwd: d });
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/the output of x\.aspera-env\.aspera-env would be x\.aspera-env, which is another input of this run/);
    expect(listTree(d)).toEqual(before);
  }, 60_000);
});
