// Issue 20, "the output tree is the truth": `decrypt` of a tree sealed with `encrypt --manifest`
// writes each plaintext under the name the manifest lists for its envelope (docs/CLI.md
// "Batches"). Each tampering is done for real on a copy of a real sealed tree (mv, cp of another
// run's envelope, cp of a copy); then every listed name of the output tree must hold exactly
// its sealed plaintext (compared byte for byte) or be absent, the rows, the summary's counts and
// the exit status must agree, and verify must call every misplaced envelope batch-mismatch.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, passwordFile, tempDir } from './helpers/cli.js';
import { listTree, rowsOf } from './helpers/faults.js';
import { rowsBy } from './helpers/foreign.js';

const tmp = tempDir('aenv-batch-truth-');
afterAll(() => tmp.cleanup());

const PLAIN: Record<string, Buffer> = {
  'adduser/README.gz': Buffer.alloc(5389, 1),
  'adduser/TODO': Buffer.from('todo: everything\n'),
  'adduser/copyright': Buffer.from('(c) someone\n'),
  'bash/README': Buffer.alloc(70_000, 3), // two chunks
  'bash/NEWS': Buffer.from('news\n'),
  'odd/with space': Buffer.from('space\n'),
};

let pw: string;
let sealed: string;
let older: string;
let n = 0;

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  const src = path.join(tmp.dir, 'src');
  for (const [rel, body] of Object.entries(PLAIN)) {
    mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    writeFileSync(path.join(src, rel), body);
  }
  sealed = path.join(tmp.dir, 'sealed');
  older = path.join(tmp.dir, 'older');
  for (const [out, extra] of [[sealed, ['--manifest']], [older, []]] as const) {
    const r = aenv(['encrypt', src, '-o', out, ...extra, '--kdf', 'pbkdf2', '--password-file', pw]);
    if (r.code !== 0) throw new Error(`encrypt failed: ${r.stdout}${r.stderr}`);
  }
}, 120_000);

function copy(): string {
  const d = path.join(tmp.dir, `copy-${n++}`);
  cpSync(sealed, d, { recursive: true });
  return d;
}

const env = (rel: string): string => `${rel}.aspera-env`;

/** Swaps the envelopes of adduser/README.gz and adduser/TODO (mv, as the user did). */
function swap(d: string): void {
  renameSync(path.join(d, env('adduser/README.gz')), path.join(d, 'x'));
  renameSync(path.join(d, env('adduser/TODO')), path.join(d, env('adduser/README.gz')));
  renameSync(path.join(d, 'x'), path.join(d, env('adduser/TODO')));
}

/** Every listed name in `out` holds exactly its sealed plaintext, or is absent; nothing else is there. */
function onlySealedContent(out: string, absent: string[] = []): void {
  for (const [rel, body] of Object.entries(PLAIN)) {
    const p = path.join(out, rel);
    if (absent.includes(rel)) expect(existsSync(p), `${rel} must not be written`).toBe(false);
    else expect(readFileSync(p).equals(body), `${rel} holds its sealed content`).toBe(true);
  }
  expect(listTree(out).filter((f) => !(f in PLAIN))).toEqual([]);
}

/** The summary's counts are the rows', and the exit status agrees with them and the batch. */
function agree(stdout: string, code: number | null): Record<string, unknown> {
  const { rows, summary } = rowsOf(stdout);
  const count = (s: string): number => rows.filter((r) => r['status'] === s).length;
  const failed = rows.filter((r) => r['status'] !== 'ok' && r['status'] !== 'skipped').length;
  expect(summary).toMatchObject({ ok: count('ok'), skipped: count('skipped'), failed, exit_status: code });
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r['status'] as string] = (byStatus[r['status'] as string] ?? 0) + 1;
  expect(summary['by_status']).toEqual(byStatus);
  return summary;
}

/** A fresh copy of the sealed tree, changed by `change`, then decrypted (the tree no longer matches: exit 1). */
function tampered(change: (d: string) => void) {
  const d = copy();
  change(d);
  const r = decrypt(d);
  expect(r.code).toBe(1);
  return { d, r };
}

function decrypt(d: string, ...extra: string[]) {
  const out = path.join(tmp.dir, `out-${n++}`);
  const r = aenv(['decrypt', d, '-o', out, '--json', '--password-file', pw, ...extra]);
  return { ...r, out, rows: rowsBy(r.stdout, d), summary: agree(r.stdout, r.code) };
}

describe('decrypt of a tampered tree with a manifest: every listed name holds exactly its sealed content', () => {
  for (const jobs of ['1', '4']) {
    it(`swapped (mv a <-> b): each plaintext under its sealed name, rows ok with a warning naming both (--jobs ${jobs})`, () => {
      const d = copy();
      swap(d);
      const r = decrypt(d, '--jobs', jobs);
      expect(r.code).toBe(1);
      onlySealedContent(r.out);
      expect(r.rows[env('adduser/README.gz')]).toMatchObject({
        status: 'ok', output: path.join(r.out, 'adduser/TODO'), batch: 'swapped',
        warning: 'found as "adduser/README.gz.aspera-env" but sealed as "adduser/TODO.aspera-env": its plaintext was written under its sealed name',
      });
      expect(r.rows[env('adduser/TODO')]).toMatchObject({ status: 'ok', output: path.join(r.out, 'adduser/README.gz'), batch: 'swapped' });
      expect(r.summary).toMatchObject({ failed: 0, batch: { matches: false, swapped: 2 } });
    });
  }

  it('renamed (mv into another folder): written under its sealed name; without -o beside its sealed name', () => {
    const { d, r } = tampered((d) => {
      renameSync(path.join(d, env('bash/NEWS')), path.join(d, 'adduser', 'NEWS-moved.aspera-env'));
    });
    onlySealedContent(r.out);
    expect(r.rows['adduser/NEWS-moved.aspera-env']).toMatchObject({ status: 'ok', output: path.join(r.out, 'bash/NEWS'), batch: 'renamed' });
    // beside the envelopes: the plaintext lands at the sealed name's place in the tree
    const b = aenv(['decrypt', d, '--json', '--password-file', pw]);
    expect(b.code).toBe(1);
    agree(b.stdout, b.code);
    expect(readFileSync(path.join(d, 'bash/NEWS')).equals(PLAIN['bash/NEWS']!)).toBe(true);
    expect(existsSync(path.join(d, 'adduser/NEWS-moved'))).toBe(false);
  });

  it('replaced (an older run\'s envelope under a listed name): batch-mismatch, nothing of it committed', () => {
    const { d, r } = tampered((d) => {
      cpSync(path.join(older, env('adduser/copyright')), path.join(d, env('adduser/copyright')));
    });
    onlySealedContent(r.out, ['adduser/copyright']);
    expect(r.rows[env('adduser/copyright')]).toMatchObject({ status: 'batch-mismatch', batch: 'replaced', bytes: 0 });
    expect(r.rows[env('adduser/copyright')]!['output']).toBeUndefined();
    expect(r.summary).toMatchObject({ failed: 1, by_status: { 'batch-mismatch': 1 } });
    // people see it as a failure with a hint, and the summary says how the tree differs
    const h = aenv(['decrypt', d, '-o', path.join(tmp.dir, `h-${n++}`), '--password-file', pw]);
    expect(h.stderr).toMatch(/^batch-mismatch +.*adduser\/copyright\.aspera-env: another envelope .*nothing of it was committed\n.*batch: replaced.*\n +hint: /m);
    expect(h.stderr).toMatch(/batch: does not match the manifest \(1 replaced\)\n +1 failed/);
  });

  it('extra (an envelope the batch never sealed): batch-mismatch, not committed', () => {
    const { d, r } = tampered((d) => {
      cpSync(path.join(older, env('bash/NEWS')), path.join(d, 'bash', 'NEWS-extra.aspera-env'));
    });
    onlySealedContent(r.out);
    expect(r.rows['bash/NEWS-extra.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'extra' });
    expect(existsSync(path.join(r.out, 'bash/NEWS-extra'))).toBe(false);
  });

  it('duplicate (a copy beside the one in place): the copy skipped, counted, its plaintext written once', () => {
    const { d, r } = tampered((d) => {
      cpSync(path.join(d, env('bash/README')), path.join(d, 'bash', 'README copy.aspera-env'));
    });
    onlySealedContent(r.out);
    expect(r.rows['bash/README copy.aspera-env']).toMatchObject({ status: 'skipped', batch: 'duplicate', detail: expect.stringMatching(/^a copy of the envelope sealed as "bash\/README\.aspera-env", which is in its place/) });
    expect(r.summary).toMatchObject({ skipped: 1, failed: 0, batch: { duplicate: 1 } });
  });

  it('two copies of a moved envelope, none in its place: one decrypted (renamed), the other skipped (duplicate), whatever the lanes did', () => {
    const d = copy();
    renameSync(path.join(d, env('adduser/TODO')), path.join(d, 'odd', 'TODO-1.aspera-env'));
    cpSync(path.join(d, 'odd', 'TODO-1.aspera-env'), path.join(d, 'odd', 'TODO-2.aspera-env'));
    const r = decrypt(d, '--jobs', '4');
    expect(r.code).toBe(1);
    onlySealedContent(r.out);
    const pair = [r.rows['odd/TODO-1.aspera-env']!, r.rows['odd/TODO-2.aspera-env']!];
    const done = pair.find((x) => x['status'] === 'ok')!;
    const skipped = pair.find((x) => x['status'] === 'skipped')!;
    expect(done).toMatchObject({ batch: 'renamed', output: path.join(r.out, 'adduser/TODO') });
    expect(skipped).toMatchObject({ batch: 'duplicate' });
  });

  it('--skip-existing over a swapped tree: an output is skipped by its sealed name', () => {
    const d = copy();
    swap(d);
    const first = decrypt(d);
    const again = aenv(['decrypt', d, '-o', first.out, '--json', '--skip-existing', '--password-file', pw]);
    agree(again.stdout, again.code);
    expect(rowsBy(again.stdout, d)[env('adduser/TODO')]).toMatchObject({ status: 'skipped', output: path.join(first.out, 'adduser/README.gz') });
    onlySealedContent(first.out);
  });
});

describe('verify of a tampered tree: every envelope not in its sealed place is batch-mismatch', () => {
  it('swapped, renamed, replaced, extra and duplicate at once: five kinds, each a failed row; the summary agrees', () => {
    const d = copy();
    swap(d);
    renameSync(path.join(d, env('bash/NEWS')), path.join(d, 'bash', 'NEWS2.aspera-env'));
    cpSync(path.join(older, env('adduser/copyright')), path.join(d, env('adduser/copyright')));
    cpSync(path.join(older, env('odd/with space')), path.join(d, 'odd', 'extra.aspera-env'));
    cpSync(path.join(d, env('bash/README')), path.join(d, 'bash', 'README copy.aspera-env'));
    const r = aenv(['verify', d, '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    const s = agree(r.stdout, r.code);
    const rows = rowsBy(r.stdout, d);
    for (const [p, kind] of [[env('adduser/TODO'), 'swapped'], [env('adduser/README.gz'), 'swapped'], ['bash/NEWS2.aspera-env', 'renamed'],
      [env('adduser/copyright'), 'replaced'], ['odd/extra.aspera-env', 'extra'], ['bash/README copy.aspera-env', 'duplicate']]) {
      expect(rows[p!], p).toMatchObject({ status: 'batch-mismatch', batch: kind });
    }
    expect(s).toMatchObject({ failed: 6, by_status: { ok: 3, 'batch-mismatch': 6 }, batch: { swapped: 2, renamed: 1, replaced: 1, extra: 1, duplicate: 1 } });
  });
});

describe('--skip-existing skips only a whole output (issue 20)', () => {
  it('a 0-byte, a short and a same-size-but-different output are redone atomically, the row says why; whole ones are skipped', () => {
    const out = path.join(tmp.dir, `skip-${n++}`);
    const sums = path.join(tmp.dir, `skip-sums-${n++}`);
    writeFileSync(sums, Object.entries(PLAIN).map(([rel, body]) => `${createHash('sha256').update(body).digest('hex')}  ${rel}\n`).join(''));
    expect(aenv(['decrypt', sealed, '-o', out, '--password-file', pw]).code).toBe(0);
    writeFileSync(path.join(out, 'adduser/README.gz'), ''); // an interrupted earlier run's output
    writeFileSync(path.join(out, 'bash/README'), Buffer.alloc(1000, 3)); // cut short
    const r = aenv(['decrypt', sealed, '-o', out, '--skip-existing', '--json', '--password-file', pw]);
    expect(r.code).toBe(0);
    agree(r.stdout, r.code);
    const rows = rowsBy(r.stdout, sealed);
    expect(rows[env('adduser/README.gz')]).toMatchObject({ status: 'ok', bytes: 5389, warning: 'redone: the output there had 0 of the 5389 bytes the envelope declares (an interrupted or damaged earlier output)' });
    expect(rows[env('bash/README')]).toMatchObject({ status: 'ok', warning: expect.stringMatching(/had 1000 of the 70000 bytes/) });
    expect(rows[env('adduser/TODO')]).toMatchObject({ status: 'skipped', detail: 'output already exists (17 bytes, as the envelope declares)' });
    onlySealedContent(out);
    // same size, other bytes: only a checksum list can tell; with one, it is redone
    writeFileSync(path.join(out, 'adduser/TODO'), Buffer.from('todo: nothing!!!\n'));
    const blind = aenv(['decrypt', sealed, '-o', out, '--skip-existing', '--json', '--password-file', pw]);
    expect(rowsBy(blind.stdout, sealed)[env('adduser/TODO')]).toMatchObject({ status: 'skipped' });
    const c = aenv(['decrypt', sealed, '-o', out, '--skip-existing', '--checksums', sums, '--json', '--password-file', pw]);
    expect(c.code).toBe(0);
    const s = agree(c.stdout, c.code);
    expect(rowsBy(c.stdout, sealed)[env('adduser/TODO')]).toMatchObject({ status: 'ok', warning: 'redone: the output there had the declared size but not the SHA-256 of the checksum list', checksum: 'ok' });
    expect(rowsBy(c.stdout, sealed)[env('bash/NEWS')]).toMatchObject({ status: 'skipped', checksum: 'ok', detail: expect.stringMatching(/and its SHA-256 as the checksum list gives/) });
    expect(s).toMatchObject({ skipped: 5, ok: 1, checksums: { ok: 6, mismatch: 0 } });
    onlySealedContent(out);
    expect(listTree(out).filter((f) => f.includes('.partial'))).toEqual([]);
  });
});

describe('a summary never claims what its rows contradict', () => {
  it('keyed verify with damaged files: the closing note speaks of the ok files only', () => {
    const d = copy();
    for (const rel of ['adduser/TODO', 'bash/NEWS', 'odd/with space']) {
      const f = path.join(d, env(rel));
      const b = readFileSync(f);
      b[b.length - 60] ^= 1; // a byte of the last chunk's tag
      writeFileSync(f, b);
    }
    const r = aenv(['verify', d, '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n {2}3 failed; keyed check: every chunk authenticated and every content digest matched in the 4 ok files only\n$/);
    const all = aenv(['verify', sealed, '--password-file', pw]);
    expect(all.stderr).toMatch(/all ok; keyed check: every chunk authenticated and every content digest matched\n$/);
  });
});

describe('what a walk passes over is counted, listed with --json, named with -v (issue 20)', () => {
  it('encrypt of a tree with links, a FIFO, a socket and a device: counted by kind, each listed, nothing silent', () => {
    const t = path.join(tmp.dir, `walk-${n++}`);
    mkdirSync(path.join(t, 'sub'), { recursive: true });
    writeFileSync(path.join(t, 'a'), 'alpha\n');
    for (let i = 0; i < 3; i++) symlinkSync('a', path.join(t, `link${i}`));
    symlinkSync('/nonexistent/aenv', path.join(t, 'sub', 'dangling'));
    expect(spawnSync('mkfifo', [path.join(t, 'fifo')]).status).toBe(0);
    const sock = spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(t, 'sock')]);
    expect(sock.status, String(sock.stderr)).toBe(0);
    const dev = spawnSync('mknod', [path.join(t, 'dev'), 'c', '1', '3']); // as /dev/null (root; CI runs as root)
    const devices = dev.status === 0 ? 1 : 0;
    const r = aenv(['encrypt', t, '-o', path.join(t + '-out'), '--json', '--kdf', 'pbkdf2', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    const passed = lines.filter((l) => 'passed_over' in l).map((l) => [path.relative(t, String(l['passed_over']!['path'])), l['passed_over']!['kind']]);
    expect(passed.sort()).toEqual([
      ...(devices ? [['dev', 'device']] : []), ['fifo', 'fifo'], ['link0', 'symlink'], ['link1', 'symlink'], ['link2', 'symlink'], ['sock', 'socket'], ['sub/dangling', 'symlink'],
    ]);
    expect(rowsOf(r.stdout).summary).toMatchObject({ ok: 1, passed_over: { symlink: 4, socket: 1, fifo: 1, ...(devices ? { device: 1 } : {}) } });
    // people: one line under the table; -v names each
    const h = aenv(['encrypt', t, '-o', path.join(t + '-out2'), '--kdf', 'pbkdf2', '--password-file', pw]);
    expect(h.stderr).toMatch(/passed over \(not taken\): 4 symbolic links, 1 socket, 1 FIFO(, 1 device)?; --follow-symlinks follows links; -v names each/);
    expect(h.stderr).not.toMatch(/^passed over +/m);
    const v = aenv(['encrypt', t, '-o', path.join(t + '-out3'), '-v', '--kdf', 'pbkdf2', '--password-file', pw, '--follow-symlinks']);
    expect(v.stderr).toMatch(/^passed over +.*sub\/dangling: symbolic link that leads nowhere, not a regular file: not taken$/m);
    expect(v.stderr).toMatch(/^passed over +.*fifo: FIFO, not a regular file: not taken$/m);
    // aenv report takes the listing lines in its stride
    const rep = path.join(tmp.dir, `walk-report-${n++}.jsonl`);
    writeFileSync(rep, r.stdout);
    const m = aenv(['report', rep]);
    expect(m.code, m.stdout + m.stderr).toBe(0);
  });
});

describe('a checksum list one folder off (issue 20)', () => {
  it('made with find enc -type f -exec sha256sum {} +: the hint names the common leading folder', () => {
    const parent = path.join(tmp.dir, `above-${n++}`);
    mkdirSync(parent);
    cpSync(sealed, path.join(parent, 'enc'), { recursive: true });
    const made = spawnSync('sh', ['-c', 'find enc -type f -exec sha256sum {} + > list.sha256'], { cwd: parent });
    expect(made.status).toBe(0);
    const r = aenv(['verify', path.join(parent, 'enc'), '--checksums', path.join(parent, 'list.sha256')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/aenv: hint: 7 of the 7 names in .*list\.sha256 are missing, and they all start with "enc\/": the list was made from the folder above/);
    // made inside the folder: no such hint
    spawnSync('sh', ['-c', 'cd enc && find . -type f -exec sha256sum {} + > ../good.sha256'], { cwd: parent });
    const good = aenv(['verify', path.join(parent, 'enc'), '--checksums', path.join(parent, 'good.sha256')]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).not.toMatch(/start with/);
  });
});

describe('inspect says what it checked (issue 20)', () => {
  it('a whole file: header and size, never the chunks; a truncated one: header only, no sizes made up from its length', () => {
    const d = copy();
    const big = path.join(d, env('bash/README')); // two chunks
    const flipped = path.join(d, 'flipped.aspera-env');
    const b = readFileSync(big);
    b[b.length - 100] ^= 1; // a byte of its last chunk
    writeFileSync(flipped, b);
    const truncated = path.join(d, 'truncated.aspera-env');
    writeFileSync(truncated, readFileSync(big).subarray(0, 40_000));
    const r = aenv(['inspect', '--json', big, flipped, truncated]);
    expect(r.code).toBe(1);
    const [whole, flip, cut] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(whole).toMatchObject({ status: 'ok', checked: 'header+size', chunks: 2, plaintext_bytes: 70_000 });
    expect(flip).toMatchObject({ status: 'ok', checked: 'header+size', detail: expect.stringMatching(/chunks and content digest not checked: aenv verify checks them/) });
    expect(cut).toMatchObject({ status: 'corrupt', checked: 'header', detail: expect.stringMatching(/^header intact, but .*: the chunk count and plaintext size are unknown$/) });
    expect(cut['chunks']).toBeUndefined();
    expect(cut['plaintext_bytes']).toBeUndefined();
    const h = aenv(['inspect', flipped, truncated]);
    expect(h.stdout).toMatch(/flipped\.aspera-env: ok\n(.*\n)* {2}checked +header and size only \(chunks and content digest not checked/);
    expect(h.stdout).toMatch(/truncated\.aspera-env: corrupt .*\n(.*\n)* {2}checked +header only \(the size does not fit the layout\)/);
    expect(h.stdout.split('truncated.aspera-env')[1]).not.toMatch(/^ {2}(chunks|plaintext) /m);
    // verify finds what inspect does not look at
    expect(aenv(['verify', flipped]).code).toBe(1);
  });

  it('inspect DIR walks like verify: every envelope below it, links passed over and listed, exit 1 when one is not intact', () => {
    const d = copy();
    writeFileSync(path.join(d, 'bash', 'cut.aspera-env'), readFileSync(path.join(d, env('bash/README'))).subarray(0, 1000));
    writeFileSync(path.join(d, 'notes.txt'), 'not taken\n');
    symlinkSync(env('bash/NEWS'), path.join(d, 'link.aspera-env'));
    const r = aenv(['inspect', '--json', d]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const files = lines.filter((l) => 'path' in l).map((l) => path.relative(d, String(l['path']))).sort();
    expect(files).toEqual(['.aenv-manifest.aspera-env', 'bash/cut.aspera-env', ...Object.keys(PLAIN).map(env)].sort());
    expect(lines.find((l) => String(l['path']).endsWith('cut.aspera-env'))).toMatchObject({ status: 'corrupt' });
    expect(lines.filter((l) => 'passed_over' in l)).toEqual([{ passed_over: { path: path.join(d, 'link.aspera-env'), kind: 'symlink' } }]);
    expect(aenv(['inspect', sealed]).code).toBe(0);
    const empty = path.join(tmp.dir, `empty-${n++}`);
    mkdirSync(empty);
    const e = aenv(['inspect', empty]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/aenv: error: no files ending in \.aspera-env found in /);
  });
});
