// Outputs that already exist, and --remove-source (docs/CLI.md "Outputs that already
// exist", "Removing the source"), from the outside: the default `exists` failure
// (exit 1, old content kept), --skip-existing (`skipped`, exit 0), --force (atomic replace by
// rename: a hard link to the old file keeps the old bytes; a symbolic link is replaced, not
// written through), --remove-source only for files that ended ok, leftovers of a dead run
// cleaned by the next one, and an -o DIR that is not a folder (exit 2).

import { copyFileSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostTag } from '../src/fsops/atomic.js';
import { aenv, jsonLines, passwordFile, tempDir, VECTORS } from './helpers/cli.js';

vi.setConfig({ testTimeout: 30_000 });

const tmp = tempDir('aenv-existing-');
let pw: string;
let sealed: string; // a folder of envelopes: a.txt, s/b.txt
let n = 0;

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  sealed = path.join(tmp.dir, 'sealed');
  mkdirSync(path.join(sealed, 's'), { recursive: true });
  writeFileSync(path.join(sealed, 'a.txt'), 'new a\n');
  writeFileSync(path.join(sealed, 's', 'b.txt'), 'new b\n');
  const r = aenv(['encrypt', sealed, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

/** A copy of the sealed folder with old plaintexts already in place beside the envelopes. */
function withOld(): string {
  const d = path.join(tmp.dir, `c${n++}`);
  cpSync(sealed, d, { recursive: true });
  writeFileSync(path.join(d, 'a.txt'), 'OLD a\n');
  writeFileSync(path.join(d, 's', 'b.txt'), 'OLD b\n');
  return d;
}

const read = (p: string) => readFileSync(p, 'utf8');

describe('an output that exists', () => {
  it('by default fails with `exists` (exit 1) and keeps the old content', () => {
    const d = withOld();
    const r = aenv(['decrypt', d, '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    const rows = jsonLines(r.stdout);
    expect(rows.slice(0, 2).map((x) => x['status'])).toEqual(['exists', 'exists']);
    expect(rows[2]).toMatchObject({ summary: { ok: 0, failed: 2, skipped: 0 } });
    expect(read(path.join(d, 'a.txt'))).toBe('OLD a\n');
    const h = aenv(['decrypt', d, '--password-file', pw]);
    expect(h.stderr).toMatch(/exists +\S*a\.txt\.aspera-env: [^\n]*\n +hint: [^\n]*--skip-existing[^\n]*--force/);
  });

  it('--skip-existing reports `skipped`, exit 0, and writes only the missing outputs', () => {
    const d = withOld();
    writeFileSync(path.join(d, 'a.txt'), 'OLD a\n');
    const b = path.join(d, 's', 'b.txt');
    rmSync(b);
    const r = aenv(['decrypt', d, '--json', '--skip-existing', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(rows.slice(0, 2).map((x) => x['status'])).toEqual(['skipped', 'ok']);
    expect(rows[2]).toMatchObject({ summary: { ok: 1, failed: 0, skipped: 1 } });
    expect(read(path.join(d, 'a.txt'))).toBe('OLD a\n');
    expect(read(b)).toBe('new b\n');
  });

  it('--force replaces atomically: by rename, so a hard link to the old file keeps the old bytes', () => {
    // Bug guarded: replacing by truncating and rewriting the old file in place (a reader or a
    // crash would see a half-written mix; a hard link would silently change).
    const d = withOld();
    const a = path.join(d, 'a.txt');
    const keep = path.join(tmp.dir, `keep-${n}`);
    linkSync(a, keep);
    const ino = lstatSync(a).ino;
    const r = aenv(['decrypt', d, '--force', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(read(a)).toBe('new a\n');
    expect(read(path.join(d, 's', 'b.txt'))).toBe('new b\n');
    expect(lstatSync(a).ino).not.toBe(ino);
    expect(read(keep)).toBe('OLD a\n');
    expect(readdirSync(d).filter((x) => x.endsWith('.partial'))).toEqual([]);
  });

  it('an output name held by a symbolic link: exists by default; --force replaces the link, not its target', () => {
    const d = withOld();
    const target = path.join(tmp.dir, `target-${n}.txt`);
    writeFileSync(target, 'precious, outside the tree\n');
    rmSync(path.join(d, 'a.txt'));
    symlinkSync(target, path.join(d, 'a.txt'));
    const r = aenv(['decrypt', path.join(d, 'a.txt.aspera-env'), '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 'exists' });
    const f = aenv(['decrypt', path.join(d, 'a.txt.aspera-env'), '--force', '--password-file', pw]);
    expect(f.code, f.stderr).toBe(0);
    expect(lstatSync(path.join(d, 'a.txt')).isSymbolicLink()).toBe(false);
    expect(read(path.join(d, 'a.txt'))).toBe('new a\n');
    expect(read(target)).toBe('precious, outside the tree\n');
  });

  it('an output name held by a folder fails (io-error under --force), the folder kept', () => {
    const d = withOld();
    rmSync(path.join(d, 'a.txt'));
    mkdirSync(path.join(d, 'a.txt'));
    writeFileSync(path.join(d, 'a.txt', 'inside'), 'x');
    const r = aenv(['decrypt', path.join(d, 'a.txt.aspera-env'), '--json', '--force', '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 'io-error' });
    expect(readdirSync(path.join(d, 'a.txt'))).toEqual(['inside']);
    expect(readdirSync(d).filter((x) => x.endsWith('.partial'))).toEqual([]);
  });

  it('encrypt never replaces an existing envelope either', () => {
    const d = path.join(tmp.dir, `e${n++}`);
    mkdirSync(d);
    writeFileSync(path.join(d, 'p.txt'), 'plain\n');
    writeFileSync(path.join(d, 'p.txt.aspera-env'), 'someone else\'s envelope');
    const r = aenv(['encrypt', path.join(d, 'p.txt'), '--kdf', 'pbkdf2', '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 'exists' });
    expect(read(path.join(d, 'p.txt.aspera-env'))).toBe('someone else\'s envelope');
  });
});

describe('--remove-source', () => {
  it('removes exactly the envelopes whose output is in place; failures, exists and skipped keep theirs', () => {
    const d = path.join(tmp.dir, `r${n++}`);
    cpSync(sealed, d, { recursive: true });
    copyFileSync(path.join(VECTORS, 'bad-chunk-bitflip.aspera-env'), path.join(d, 'bad.aspera-env'));
    copyFileSync(path.join(VECTORS, 'bad-params-forged.aspera-env'), path.join(d, 'wrong.aspera-env')); // wrong-password under PASSWORD
    writeFileSync(path.join(d, 's', 'b.txt'), 'OLD b\n'); // b: exists
    const r = aenv(['decrypt', d, '--remove-source', '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    const st = Object.fromEntries(jsonLines(r.stdout).filter((x) => 'path' in x).map((x) => [path.relative(d, x['path'] as string), x['status']]));
    expect(st).toEqual({ 'a.txt.aspera-env': 'ok', 'bad.aspera-env': 'corrupt', 's/b.txt.aspera-env': 'exists', 'wrong.aspera-env': 'wrong-password' });
    expect(existsSync(path.join(d, 'a.txt.aspera-env'))).toBe(false);
    expect(read(path.join(d, 'a.txt'))).toBe('new a\n');
    for (const keep of ['bad.aspera-env', 'wrong.aspera-env', 's/b.txt.aspera-env']) expect(existsSync(path.join(d, keep)), keep).toBe(true);
    expect(existsSync(path.join(d, 'bad'))).toBe(false);
    // skipped keeps its envelope too: the existing output was never checked against it
    const s = aenv(['decrypt', path.join(d, 's'), '--remove-source', '--skip-existing', '--password-file', pw]);
    expect(s.code).toBe(0);
    expect(existsSync(path.join(d, 's', 'b.txt.aspera-env'))).toBe(true);
    expect(read(path.join(d, 's', 'b.txt'))).toBe('OLD b\n');
  });

  it('with -o DIR the envelope goes only after its mirrored output is written', () => {
    const d = path.join(tmp.dir, `r${n++}`);
    cpSync(sealed, d, { recursive: true });
    const out = path.join(tmp.dir, `o${n}`);
    const r = aenv(['decrypt', d, '-o', out, '--remove-source', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(read(path.join(out, 's', 'b.txt'))).toBe('new b\n');
    expect(readdirSync(d)).toEqual(['s']);
    expect(readdirSync(path.join(d, 's'))).toEqual([]);
  });
});

describe('leftovers and odd -o', () => {
  it('a temporary file left by a dead run is removed by the next run; a live run\'s is not', () => {
    const d = path.join(tmp.dir, `l${n++}`);
    cpSync(sealed, d, { recursive: true });
    const dead = path.join(d, `.aenv-999999999-${hostTag()}89abcdef.partial`);
    const live = path.join(d, `.aenv-${process.pid}-${hostTag()}89abcdef.partial`);
    writeFileSync(dead, 'half a plaintext from a killed run');
    writeFileSync(live, 'another aenv is writing this right now');
    const r = aenv(['decrypt', d, '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(read(path.join(d, 'a.txt'))).toBe('new a\n');
  });

  it('-o naming a file is a usage error (exit 2), not an unexpected failure', () => {
    // Bug guarded: mkdir's EEXIST escaped as "this is unexpected; please report it" (exit 1).
    const f = path.join(tmp.dir, 'a-file');
    writeFileSync(f, 'x');
    const r = aenv(['decrypt', sealed, '-o', f, '--password-file', pw]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a folder/);
    expect(r.stderr).not.toMatch(/unexpected/);
  });
});
