// --files-from lists (src/batch/files-from.ts): newline and NUL-separated, CRLF, blank lines,
// odd names (newlines, CR, spaces, #) from the real `find -print0`, names that are not UTF-8,
// the wrong separator, over-long entries, a BOM, and any chunking of the input.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FilesFromParser, parseFilesFrom, readFilesFrom, type FilesFromItem } from '../src/batch/files-from.js';
import { tempDir } from './helpers/cli.js';

const tmp = tempDir('aenv-batch-ff-');
afterAll(() => tmp.cleanup());
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const paths = (items: FilesFromItem[]): string[] => items.flatMap((i) => (i.kind === 'path' ? [i.path] : []));
const problems = (items: FilesFromItem[]): [number, string][] => items.flatMap((i) => (i.kind === 'problem' ? [[i.n, i.message] as [number, string]] : []));

describe('newline-separated', () => {
  it('one path per line; CRLF, blank lines and a missing last newline; spaces and # kept', () => {
    const items = parseFilesFrom(b('a.aspera-env\r\n\n  sp ace .aspera-env \n#not a comment\r\n\r\nlast'), { nul: false });
    expect(items).toEqual([
      { kind: 'path', path: 'a.aspera-env', n: 1 }, { kind: 'path', path: '  sp ace .aspera-env ', n: 3 },
      { kind: 'path', path: '#not a comment', n: 4 }, { kind: 'path', path: 'last', n: 6 },
    ]);
  });

  it('a line holding NUL: reported with its number and a hint to add -0', () => {
    const items = parseFilesFrom(b('ok\nx\0y\0\nz\n'), { nul: false });
    expect(paths(items)).toEqual(['ok', 'z']);
    expect(problems(items)).toEqual([[2, 'line 2 holds a NUL byte: the list looks NUL-separated']]);
    expect(items[1]).toMatchObject({ hint: expect.stringContaining('-0') });
  });

  it('a UTF-8 byte order mark at the start is dropped, also when split over chunks; elsewhere it is part of a name', () => {
    const p = new FilesFromParser({ nul: false });
    const out = [...p.push(Uint8Array.of(0xef)), ...p.push(Uint8Array.of(0xbb)), ...p.push(Uint8Array.of(0xbf, ...b('a\n\ufeffb'))), ...p.end()];
    expect(paths(out)).toEqual(['a', '\ufeffb']);
    expect(paths(parseFilesFrom(Uint8Array.of(0xef, 0xbb), { nul: false }))).toEqual([]);
    expect(problems(parseFilesFrom(Uint8Array.of(0xef, 0xbb), { nul: false }))[0]![1]).toContain('not valid UTF-8');
  });
});

describe('NUL-separated (-0)', () => {
  it('names with newlines, CR, tabs and spaces are taken byte for byte; empty entries skipped', () => {
    const items = parseFilesFrom(b('a\nb\0\0 c\r\0d\te\0last'), { nul: true });
    expect(items).toEqual([
      { kind: 'path', path: 'a\nb', n: 1 }, { kind: 'path', path: ' c\r', n: 3 }, { kind: 'path', path: 'd\te', n: 4 }, { kind: 'path', path: 'last', n: 5 },
    ]);
  });

  it('a list with line breaks and no NUL is reported as newline-separated, not read as one name', () => {
    const items = parseFilesFrom(b('a\nb\nc\n'), { nul: true });
    expect(items).toEqual([expect.objectContaining({ kind: 'problem', n: 1, message: expect.stringContaining('looks newline-separated'), hint: expect.stringContaining('drop -0') })]);
    expect(parseFilesFrom(b('single name'), { nul: true })).toEqual([{ kind: 'path', path: 'single name', n: 1 }]);
    expect(parseFilesFrom(new Uint8Array(), { nul: true })).toEqual([]);
  });

  it('what the real find -print0 lists of a tree with odd names comes back exactly', () => {
    const names = ['plain.aspera-env', 'new\nline.aspera-env', 'cr\r.aspera-env', ' lead.aspera-env', 'sub dir/ünï 雪.aspera-env', '-dash.aspera-env', 'back\\slash.aspera-env'];
    const dir = path.join(tmp.dir, 'tree');
    for (const n of names) {
      mkdirSync(path.dirname(path.join(dir, n)), { recursive: true });
      writeFileSync(path.join(dir, n), 'x');
    }
    const r = spawnSync('find', ['.', '-type', 'f', '-print0'], { cwd: dir });
    expect(r.status).toBe(0);
    const got = paths(parseFilesFrom(r.stdout, { nul: true }));
    expect(got.sort()).toEqual(names.map((n) => `./${n}`).sort());
  });
});

describe('both modes', () => {
  it.each([false, true])('nul=%s: an entry that is not UTF-8 is reported with its number and bytes; the others are read', (nul) => {
    const sep = nul ? 0 : 0x0a;
    const bytes = Buffer.concat([b('good'), Uint8Array.of(sep), b('caf'), Uint8Array.of(0xe9, sep), b('also good'), Uint8Array.of(sep)]);
    const items = parseFilesFrom(bytes, { nul });
    expect(paths(items)).toEqual(['good', 'also good']);
    expect(problems(items)).toEqual([[2, `${nul ? 'entry' : 'line'} 2 is not valid UTF-8 (bytes: "caf\\xe9")`]]);
  });

  it.each([false, true])('nul=%s: an over-long entry is reported, not buffered, and the next is read', (nul) => {
    const p = new FilesFromParser({ nul, maxEntryBytes: 100 });
    const sep = nul ? '\0' : '\n';
    const out = [...p.push(b(`a${sep}`)), ...p.push(new Uint8Array(80).fill(0x78)), ...p.push(new Uint8Array(80).fill(0x78)), ...p.push(b(`${sep}b${sep}`)), ...p.end()];
    expect(paths(out)).toEqual(['a', 'b']);
    expect(problems(out)).toEqual([[2, `${nul ? 'entry' : 'line'} 2 is 160 bytes long, more than 100`]]);
    expect(p.paths).toBe(2);
  });

  it('any chunking of the input gives the same entries (property)', () => {
    const entry = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', '\0', 'é', '雪', '#'), maxLength: 6 });
    fc.assert(fc.property(fc.array(entry, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), (entries, nul, cuts) => {
      const bytes = b(entries.join(nul ? '\0' : '\n'));
      const whole = parseFilesFrom(bytes, { nul });
      const p = new FilesFromParser({ nul });
      const out: FilesFromItem[] = [];
      let last = 0;
      for (const c of cuts.map((x) => x % (bytes.length + 1)).sort((x, y) => x - y)) {
        out.push(...p.push(bytes.subarray(last, c)));
        last = c;
      }
      out.push(...p.push(bytes.subarray(last)), ...p.end());
      expect(out).toEqual(whole);
    }));
  });

  it('NUL lists of random names come back exactly (property)', () => {
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => !s.includes('\0') && s.isWellFormed());
    fc.assert(fc.property(fc.array(name, { minLength: 1, maxLength: 10 }), (names) => {
      const got = paths(parseFilesFrom(b(`${names.join('\0')}\0`), { nul: true }));
      expect(got).toEqual(names);
    }));
  });

  it('streams a list of 200,000 paths from a Readable, in order, in small chunks', async () => {
    const N = 200_000;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < N; i += 1000) {
        yield b(Array.from({ length: 1000 }, (_, j) => `dir/${i + j}.aspera-env`).join('\0') + '\0');
      }
    }
    let count = 0;
    let ordered = true;
    for await (const item of readFilesFrom(Readable.from(source()), { nul: true })) {
      if (item.kind !== 'path' || item.path !== `dir/${count}.aspera-env`) ordered = false;
      count++;
    }
    expect(ordered).toBe(true);
    expect(count).toBe(N);
  }, 60_000);
});
