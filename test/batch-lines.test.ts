// The shared pieces of src/batch: RecordSplitter (records at a delimiter, bounded memory, any
// chunking) and relpath.ts (canonical relative paths, list paths made canonical, UTF-8 order).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, escapeBytes, RecordSplitter } from '../src/batch/lines.js';
import { compareUtf8, isCanonicalRelPath, normalizeListPath, relPathProblem, toSlashPath } from '../src/batch/relpath.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (u: Uint8Array | null): string | null => (u === null ? null : new TextDecoder().decode(u));

describe('RecordSplitter', () => {
  it('records, their numbers, an unterminated last one, empty records', () => {
    const s = new RecordSplitter(0x0a, 100);
    const got = [...s.push(b('a\n\nbc')), ...s.push(b('d\ne')), ...s.end()];
    expect(got.map((r) => [r.n, text(r.bytes), r.length, r.terminated])).toEqual([[1, 'a', 1, true], [2, '', 0, true], [3, 'bcd', 3, true], [4, 'e', 1, false]]);
    expect(s.count).toBe(4);
  });

  it('a record over the limit comes out with bytes null and its length; memory stays bounded', () => {
    const s = new RecordSplitter(0x00, 4);
    const got = [...s.push(b('abcd\0abc')), ...s.push(b('de')), ...s.push(b('fgh\0x'))];
    expect(s.openBytes).toBe(1);
    got.push(...s.end());
    expect(got.map((r) => [r.n, text(r.bytes), r.length])).toEqual([[1, 'abcd', 4], [2, null, 8], [3, 'x', 1]]);
  });

  it('the caller may reuse its buffer after push', () => {
    const s = new RecordSplitter(0x0a, 100);
    const buf = b('abc');
    s.push(buf);
    buf.fill(0x7a);
    expect(text(s.end()[0]!.bytes)).toBe('abc');
  });

  it('any chunking gives the records of splitting the whole (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }).map((u) => u.map((x) => (x % 4 === 0 ? 10 : x))), fc.array(fc.nat(60), { maxLength: 5 }), fc.integer({ min: 1, max: 8 }), (bytes, cuts, max) => {
      const one = new RecordSplitter(10, max);
      const whole = [...one.push(bytes), ...one.end()];
      const s = new RecordSplitter(10, max);
      const got = [];
      let last = 0;
      for (const c of cuts.map((x) => Math.min(x, bytes.length)).sort((x, y) => x - y)) {
        got.push(...s.push(bytes.subarray(last, c)));
        last = c;
      }
      got.push(...s.push(bytes.subarray(last)), ...s.end());
      expect(got).toEqual(whole);
      const expected = Buffer.from(bytes).toString('latin1').split('\n');
      if (expected.at(-1) === '') expected.pop();
      expect(whole.map((r) => r.length)).toEqual(expected.map((x) => x.length));
    }));
  });

  it('strict UTF-8 and byte escapes for messages', () => {
    expect(decodeUtf8(b('ünï'))).toBe('ünï');
    expect(decodeUtf8(Uint8Array.of(0xc3))).toBeNull();
    expect(decodeUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toBeNull(); // an encoded surrogate
    expect(escapeBytes(Uint8Array.of(0x61, 0x5c, 0x0a, 0xff))).toBe('a\\x5c\\x0a\\xff');
  });
});

describe('relative paths', () => {
  it('canonical: no empty, . or .. segment, not absolute, no NUL', () => {
    for (const ok of ['a', 'a/b', '.a/..b/...', 'a b/ c ', 'a\\b']) expect(isCanonicalRelPath(ok), ok).toBe(true);
    for (const bad of ['', '/a', 'a/', 'a//b', './a', 'a/./b', '../a', 'a/..', 'a\0b', '\ud800']) expect(relPathProblem(bad), bad).not.toBeNull();
  });

  it('list paths: ./ and // dropped; absolute, .., trailing / and the folder itself refused', () => {
    expect(normalizeListPath('./a//b/./c')).toEqual({ path: 'a/b/c' });
    expect(normalizeListPath('././x')).toEqual({ path: 'x' });
    for (const bad of ['', '/etc/passwd', 'a/../b', '..', 'dir/', '.', './', 'a\0']) expect(normalizeListPath(bad), bad).toHaveProperty('error');
  });

  it('platform separators', () => {
    expect(toSlashPath('a\\b\\c', '\\')).toBe('a/b/c');
    expect(toSlashPath('a\\b', '/')).toBe('a\\b');
  });

  it('compareUtf8 orders as the UTF-8 bytes do (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (x, y) => {
      expect(Math.sign(compareUtf8(x, y))).toBe(Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y))));
    }));
    expect(compareUtf8('\u{1F600}', '\uFF21')).toBeGreaterThan(0); // '<' says the opposite
    expect('\u{1F600}' < '\uFF21').toBe(true);
  });
});
