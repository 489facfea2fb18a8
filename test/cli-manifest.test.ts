// The sealed batch manifest from the outside (docs/MANIFEST.md): a tree with odd names
// is sealed by the real `aenv encrypt -o OUT --manifest`; the manifest's text (decrypted by the
// CLI as any named envelope) is read with an independent parser of the grammar in MANIFEST.md and
// compared with the bytes of each envelope; then each tampering is done for real on a fresh copy
// of the tree (mv, rm, cp of an older envelope, a byte flipped, a copy, a foreign file, a forged
// manifest), and `verify` and `decrypt` must name it in the rows and the summary and exit 1.

import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, PASSWORD, passwordFile, tempDir } from './helpers/cli.js';
import { listTree, rowsOf, sealCheap } from './helpers/faults.js';
import { rowsBy } from './helpers/foreign.js';

const tmp = tempDir('aenv-manifest-');
afterAll(() => tmp.cleanup());
const MANIFEST = '.aenv-manifest.aspera-env';

/** Plaintexts of the batch, by path below the source folder. */
const PLAIN: Record<string, Buffer> = {
  'a.txt': Buffer.from('alpha\n'),
  'b.txt': Buffer.from('bravo\n'),
  'c.txt': Buffer.from('charlie\n'),
  'd.txt': Buffer.from('delta\n'),
  'empty.txt': Buffer.alloc(0),
  'sub/e.csv': Buffer.from('id,name\n1,echo\n'),
  'sub/deep/f.bin': Buffer.alloc(70_000, 7), // two chunks
  'odd/with space.txt': Buffer.from('space\n'),
  'odd/new\nline.txt': Buffer.from('newline\n'),
  'odd/back\\slash.txt': Buffer.from('backslash\n'),
  'odd/100% done.txt': Buffer.from('percent\n'),
  'ünï/日本.txt': Buffer.from('unicode\n'),
};
const ENVELOPES = Object.keys(PLAIN).map((p) => `${p}.aspera-env`);

let pw: string;
let sealed: string;
let n = 0;

function plainTree(dir: string): void {
  for (const [rel, body] of Object.entries(PLAIN)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  }
}

/** A fresh copy of the sealed tree, to be tampered with. */
function copy(): string {
  const d = path.join(tmp.dir, `copy-${n++}`);
  cpSync(sealed, d, { recursive: true });
  return d;
}

const verify = (dir: string, ...extra: string[]) => aenv(['verify', dir, '--json', '--password-file', pw, ...extra]);
const batchOf = (stdout: string): Record<string, unknown> => rowsOf(stdout).summary['batch'] as Record<string, unknown>;

/** The manifest's text as the grammar of docs/MANIFEST.md reads it (independently of src/batch). */
function parseText(text: string): { salt: string; entries: { nonce: string; digest: string; size: number; path: string }[] } {
  const lines = text.split('\n');
  expect(lines.pop()).toBe(''); // every line ends in LF, nothing after the last
  expect(lines[0]).toBe('AENV-MANIFEST/1');
  const salt = /^batch ([0-9a-f]{64})$/.exec(lines[1]!)![1]!;
  const count = Number(/^entries (0|[1-9][0-9]*)$/.exec(lines[2]!)![1]);
  const entries = lines.slice(3).map((l) => {
    const m = /^([0-9a-f]{64}) ([0-9a-f]{64}) (0|[1-9][0-9]*) ([^\x00-\x20\x7f]+)$/.exec(l)!;
    const bytes = Buffer.from(m[4]!.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'utf8');
    return { nonce: m[1]!, digest: m[2]!, size: Number(m[3]), path: bytes.toString('utf8') };
  });
  expect(entries).toHaveLength(count);
  return { salt, entries };
}

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  const src = path.join(tmp.dir, 'src');
  plainTree(src);
  sealed = path.join(tmp.dir, 'sealed');
  const r = aenv(['encrypt', src, '-o', sealed, '--manifest', '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
  if (r.code !== 0) throw new Error(`encrypt --manifest failed: ${r.stdout}${r.stderr}`);
}, 120_000);

describe('encrypt --manifest', () => {
  it('writes one envelope at the root of -o DIR listing every envelope: path, plaintext size, file nonce, content digest', () => {
    expect(listTree(sealed).sort()).toEqual([MANIFEST, ...ENVELOPES].sort());
    const out = path.join(tmp.dir, 'manifest-text');
    const r = aenv(['decrypt', path.join(sealed, MANIFEST), '-o', out, '--password-file', pw]); // named: decrypted like any envelope
    expect(r.code, r.stderr).toBe(0);
    const m = parseText(readFileSync(path.join(out, '.aenv-manifest'), 'utf8'));
    const manifestEnv = readFileSync(path.join(sealed, MANIFEST));
    expect(m.salt).toBe(manifestEnv.subarray(24, 56).toString('hex')); // the run's salt, in its own header too
    expect(m.entries.map((e) => e.path)).toEqual([...ENVELOPES].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    for (const e of m.entries) {
      const env = readFileSync(path.join(sealed, e.path));
      expect(env.subarray(24, 56).toString('hex')).toBe(m.salt);
      expect(e.nonce).toBe(env.subarray(56, 88).toString('hex'));
      expect(e.digest).toBe(env.subarray(env.length - 32).toString('hex'));
      expect(e.digest).toBe(createHash('sha256').update(env.subarray(0, env.length - 40)).digest('hex'));
      expect(e.size).toBe(PLAIN[e.path.slice(0, -'.aspera-env'.length)]!.length);
    }
  });

  it('the JSON summary names the manifest; people get a line for it', () => {
    const out = path.join(tmp.dir, 'again');
    const r = aenv(['encrypt', path.join(tmp.dir, 'src'), '-o', out, '--manifest', '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
    expect(r.code).toBe(0);
    expect(rowsOf(r.stdout).summary['manifest']).toEqual({ path: path.join(out, MANIFEST), written: true, entries: ENVELOPES.length });
    const again = aenv(['encrypt', path.join(tmp.dir, 'src'), '-o', out, '--manifest', '--kdf', 'pbkdf2', '--password-file', pw, '--force']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^manifest +.*\.aenv-manifest\.aspera-env: 12 envelopes listed/m);
  }, 60_000);

  it('usage errors before any work: no -o, an existing manifest without --force, an input named .aenv-manifest', () => {
    const src = path.join(tmp.dir, 'src');
    const noO = aenv(['encrypt', src, '--manifest', '--password-file', pw]);
    expect(noO.code).toBe(2);
    expect(noO.stderr).toMatch(/aenv: error: --manifest needs -o DIR/);
    const there = aenv(['encrypt', src, '-o', sealed, '--manifest', '--password-file', pw]);
    expect(there.code).toBe(2);
    expect(there.stderr).toMatch(/holds a batch manifest[\s\S]*aenv: hint: /);
    const clash = path.join(tmp.dir, 'clash');
    mkdirSync(clash);
    writeFileSync(path.join(clash, '.aenv-manifest'), 'a user file with the manifest\'s name\n');
    const c = aenv(['encrypt', clash, '-o', path.join(tmp.dir, 'clash-out'), '--manifest', '--password-file', pw]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/would be sealed as \.aenv-manifest\.aspera-env/);
    expect(existsSync(path.join(tmp.dir, 'clash-out'))).toBe(false);
  });

  it('a run in which a file is not sealed writes no manifest and exits 1', () => {
    const src = path.join(tmp.dir, 'partial-src');
    const out = path.join(tmp.dir, 'partial-out');
    plainTree(src);
    mkdirSync(path.join(out, 'sub'), { recursive: true });
    writeFileSync(path.join(out, 'sub', 'e.csv.aspera-env'), 'in the way\n'); // that output exists
    const r = aenv(['encrypt', src, '-o', out, '--manifest', '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the batch manifest was not written: 1 file was not sealed/);
    expect(rowsOf(r.stdout).summary['manifest']).toMatchObject({ written: false });
    expect(existsSync(path.join(out, MANIFEST))).toBe(false);
  }, 60_000);
});

describe('a sealed tree as it was sealed', () => {
  it('keyed verify: every row is batch ok, the summary says the batch matches, exit 0', () => {
    const r = verify(sealed);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsBy(r.stdout, sealed);
    for (const e of ENVELOPES) expect(rows[e]).toMatchObject({ status: 'ok', batch: 'ok' });
    expect(rows[MANIFEST]).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^batch manifest; /) }); // checked as an envelope, not as a member
    expect(batchOf(r.stdout)).toMatchObject({ manifest: 'ok', manifests: 1, entries: 12, matches: true, ok: 12, missing: 0 });
    const human = aenv(['verify', sealed, '--password-file', pw]);
    expect(human.stderr).toMatch(/batch: matches the manifest \(12 envelopes in place\)/);
  });

  it('without the password verify says a manifest is present and needs the password; --manifest then is a usage error', () => {
    const r = aenv(['verify', sealed, '--json']);
    expect(r.code).toBe(0);
    expect(batchOf(r.stdout)).toEqual({ manifest: 'needs-password', manifests: 1 });
    expect(aenv(['verify', sealed]).stderr).toMatch(/batch: a sealed manifest is present; give the password to check the batch against it/);
    const m = aenv(['verify', sealed, '--manifest']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/aenv: error: --manifest needs the password/);
  });

  it('decrypt -o checks the batch too and never decrypts the manifest into -o DIR', () => {
    const out = path.join(tmp.dir, 'plain');
    const r = aenv(['decrypt', sealed, '-o', out, '--json', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(listTree(out).sort()).toEqual(Object.keys(PLAIN).sort());
    for (const [rel, body] of Object.entries(PLAIN)) expect(readFileSync(path.join(out, rel)).equals(body)).toBe(true);
    expect(batchOf(r.stdout)).toMatchObject({ manifest: 'ok', matches: true, ok: 12 });
  });
});

describe('each tampering of a sealed tree, done for real, is detected and named (exit 1)', () => {
  it('two envelopes swapped (mv): both swapped, each naming the other', () => {
    const d = copy();
    renameSync(path.join(d, 'a.txt.aspera-env'), path.join(d, 'tmp'));
    renameSync(path.join(d, 'b.txt.aspera-env'), path.join(d, 'a.txt.aspera-env'));
    renameSync(path.join(d, 'tmp'), path.join(d, 'b.txt.aspera-env'));
    const r = verify(d);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    // issue 20: verify reports an envelope out of its sealed place as batch-mismatch (a failure)
    expect(rows['a.txt.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'swapped', batch_detail: 'holds the envelope the manifest lists as "b.txt.aspera-env"' });
    expect(rows['b.txt.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'swapped', batch_detail: 'holds the envelope the manifest lists as "a.txt.aspera-env"' });
    expect(batchOf(r.stdout)).toMatchObject({ matches: false, swapped: 2, ok: 10 });
    expect(rowsOf(r.stdout).summary).toMatchObject({ failed: 2, exit_status: 1 });
    // decrypt (issue 20): each plaintext goes out under the name it was sealed with, the rows ok with a warning
    const out = path.join(tmp.dir, `swap-out-${n}`);
    const dr = aenv(['decrypt', d, '-o', out, '--password-file', pw]);
    expect(dr.code).toBe(1);
    expect(dr.stdout).toMatch(/a\.txt\.aspera-env -> .*b\.txt .*\n +warning: found as "a\.txt\.aspera-env" but sealed as "b\.txt\.aspera-env".*\n +batch: swapped: holds the envelope the manifest lists as "b\.txt\.aspera-env"/);
    expect(dr.stderr).toMatch(/batch: does not match the manifest \(2 swapped\)\n +no file failed on its own, but the batch does not match/);
    expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(readFileSync(path.join(out, 'b.txt'), 'utf8')).toBe('bravo\n');
  });

  it('one deleted (rm): a missing row with its own status, counted as failed', () => {
    const d = copy();
    rmSync(path.join(d, 'odd', 'new\nline.txt.aspera-env'));
    const r = verify(d);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    expect(rows['odd/new\nline.txt.aspera-env']).toMatchObject({ status: 'missing', bytes: 0, batch: 'missing', detail: 'listed in the manifest (8 bytes of plaintext) but not in the tree' });
    expect(rowsOf(r.stdout).summary).toMatchObject({ failed: 1, by_status: { ok: 12, missing: 1 } });
    const human = aenv(['verify', d, '--password-file', pw]);
    expect(human.stderr).toMatch(/^missing +".*odd\/new\\nline\.txt\.aspera-env": listed in the manifest .*\n +hint: /m);
  });

  it('one renamed (mv): renamed under its new name, and not also missing', () => {
    const d = copy();
    renameSync(path.join(d, 'c.txt.aspera-env'), path.join(d, 'sub', 'renamed.aspera-env'));
    const r = verify(d);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    expect(rows['sub/renamed.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'renamed', batch_detail: 'the envelope the manifest lists as "c.txt.aspera-env", under another name' });
    expect(rows['c.txt.aspera-env']).toBeUndefined();
    expect(batchOf(r.stdout)).toMatchObject({ renamed: 1, missing: 0 });
  });

  it('--write-checksums lists a file whose row the manifest holds back to the end (renamed): every file of the tree', () => {
    const d = copy();
    renameSync(path.join(d, 'c.txt.aspera-env'), path.join(d, 'sub', 'renamed.aspera-env'));
    const list = path.join(tmp.dir, `held-${randomBytes(4).toString('hex')}.sha256`);
    const r = verify(d, '--write-checksums', list);
    expect(r.code).toBe(1);
    expect(rowsBy(r.stdout, d)['sub/renamed.aspera-env']).toMatchObject({ batch: 'renamed' });
    const text = readFileSync(list, 'utf8');
    const files = listTree(d);
    expect(text.split('\n').length - 1).toBe(files.length);
    expect(text).toContain(`${createHash('sha256').update(readFileSync(path.join(d, 'sub', 'renamed.aspera-env'))).digest('hex')}  sub/renamed.aspera-env\n`);
    expect(rowsOf(r.stdout).summary['write_checksums']).toEqual({ file: list, entries: files.length });
  });

  it('an older version put back (an envelope of another run, cp): replaced', () => {
    const d = copy();
    const older = path.join(tmp.dir, `older-${n}`);
    mkdirSync(older);
    writeFileSync(path.join(older, 'd.txt'), 'delta, the old version\n');
    expect(aenv(['encrypt', older, '--kdf', 'pbkdf2', '--password-file', pw]).code).toBe(0);
    cpSync(path.join(older, 'd.txt.aspera-env'), path.join(d, 'd.txt.aspera-env'));
    const r = verify(d);
    expect(r.code).toBe(1);
    expect(rowsBy(r.stdout, d)['d.txt.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'replaced', batch_detail: expect.stringMatching(/^another envelope \(file nonce [0-9a-f]{16}\.\.\.\) than the manifest lists here/) });
  }, 60_000);

  it('altered after sealing (a payload byte flipped, the trailer digest recomputed): corrupt, and replaced', () => {
    const d = copy();
    const f = path.join(d, 'sub', 'deep', 'f.bin.aspera-env');
    const env = readFileSync(f);
    env[1000] ^= 0x01;
    createHash('sha256').update(env.subarray(0, env.length - 40)).digest().copy(env, env.length - 32);
    writeFileSync(f, env);
    const r = verify(d);
    expect(r.code).toBe(1);
    expect(rowsBy(r.stdout, d)['sub/deep/f.bin.aspera-env']).toMatchObject({ status: 'corrupt', batch: 'replaced', batch_detail: expect.stringMatching(/^same file nonce but content digest .* differs from the manifest's .*: altered after sealing$/) });
    expect(aenv(['verify', d, '--json']).code).toBe(0); // the passwordless check alone cannot see it
  });

  it('a copy (cp) and an envelope the batch never sealed: duplicate and extra', () => {
    const d = copy();
    cpSync(path.join(d, 'a.txt.aspera-env'), path.join(d, 'copy of a.aspera-env'));
    writeFileSync(path.join(d, 'stranger.aspera-env'), readFileSync(path.join(tmp.dir, 'again', 'b.txt.aspera-env'))); // another run's envelope
    const r = verify(d);
    expect(r.code).toBe(1);
    const rows = rowsBy(r.stdout, d);
    expect(rows['copy of a.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'duplicate', batch_detail: 'a copy of "a.txt.aspera-env", which is also in its place' });
    expect(rows['stranger.aspera-env']).toMatchObject({ status: 'batch-mismatch', batch: 'extra' });
    expect(rows['a.txt.aspera-env']).toMatchObject({ batch: 'ok' });
  });

  it('a plaintext (or a foreign file) in a listed place: the file\'s own status, and unchecked', () => {
    const d = copy();
    writeFileSync(path.join(d, 'b.txt.aspera-env'), 'bravo, as plaintext\n');
    const r = verify(d);
    expect(r.code).toBe(1);
    expect(rowsBy(r.stdout, d)['b.txt.aspera-env']).toMatchObject({ status: 'not-envelope', batch: 'unchecked' });
  });

  it('the manifest deleted: checked file by file as before (exit 0); with --manifest the run fails before any work', () => {
    const d = copy();
    rmSync(path.join(d, MANIFEST));
    const r = verify(d);
    expect(r.code).toBe(0);
    expect(rowsOf(r.stdout).summary['batch']).toBeUndefined();
    const m = verify(d, '--manifest');
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/aenv: error: --manifest: no batch manifest \(\.aenv-manifest\.aspera-env\) at the root of /);
    expect(jsonRows(m.stdout)).toEqual([]); // no file was worked on
    expect(rowsOf(m.stdout).summary).toMatchObject({ batch: { manifest: 'absent' }, exit_status: 1 });
    const dm = aenv(['decrypt', d, '-o', path.join(tmp.dir, `never-${n}`), '--manifest', '--password-file', pw]);
    expect(dm.code).toBe(1);
    expect(existsSync(path.join(tmp.dir, `never-${n}`))).toBe(false);
  });

  it('a manifest that does not belong to the batch (sealed with the password, another batch line): reported, files still checked', async () => {
    const d = copy();
    const text = `AENV-MANIFEST/1\nbatch ${randomBytes(32).toString('hex')}\nentries 0\n`;
    writeFileSync(path.join(d, MANIFEST), await sealCheap(Buffer.from(text), PASSWORD));
    const r = verify(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/aenv: error: .*\.aenv-manifest\.aspera-env: the batch manifest cannot be used: manifest line 2: its batch [0-9a-f]{16}\.\.\. is not the salt of its own envelope/);
    expect(batchOf(r.stdout)).toMatchObject({ manifest: 'invalid', matches: false });
    expect(jsonRows(r.stdout).filter((x) => x['status'] === 'ok')).toHaveLength(13); // every envelope (and the manifest as an envelope) ok on its own
    // not a manifest at all, and a manifest under another password
    writeFileSync(path.join(d, MANIFEST), await sealCheap(Buffer.from('just some text\n'), PASSWORD));
    expect(verify(d).stderr).toMatch(/manifest line 1: does not start with AENV-MANIFEST\/1/);
    writeFileSync(path.join(d, MANIFEST), await sealCheap(Buffer.from(text), 'another password'));
    expect(verify(d).stderr).toMatch(/the batch manifest cannot be used: wrong-password: /);
  }, 60_000);

  it('a manifest below the walked folder (a batch copied into a subfolder) is not used and not decrypted: skipped', () => {
    const outer = path.join(tmp.dir, `outer-${n++}`);
    mkdirSync(outer);
    cpSync(sealed, path.join(outer, 'batch'), { recursive: true });
    const r = aenv(['decrypt', outer, '-o', path.join(outer + '-plain'), '--json', '--password-file', pw]);
    expect(r.code).toBe(0);
    expect(rowsBy(r.stdout, outer)[`batch/${MANIFEST}`]).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/verify its folder by itself/) });
    expect(existsSync(path.join(outer + '-plain', 'batch', '.aenv-manifest'))).toBe(false);
  });
});

function jsonRows(stdout: string): Record<string, unknown>[] {
  return rowsOf(stdout).rows;
}
