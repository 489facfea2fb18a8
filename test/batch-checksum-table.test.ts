// The compact form of a checksum list (src/batch/checksum-table.ts, issue 21.6) and its limits
// (src/batch/checksums.ts): HalfSipHash-2-4 against the reference vectors; a table of many
// entries finds each name and no other, in the list's order, through every growth; the limits
// on entries and bytes refuse the list with the line; problems past the first thousand are
// counted, not kept; from the outside, a "list" that is a disk image (/dev/zero) is refused at
// 2 GiB with a usage error, and a list of many bad lines names the first ones and counts the rest.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bits, ChecksumCheck } from '../src/batch/checksum-check.js';
import { ChecksumEntries } from '../src/batch/checksum-table.js';
import {
  ChecksumLimitError, ChecksumListParser, MAX_CHECKSUM_BYTES, MAX_CHECKSUM_ENTRIES, MAX_CHECKSUM_LINE, MAX_KEPT_PROBLEMS, parseChecksumList, problemCounts,
} from '../src/batch/checksums.js';
import { halfSipHash } from '../src/batch/halfsiphash.js';
import { aenv, CLI_ONLY, tempDir, UNDER_MUTATION } from './helpers/cli.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const tmp = tempDir('aenv-checksum-table-');
afterAll(() => tmp.cleanup());

describe('HalfSipHash-2-4', () => {
  // vectors_hsip32 of the reference (github.com/veorq/SipHash vectors.h): key 00..07, message 00..len-1, output bytes
  const VECTORS: [number, string][] = [
    [0, 'a9359f5b'], [1, '27475ab8'], [2, 'fa62a603'], [3, '8afee704'], [4, '2a6e4689'], [5, 'c5fab669'], [7, '8bcf63c5'],
    [8, 'd0b8848f'], [15, '74fe2b97'], [16, 'd9b5ac84'], [31, '5d589f1a'], [32, 'fee72112'], [62, 'bd83997a'], [63, '59ea4a74'],
  ];
  it('matches the reference vectors', () => {
    const key = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const [len, hex] of VECTORS) {
      const out = Buffer.alloc(4);
      out.writeUInt32LE(halfSipHash(Uint8Array.from({ length: len }, (_, i) => i), key));
      expect(out.toString('hex'), `length ${len}`).toBe(hex);
    }
  });
});

describe('ChecksumEntries', () => {
  it('finds each of 30,000 names (through every growth) and no other, in the order added', () => {
    const t = new ChecksumEntries();
    const name = (i: number): string => `dir${i % 97}/ü-${i}-${'x'.repeat(i % 40)}.aspera-env`;
    const wrong: number[] = [];
    for (let i = 0; i < 30_000; i++) if (t.add(Buffer.from(name(i)), sha(name(i)), i + 1, i % 2 ? 'binary' : 'text') !== i) wrong.push(i);
    expect(t.size).toBe(30_000);
    for (let i = 0; i < 30_000; i++) if (t.indexOf(name(i)) !== i || !t.digestIs(i, sha(name(i))) || t.digestIs(i, sha('other'))) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(t.entry(27_777)).toEqual({ path: name(27_777), digest: sha(name(27_777)).toString('hex'), line: 27_778, mode: 'binary', conflicts: [] });
    for (const absent of ['', 'dir1', 'dir0/ü-0-.aspera-env/', name(30_000), name(5).toUpperCase()]) expect(t.has(absent)).toBe(false);
    let n = 0;
    for (const [p, e] of t) if (p === name(n) && e.line === n + 1) n++;
    expect(n).toBe(30_000);
    expect(() => t.add(Buffer.from(name(3)), sha('x'), 1, 'text')).toThrow(/added twice/);
  });

  it('conflicts are kept by entry; a bit set remembers which entries were seen', () => {
    const t = new ChecksumEntries();
    t.add(Buffer.from('a'), sha('a'), 1, 'text');
    t.add(Buffer.from('b'), sha('b'), 2, 'tagged');
    t.addConflict(0, 3, sha('z').toString('hex'));
    expect(t.conflicted(0)).toBe(true);
    expect(t.conflicted(1)).toBe(false);
    expect(t.get('a')!.conflicts).toEqual([{ line: 3, digest: sha('z').toString('hex') }]);
    const bits = new Bits(20);
    bits.add(0);
    bits.add(19);
    expect([...Array(20).keys()].filter((i) => bits.has(i))).toEqual([0, 19]);
  });
});

describe('limits', () => {
  const H = 'a'.repeat(64);
  it('more entries than the limit: refused with the line of the first one too many', () => {
    const p = new ChecksumListParser({ maxEntries: 3 });
    p.push(enc(`# four entries\n${H}  a\n${H}  b\n${H}  a\n${H}  c\n`)); // a twice: three entries so far
    let err: unknown;
    try {
      p.push(enc(`${H}  d\n`));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChecksumLimitError);
    expect((err as ChecksumLimitError).line).toBe(6);
    expect((err as Error).message).toBe('line 6: the list has more than 3 entries, the most aenv holds');
    expect((err as ChecksumLimitError).hint).toMatch(/split the list/);
  });

  it('more bytes than the limit: refused with the line being read, before it is kept', () => {
    const p = new ChecksumListParser({ maxBytes: 1024 * 1024 });
    const line = `${H}  ${'n'.repeat(100)}\n`; // 167 bytes
    const lines = Math.floor((1024 * 1024) / line.length); // whole lines within the limit
    p.push(enc(line.repeat(lines)));
    expect(() => p.push(enc(line))).toThrow(`line ${lines + 1}: the list is longer than 1,048,576 bytes (1 MiB), the most aenv reads`);
  });

  it('the limits fit real archives and bound what a list can make aenv hold', () => {
    expect(MAX_CHECKSUM_LINE).toBe(16 * 1024);
    expect(MAX_CHECKSUM_ENTRIES).toBe(10_000_000);
    expect(MAX_CHECKSUM_BYTES).toBe(2 ** 31);
  });

  it('past the first problems, the rest are counted, not kept', () => {
    const text = Array.from({ length: MAX_KEPT_PROBLEMS + 500 }, (_, i) => `bad line ${i}`).join('\n') + `\n${H}  a\n${H}  a\n`;
    const l = parseChecksumList(enc(text));
    expect(l.problems).toHaveLength(MAX_KEPT_PROBLEMS);
    expect(l.problems.at(-1)!.line).toBe(MAX_KEPT_PROBLEMS);
    expect(l.unkept).toEqual({ errors: 500, warnings: 1 });
    expect(problemCounts(l.problems, l.unkept)).toEqual({ errors: MAX_KEPT_PROBLEMS + 500, warnings: 1 });
    expect(new ChecksumCheck(l).check('a', H).outcome).toBe('ok');
  });
});

describe.skipIf(UNDER_MUTATION)(`from the outside${CLI_ONLY}`, () => {
  it('a "list" that never ends (/dev/zero, a disk image): a usage error at 2 GiB, naming the limit and the line', () => {
    const dir = path.join(tmp.dir, 'zero');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'x.aspera-env'), 'not an envelope');
    const r = aenv(['verify', dir, '--checksums', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('aenv: error: the checksum list /dev/zero: line 1: the list is longer than 2,147,483,648 bytes (2 GiB), the most aenv reads\n'
      + 'aenv: hint: split the list and the tree into parts (one list per folder, or per --shard K/N part), each within the limits\n');
  }, 120_000);

  it('a list of many bad lines: the first are named, the rest counted; the run fails', () => {
    const list = path.join(tmp.dir, 'bad.sha256');
    writeFileSync(path.join(tmp.dir, 'x.aspera-env'), 'not an envelope');
    const good = `${sha('not an envelope').toString('hex')}  x.aspera-env\n`;
    writeFileSync(list, good + Array.from({ length: MAX_KEPT_PROBLEMS + 20 }, (_, i) => `not a line ${i}`).join('\n') + '\n');
    const r = aenv(['verify', tmp.dir, '--checksums', list, '--json']);
    expect(r.code).toBe(1);
    const notes = r.stderr.split('\n').filter((l) => l.startsWith(`aenv: ${list}: `));
    expect(notes).toHaveLength(MAX_KEPT_PROBLEMS + 1);
    expect(notes.at(-1)).toBe(`aenv: ${list}: 20 more bad or repeated lines not shown (20 errors, 0 warnings)`);
    const summary = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { summary: { checksums: { bad_lines: number } } }).summary;
    expect(summary.checksums.bad_lines).toBe(MAX_KEPT_PROBLEMS + 20);
  });
});
