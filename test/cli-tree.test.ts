// Batch decryption of a realistic tree, from the outside (docs/CLI.md "Inputs",
// "Results", "Exit status"): nested folders, unicode and odd names, good, damaged,
// wrong-password, unsupported and plaintext files, names that would decrypt to `.`/`..`/nothing,
// symbolic links in and out of the tree and a loop. Checks -o mirroring, decryption in place,
// JSON lines, human lines with hints, --follow-symlinks, --extension, --jobs, and that no
// output ever leaves its root. The tree is built once (helpers/tree.ts) and copied per test.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aenv, jsonLines, PASSWORD, tempDir } from './helpers/cli.js';
import { BAD, buildTree, filesOf, listTree, PLAIN, WARN, WARN_PLAIN, type Tree } from './helpers/tree.js';

// Each test spawns the real CLI a few times; a loaded machine makes that slow.
vi.setConfig({ testTimeout: 30_000 });

const tmp = tempDir('aenv-tree-');
let master: Tree;
let n = 0;

beforeAll(() => {
  master = buildTree(path.join(tmp.dir, 'master'));
}, 60_000);
afterAll(() => tmp.cleanup());

/** A fresh copy of the tree. */
function copy(): Tree {
  const base = path.join(tmp.dir, `t${n++}`);
  // cp -a: links copied as links, the named pipe as a named pipe (fs.cpSync refuses pipes)
  if (spawnSync('cp', ['-a', master.base, base]).status !== 0) throw new Error('cp -a failed');
  return { base, src: path.join(base, 'src'), pw: path.join(base, 'password.txt'), otherPw: path.join(base, 'other-pw.txt') };
}

const GOOD = Object.keys(PLAIN);
const rowsByPath = (rows: Record<string, unknown>[], src: string) =>
  new Map(rows.filter((r) => 'path' in r).map((r) => [path.relative(src, r['path'] as string), r]));

describe('decrypt -o DIR mirrors the tree', () => {
  it('every good envelope lands at its mirrored path; every bad one has its status; exit 1', () => {
    const t = copy();
    const out = path.join(t.base, 'out');
    const before = listTree(t.base);
    const r = aenv(['decrypt', t.src, '-o', out, '--json', '--password-file', t.pw]);
    expect(r.code, r.stderr).toBe(1);
    const lines = jsonLines(r.stdout);
    const summary = lines.pop() as { summary: Record<string, number> };
    // issue 20: what the walk passed over is listed (its own lines) and counted, not a row
    const rows = lines.filter((x) => !('passed_over' in x));
    const passed = lines.filter((x) => 'passed_over' in x).map((x) => path.relative(t.src, String((x['passed_over'] as Record<string, unknown>)['path']))).sort();
    expect(passed).toEqual(expect.arrayContaining(['dangling.aspera-env', 'link-in.aspera-env', 'link-out.aspera-env', 'sub/dirlink', 'sub/fifo.aspera-env']));
    expect(summary.summary['passed_over']).toMatchObject({ fifo: 1 });
    const byPath = rowsByPath(rows, t.src);
    // one row per envelope, each path once (links and notes.txt not taken)
    expect(rows.length).toBe(byPath.size);
    expect([...byPath.keys()].sort()).toEqual([...GOOD.map((g) => `${g}.aspera-env`), ...Object.keys(BAD), WARN].sort());
    for (const g of GOOD) {
      const row = byPath.get(`${g}.aspera-env`)!;
      expect(row, g).toMatchObject({ status: 'ok', output: path.join(out, g), bytes: Buffer.from(PLAIN[g]!).length });
      expect(readFileSync(path.join(out, g)).equals(Buffer.from(PLAIN[g]!)), g).toBe(true);
    }
    for (const [b, want] of Object.entries(BAD)) expect(byPath.get(b)?.['status'], b).toBe(want.decrypt);
    // the damaged chunk is named, as a number and an offset (fetch again, and know where)
    expect(byPath.get('sub/bad-chunk-bitflip.aspera-env')).toMatchObject({ chunk: 1, offset: 4240 });
    // a damaged trailer alone costs nothing: ok with a warning, the authentic plaintext written
    expect(byPath.get(WARN)).toMatchObject({ status: 'ok' });
    expect(String(byPath.get(WARN)!['warning'])).toMatch(/trailer/);
    expect(readFileSync(path.join(out, 'warn-trailer-digest')).equals(WARN_PLAIN)).toBe(true);
    expect(summary.summary).toMatchObject({ ok: GOOD.length + 1, failed: Object.keys(BAD).length, skipped: 0 });
    // exactly the expected outputs, nothing else (no temporary files, no `.`/`..` games)
    expect(filesOf(listTree(out)).sort()).toEqual([...GOOD, 'warn-trailer-digest'].sort());
    // the source side is untouched: nothing written beside the envelopes, nothing removed
    expect(listTree(t.base).filter((p) => !p.startsWith('out/') && p !== 'out/')).toEqual(before);
    // the password never reaches a report
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('human output: ok lines on stdout, failures with a hint on stderr, then a summary table', () => {
    const t = copy();
    const r = aenv(['decrypt', t.src, '-o', path.join(t.base, 'out'), '--password-file', t.pw]);
    expect(r.code).toBe(1);
    const okLines = r.stdout.trim().split('\n');
    expect(okLines.length).toBe(GOOD.length + 2); // + the warning case and its warning line
    for (const l of okLines.filter((x) => !/^\s/.test(x))) expect(l).toMatch(/^ok\s+\S.* -> .*\(\d/);
    expect(r.stdout).toMatch(/warning: .*trailer/);
    // a name with a newline is shown quoted on one line, never split into two report lines
    expect(r.stdout).toContain('odd/new\\nline\\ttab.txt.aspera-env');
    const e = r.stderr;
    expect(e).toMatch(/wrong-password +\S*other\.txt\.aspera-env: wrong password[^\n]*\n +hint: [^\n]*try another password/);
    expect(e).toMatch(/corrupt +\S*bad-chunk-bitflip\.aspera-env: chunk 1 at offset 4240[^\n]*\n +hint: [^\n]*fetch it again/);
    expect(e).toMatch(/not-envelope +\S*x\.aspera-env: [^\n]*\n +hint: [^\n]*plaintext[^\n]*another tool/);
    expect(e).toMatch(/unsupported +\S*bad-version-2\.aspera-env: [^\n]*\n +hint: [^\n]*newer/);
    expect(e).toMatch(/unsupported +\S*bad-kdf-too-costly\.aspera-env: [^\n]*limits/);
    // a name that leaves no output name says so, and what to do (not "check free space")
    expect(e).toMatch(/io-error +\S*\/\.\.aspera-env: [^\n]*no usable output name[^\n]*\n +hint: [^\n]*rename/);
    // the summary table: one row per status seen, and the total
    expect(e).toMatch(/decrypt: \d+ files, /);
    expect(e).toMatch(new RegExp(`^ {2}ok +${GOOD.length + 1}$`, "m"));
    expect(e).toMatch(/^ {2}io-error +3$/m);
    expect(e).toMatch(/10 failed/);
    expect(e).not.toMatch(/\d\.\d{4,}/); // no raw float noise in rates (e.g. "114.28571428571429 B/s")
    expect(e).not.toMatch(/\x1b\[/); // no colours without a terminal
  });

  it('--follow-symlinks takes links in and out of the tree, each file once, and never loops', () => {
    const t = copy();
    const out = path.join(t.base, 'out');
    const r = aenv(['decrypt', t.src, '-o', out, '--json', '--follow-symlinks', '--password-file', t.pw], {});
    expect(r.code).toBe(1);
    const byPath = rowsByPath(jsonLines(r.stdout), t.src);
    // link-in points at a.txt.aspera-env, already taken: not twice. link-out and the folder link
    // reach the same outside file: once. The loop is not entered again; dangling links are skipped.
    expect(byPath.has('link-in.aspera-env')).toBe(false);
    expect(byPath.get('link-out.aspera-env')?.['status']).toBe('ok');
    expect(byPath.has('sub/dirlink/o.txt.aspera-env')).toBe(false);
    expect([...byPath.keys()].some((k) => k.includes('loop'))).toBe(false);
    expect(byPath.has('dangling.aspera-env')).toBe(false);
    expect(byPath.has('sub/fifo.aspera-env')).toBe(false); // a named pipe is not a regular file
    expect(readFileSync(path.join(out, 'link-out'), 'utf8')).toBe('outside the tree\n');
    // the outside folder got nothing written into it
    expect(readdirSync(path.join(t.base, 'outside'))).toEqual(['o.txt.aspera-env']);
  });

  it('refuses to write through a symbolic link found inside -o DIR', () => {
    // Bug guarded: mkdir -p through out/sub -> elsewhere would put plaintext outside DIR.
    const t = copy();
    const out = path.join(t.base, 'out');
    const elsewhere = path.join(t.base, 'elsewhere');
    mkdirSync(out);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(out, 'sub'));
    const r = aenv(['decrypt', t.src, '-o', out, '--json', '--password-file', t.pw]);
    expect(r.code).toBe(1);
    const byPath = rowsByPath(jsonLines(r.stdout), t.src);
    expect(byPath.get('sub/b.csv.aspera-env')).toMatchObject({ status: 'io-error' });
    expect(String(byPath.get('sub/b.csv.aspera-env')!['detail'])).toMatch(/symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(byPath.get('a.txt.aspera-env')?.['status']).toBe('ok');
  });
});

describe('decrypt in place (no -o)', () => {
  it('each output sits beside its envelope; bad names produce nothing; links are left alone', () => {
    const t = copy();
    const parentBefore = readdirSync(t.base).sort();
    const r = aenv(['decrypt', t.src, '--json', '--jobs', '3', '--password-file', t.pw]);
    expect(r.code).toBe(1);
    for (const g of GOOD) expect(readFileSync(path.join(t.src, g)).equals(Buffer.from(PLAIN[g]!)), g).toBe(true);
    const all = listTree(t.src);
    // no output for failures, no temporary file anywhere, envelopes kept
    expect(all.filter((p) => /\.partial$|^\.aenv-/.test(path.basename(p)))).toEqual([]);
    for (const f of ['sub/other.txt', 'sub/bad-chunk-bitflip', 'x', 'bad-version-2', 'link-in', 'link-out']) {
      expect(existsSync(path.join(t.src, f)), f).toBe(false);
    }
    for (const g of GOOD) expect(existsSync(path.join(t.src, `${g}.aspera-env`))).toBe(true);
    // `..aspera-env` did not write into src's parent, `...aspera-env` not into the grandparent
    expect(readdirSync(t.base).sort()).toEqual(parentBefore);
    // the outside folder was not written through the folder link
    expect(readdirSync(path.join(t.base, 'outside'))).toEqual(['o.txt.aspera-env']);
    // JSON lines: one per file, then exactly one summary, all parseable
    const rows = jsonLines(r.stdout);
    expect(rows.filter((x) => 'summary' in x).length).toBe(1);
    expect('summary' in rows[rows.length - 1]!).toBe(true);
  });

  it('PATH files: each output lands beside its envelope, or directly in -o DIR', () => {
    const t = copy();
    const a = path.join(t.src, 'a.txt.aspera-env');
    const b = path.join(t.src, 'sub', 'b.csv.aspera-env');
    const out = path.join(t.base, 'flat');
    const r = aenv(['decrypt', a, b, '-o', out, '--password-file', t.pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.csv']);
    const r2 = aenv(['decrypt', b, '--password-file', t.pw]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(path.join(t.src, 'sub', 'b.csv'), 'utf8')).toBe(PLAIN['sub/b.csv']);
  });

  it('a PATH with a leading dash is read after -- (and - there is a file, not standard input)', () => {
    // Bug guarded: yargs put the words after `--` into `_`, so the PATH was silently lost.
    const t = copy();
    const r = aenv(['decrypt', '--password-file', t.pw, '--', '-dash.txt.aspera-env', '--force.txt.aspera-env'], { cwd: path.join(t.src, 'odd') });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(t.src, 'odd', '-dash.txt'), 'utf8')).toBe(PLAIN['odd/-dash.txt']);
    expect(readFileSync(path.join(t.src, 'odd', '--force.txt'), 'utf8')).toBe(PLAIN['odd/--force.txt']);
  });
});

describe('selection and usage', () => {
  it('--extension picks another ending; the default then finds nothing (exit 2, hint)', () => {
    const t = copy();
    const d = path.join(t.base, 'enc');
    mkdirSync(path.join(d, 'x'), { recursive: true });
    writeFileSync(path.join(d, 'x', 'p.txt'), 'with .enc\n');
    const e = aenv(['encrypt', d, '--extension', '.enc', '--kdf', 'pbkdf2', '--password-file', t.pw, '--remove-source']);
    expect(e.code, e.stderr).toBe(0);
    expect(readdirSync(path.join(d, 'x'))).toEqual(['p.txt.enc']);
    const none = aenv(['decrypt', d, '--password-file', t.pw]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no files ending in \.aspera-env/);
    expect(none.stderr).toMatch(/--extension/);
    const r = aenv(['decrypt', d, '--extension', '.enc', '--password-file', t.pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(d, 'x', 'p.txt'), 'utf8')).toBe('with .enc\n');
  });

  it('an explicit FILE without the extension is a usage error (exit 2): its output name is unknown', () => {
    // Documented choice: rather than guess a name (or overwrite the input), decrypt refuses.
    const t = copy();
    const r = aenv(['decrypt', path.join(t.src, 'notes.txt'), '--password-file', t.pw]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not end in \.aspera-env/);
    expect(r.stderr).toMatch(/hint: .*--extension/);
  });

  it('decrypt without a password source exits 2 before touching any file', () => {
    const t = copy();
    const before = listTree(t.src);
    const r = aenv(['decrypt', t.src]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a password/);
    expect(listTree(t.src)).toEqual(before);
  });

  it('a missing PATH is a usage error (exit 2) before any work, the others untouched (issue 22: it was an io-error row, exit 1)', () => {
    const t = copy();
    const out = path.join(t.base, 'out-missing');
    const r = aenv(['decrypt', path.join(t.base, 'no-such-folder'), path.join(t.src, 'a.txt.aspera-env'), '-o', out, '--json', '--password-file', t.pw]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^aenv: error: \S*no-such-folder: no such file or folder\naenv: hint: check the PATH/);
    expect(existsSync(out)).toBe(false);
    const h = aenv(['verify', path.join(t.base, 'no-such-folder')]);
    expect(h.code).toBe(2);
    expect(h.stderr).toMatch(/hint: check the PATH/);
  });

  it('--jobs 1 and --jobs 8 print the same lines in the same order', () => {
    const t = copy();
    const one = aenv(['verify', t.src, '--jobs', '1', '--password-file', t.pw]);
    const many = aenv(['verify', t.src, '--jobs', '8', '--password-file', t.pw]);
    expect(one.code).toBe(1);
    expect(many.stdout).toBe(one.stdout);
    const strip = (s: string) => s.replace(/^verify: .*$/m, '');
    expect(strip(many.stderr)).toBe(strip(one.stderr));
  });

  it('bad --jobs and clashing flags are usage errors (exit 2)', () => {
    for (const args of [['--jobs', '0'], ['--jobs', 'x'], ['--force', '--skip-existing'], ['--no-such-flag']]) {
      const r = aenv(['decrypt', master.src, '--password-file', master.pw, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^aenv: error: /m);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
