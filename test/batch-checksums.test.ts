// Checksum lists (src/batch/checksums.ts, checksum-check.ts) against the real GNU sha256sum:
// files with odd names (spaces, newlines, CR, backslashes, leading * and #, a file named -) in a
// temp folder; what sha256sum writes equals what aenv writes byte for byte, sha256sum -c accepts
// aenv's lists, aenv reads sha256sum's lists to the right names and digests, and on random lines
// aenv calls exactly the lines improperly formatted that sha256sum -c -w does, with the same names.

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compareChecksums, ChecksumCheck } from '../src/batch/checksum-check.js';
import {
  ChecksumLineReader, ChecksumListParser, escapeName, formatChecksumLine, formatChecksumList, MAX_CHECKSUM_LINE,
  parseChecksumList, problemCounts, problemLines, unescapeName,
} from '../src/batch/checksums.js';
import { BatchError } from '../src/batch/errors.js';
import { tempDir } from './helpers/cli.js';

const HAVE_SHA256SUM = spawnSync('sha256sum', ['--version']).status === 0;
const tmp = tempDir('aenv-batch-sums-');
afterAll(() => tmp.cleanup());

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const H0 = '0'.repeat(64);
const HA = 'a'.repeat(64);

/** Runs sha256sum in `cwd`, returning exit status and raw output. */
function sha256sum(args: string[], cwd: string): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('sha256sum', args, { cwd, input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

// Relative paths with every kind of odd name sha256sum treats specially (or not).
const ODD: Record<string, string> = {
  'plain.txt': 'plain',
  'sp ace.csv': 'space',
  ' lead': 'leading space',
  'trail ': 'trailing space',
  'new\nline': 'newline',
  'car\rreturn': 'carriage return',
  'back\\slash': 'backslash',
  'both\\and\nnewline': 'both',
  '*star': 'star',
  '#hash': 'hash',
  'tab\there': 'tab',
  'paren) = x': 'parenthesis',
  'ünïcödé 雪.bin': 'unicode',
  '-': 'a file named dash',
  'sub/dir/deep file.aspera-env': 'nested',
  'sub/n\new': 'nested newline',
  '\\': 'only a backslash',
};

function makeTree(): { dir: string; digests: Map<string, string> } {
  const dir = path.join(tmp.dir, 'odd');
  const digests = new Map<string, string>();
  for (const [rel, content] of Object.entries(ODD)) {
    mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
    digests.set(rel, sha(content));
  }
  return { dir, digests };
}

/** The argument sha256sum needs to write `rel` as aenv does (a file named - as ./-). */
const arg = (rel: string): string => (rel === '-' ? './-' : rel);

describe.skipIf(!HAVE_SHA256SUM)('against the real sha256sum (coreutils)', () => {
  const { dir, digests } = makeTree();
  const items = [...digests].map(([p, d]) => ({ path: p, digest: d }));
  const names = [...digests.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));

  it.each([
    ['text', [] as string[], {}],
    ['binary', ['-b'], { binary: true }],
    ['tag', ['--tag'], { tag: true }],
  ])('writes the %s form byte for byte as sha256sum does', (_n, flags, opt) => {
    const r = sha256sum([...flags, '--', ...names.map(arg)], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(formatChecksumList(items, opt)).toBe(r.stdout.toString('utf8'));
  });

  it.each([
    ['text', {}], ['binary', { binary: true }], ['tag', { tag: true }],
  ])('sha256sum -c --strict accepts the %s list aenv writes', (_n, opt) => {
    const list = path.join(tmp.dir, `ours-${_n}.sha256`);
    writeFileSync(list, formatChecksumList(items, opt));
    const r = sha256sum(['-c', '--strict', list], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString().split('\n').filter((l) => l.endsWith(': OK')).length).toBe(names.length);
  });

  it.each([[[]], [['-b']], [['--tag']]])('reads what sha256sum %j writes: every name and digest', (flags) => {
    const r = sha256sum([...flags, '--', ...names.map(arg)], dir);
    const list = parseChecksumList(r.stdout);
    expect(list.problems).toEqual([]);
    expect(new Map([...list.entries].map(([p, e]) => [p, e.digest]))).toEqual(digests);
  });

  it('reads find . -exec sha256sum (./ prefixes) and CRLF line ends', () => {
    const r = spawnSync('sh', ['-c', 'find . -type f -exec sha256sum {} +'], { cwd: dir });
    expect(r.status).toBe(0);
    const crlf = Buffer.from(r.stdout.toString('utf8').replace(/\n/g, '\r\n'));
    for (const bytes of [r.stdout, crlf]) {
      const list = parseChecksumList(bytes);
      expect(list.problems).toEqual([]);
      expect(new Map([...list.entries].map(([p, e]) => [p, e.digest]))).toEqual(digests);
    }
  });

  it('a changed and a removed file: sha256sum -c and compareChecksums agree; extra files are named', () => {
    const list = parseChecksumList(Buffer.from(formatChecksumList(items)));
    const tree = path.join(tmp.dir, 'changed');
    const actual = new Map<string, string | null>();
    for (const [rel, content] of Object.entries(ODD)) {
      if (rel === 'new\nline') continue; // removed
      const c = rel === 'sp ace.csv' ? 'tampered' : content;
      mkdirSync(path.join(tree, path.dirname(rel)), { recursive: true });
      writeFileSync(path.join(tree, rel), c);
      actual.set(rel, sha(c));
    }
    writeFileSync(path.join(tree, 'extra one'), 'x');
    actual.set('extra one', sha('x'));
    const listFile = path.join(tmp.dir, 'changed.sha256');
    writeFileSync(listFile, formatChecksumList(items));
    const r = sha256sum(['-c', listFile], tree);
    expect(r.code).toBe(1);
    const out = r.stdout.toString();
    expect(out).toContain('sp ace.csv: FAILED\n');
    expect(out).toContain('\\new\\nline: FAILED open or read\n');
    const cmp = compareChecksums(list, actual);
    expect(cmp.mismatch.map((m) => m.path)).toEqual(['sp ace.csv']);
    expect(cmp.missing.map((m) => m.path)).toEqual(['new\nline']);
    expect(cmp.extra).toEqual(['extra one']);
    expect(cmp.ok.length).toBe(names.length - 2);
  });

  // Random lines from the characters that matter to split_3: sha256sum -c -w names the improperly
  // formatted lines on stderr and tries to open the others in order ("NAME: FAILED open or read");
  // aenv's line reader must reject the same lines and extract the same names.
  const strOf = (a: fc.Arbitrary<string>, o: { maxLength: number }) => fc.array(a, o).map((x) => x.join(''));
  const alphabet = fc.constantFrom(' ', ' ', '\t', '*', '\\', 'n', 'r', '(', ')', '=', 'x', 'y', '/', '.', '#', 'SHA256', 'SHA256 (', ') = ');
  const hexish = fc.constantFrom(H0, HA, HA.toUpperCase(), H0.slice(1), `${H0}0`, 'SHA256 (');
  const line = fc.oneof(
    fc.tuple(strOf(fc.constantFrom(' ', '\t', '\\'), { maxLength: 2 }), hexish, fc.constantFrom(' ', '  ', ' *', '\t', '\t ', ''),
      strOf(alphabet, { maxLength: 6 })).map(([a, b, c, d]) => a + b + c + d),
    fc.tuple(fc.constantFrom('', '\\'), strOf(alphabet, { maxLength: 5 }), fc.constantFrom(') = ', ')= ', ')=', ') '), hexish)
      .map(([a, n, m, h]) => `${a}SHA256 (x${n}${m}${h}`),
    strOf(alphabet, { maxLength: 8 }),
  );

  it('random lines: the same lines are improperly formatted, the same names are opened', () => {
    const empty = path.join(tmp.dir, 'empty');
    mkdirSync(empty, { recursive: true });
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
      const text = lines.map((l) => `${l}\n`).join('');
      const listFile = path.join(tmp.dir, 'fuzz.sha256');
      writeFileSync(listFile, text);
      const r = sha256sum(['-c', '-w', listFile], empty);
      const theirBad = [...r.stderr.matchAll(/fuzz\.sha256: (\d+): improperly formatted/g)].map((m) => Number(m[1]));
      const theirShown = r.stdout.toString('utf8').split('\n').filter((l) => l.includes(': FAILED'))
        .map((l) => l.replace(/: FAILED( open or read)?$/, ''));
      const reader = new ChecksumLineReader();
      const ourBad: number[] = [];
      const ourNames: string[] = [];
      lines.forEach((l, i) => {
        if (l.startsWith('#') || l === '') return; // comments and empty lines are skipped by both
        const got = reader.read(l);
        if (got === null) ourBad.push(i + 1);
        else ourNames.push(got.name);
      });
      expect(ourBad).toEqual(theirBad);
      // How -c prints a name: escaped when it holds LF (coreutils 9.1), or LF, CR or \ (later).
      expect(theirShown.length).toBe(ourNames.length);
      theirShown.forEach((shown, i) => {
        const n = ourNames[i]!;
        const forms = [n.includes('\n') ? `\\${escapeName(n)}` : n, /[\\\n\r]/.test(n) ? `\\${escapeName(n)}` : n];
        expect(forms).toContain(shown);
      });
    }), { numRuns: 200 });
  }, 60_000);
});

describe('parsing', () => {
  it('text, binary, tagged and OpenSSL forms; uppercase hex is read as lowercase', () => {
    const l = parseChecksumList(enc([
      `${H0}  a`, `${HA.toUpperCase()} *b c`, `SHA256 (d (1).txt) = ${HA}`, `SHA256(e)= ${H0}`, `\\SHA256 (f\\\\g) = ${H0}`,
    ].join('\n')));
    expect(l.problems).toEqual([]);
    expect([...l.entries.values()].map((e) => [e.path, e.digest.slice(0, 1), e.mode, e.line])).toEqual([
      ['a', '0', 'text', 1], ['b c', 'a', 'binary', 2], ['d (1).txt', 'a', 'tagged', 3], ['e', '0', 'tagged', 4], ['f\\g', '0', 'tagged', 5],
    ]);
  });

  it('comments, empty and CR-only lines are skipped; line numbers count every line', () => {
    const l = parseChecksumList(enc(`# made by hand\n\n\r\n${H0}  a\r\n   \nnot a line\n${HA}  b`));
    expect([...l.entries.values()].map((e) => [e.path, e.line])).toEqual([['a', 4], ['b', 7]]);
    expect(l.problems.map((p) => [p.line, p.kind])).toEqual([[5, 'format'], [6, 'format']]);
    expect(l.lines).toBe(7);
    expect(problemLines('sums.txt', l.problems)).toEqual([
      'sums.txt: 5: improperly formatted SHA256 checksum line', 'sums.txt: 6: improperly formatted SHA256 checksum line',
    ]);
    expect(problemCounts(l.problems)).toEqual({ errors: 2, warnings: 0 });
  });

  it('escaped names: \\\\, \\n and \\r; any other escape makes the line improperly formatted', () => {
    const l = parseChecksumList(enc([`\\${H0}  a\\nb`, `\\${H0}  c\\rd\\\\`, `\\${H0}  e\\tf`, `\\${H0}  g\\`, `${H0}  h\\ni`].join('\n')));
    expect([...l.entries.keys()]).toEqual(['a\nb', 'c\rd\\', 'h\\ni']); // without the leading \ nothing is unescaped
    expect(l.problems.map((p) => [p.line, p.kind])).toEqual([[3, 'format'], [4, 'format']]);
  });

  it('BSD reversed lines only when the list starts with them, then every line is read that way', () => {
    const rev = parseChecksumList(enc(`${H0} a\n${HA}  b\n`));
    expect([...rev.entries.keys()]).toEqual(['a', ' b']);
    const std = parseChecksumList(enc(`${H0}  a\n${HA} b\n`));
    expect([...std.entries.keys()]).toEqual(['a']);
    expect(std.problems.map((p) => p.line)).toEqual([2]);
  });

  it('paths: ./ and // made canonical; absolute, .., trailing /, - and NUL are errors of their line', () => {
    const l = parseChecksumList(enc([
      `${H0}  ./x//y/./z`, `${H0}  /etc/passwd`, `${H0}  a/../b`, `${H0}  ../up`, `${H0}  dir/`, `${H0}  -`, `${H0}  ./-`,
      `${H0}  .`, `${H0}  a\0b`,
    ].join('\n')));
    expect([...l.entries.keys()]).toEqual(['x/y/z', '-']);
    expect(l.problems.map((p) => [p.line, p.kind])).toEqual([[2, 'path'], [3, 'path'], [4, 'path'], [5, 'path'], [6, 'path'], [8, 'path'], [9, 'format']]);
    expect(l.problems[0]!.message).toContain('"/etc/passwd"');
    expect(l.problems[0]!.message).toContain('absolute');
  });

  it('a name twice: same digest is a warning, another digest an error; the first line wins', () => {
    const l = parseChecksumList(enc(`${H0}  a\n${H0}  ./a\n${HA}  a\n`));
    expect(l.entries.get('a')).toMatchObject({ digest: H0, line: 1, conflicts: [{ line: 3, digest: HA }] });
    expect(l.problems.map((p) => [p.line, p.kind, p.severity])).toEqual([[2, 'duplicate', 'warning'], [3, 'conflict', 'error']]);
  });

  it('a line that is not UTF-8 is an error with its number; the others are read', () => {
    const bytes = Buffer.concat([enc(`${H0}  ok\n${H0}  caf`), Buffer.from([0xe9]), enc(`\n${HA}  b\n`)]);
    const l = parseChecksumList(bytes);
    expect([...l.entries.keys()]).toEqual(['ok', 'b']);
    expect(l.problems.map((p) => [p.line, p.kind])).toEqual([[2, 'encoding']]);
  });

  it('an empty list, and one without any good line, say so', () => {
    expect(parseChecksumList(new Uint8Array()).problems.map((p) => [p.line, p.kind])).toEqual([[0, 'empty']]);
    expect(parseChecksumList(enc('junk\n')).problems.map((p) => p.kind)).toEqual(['format', 'empty']);
  });

  it('a line over the limit is an error, not buffered; later lines still count', () => {
    const p = new ChecksumListParser();
    const big = new Uint8Array(MAX_CHECKSUM_LINE).fill(0x41);
    p.push(enc(`${H0}  a\n`));
    p.push(big);
    p.push(big);
    p.push(enc(`\n${HA}  b\n`));
    const l = p.end();
    expect([...l.entries.values()].map((e) => [e.path, e.line])).toEqual([['a', 1], ['b', 3]]);
    expect(l.problems.map((p2) => [p2.line, p2.kind])).toEqual([[2, 'too-long']]);
  });

  it('chunk boundaries do not matter (every split of a list gives the same result)', () => {
    const text = enc(`${H0}  a b\r\n# c\n\\${HA}  x\\ny\n\nSHA256 (t) = ${H0}\nbad\n${HA}  a b`);
    const whole = parseChecksumList(text);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 6 }), (cuts) => {
      const p = new ChecksumListParser();
      let last = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        p.push(text.subarray(last, c));
        last = c;
      }
      p.push(text.subarray(last));
      expect(p.end()).toEqual(whole);
    }));
  });
});

describe('writing', () => {
  it('escapes names with a backslash, LF or CR, and writes - as ./-', () => {
    expect(formatChecksumLine('a b', H0)).toBe(`${H0}  a b\n`);
    expect(formatChecksumLine('a\nb\\c\rd', H0)).toBe(`\\${H0}  a\\nb\\\\c\\rd\n`);
    expect(formatChecksumLine('x)y', HA, { tag: true })).toBe(`SHA256 (x)y) = ${HA}\n`);
    expect(formatChecksumLine('x\ny', HA, { tag: true })).toBe(`\\SHA256 (x\\ny) = ${HA}\n`);
    expect(formatChecksumLine('-', H0, { binary: true })).toBe(`${H0} *./-\n`);
    expect(formatChecksumLine('a', new Uint8Array(32).fill(0xab))).toBe(`${'ab'.repeat(32)}  a\n`);
  });

  it('refuses paths that are not canonical relative paths, bad digests and a path twice', () => {
    for (const bad of ['', '/abs', 'a/../b', './a', 'a//b', 'a/']) expect(() => formatChecksumLine(bad, H0)).toThrow(BatchError);
    expect(() => formatChecksumLine('a', 'xyz')).toThrow(/not 64 hex digits/);
    expect(() => formatChecksumList([{ path: 'a', digest: H0 }, { path: 'a', digest: HA }])).toThrow(/listed twice/);
  });

  it('orders by UTF-8 bytes, not UTF-16 units', () => {
    const out = formatChecksumList([{ path: '\u{1F600}', digest: H0 }, { path: '\uFF21', digest: H0 }, { path: 'b', digest: H0 }]);
    expect(out.split('\n').slice(0, 3).map((l) => l.slice(66))).toEqual(['b', '\uFF21', '\u{1F600}']);
  });

  it('round trip: any canonical names and digests written are read back the same (property)', () => {
    const seg = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).filter((s) => s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0') && s.isWellFormed());
    const rel = fc.array(seg, { minLength: 1, maxLength: 3 }).map((a) => a.join('/'));
    const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
    fc.assert(fc.property(fc.uniqueArray(fc.record({ path: rel, digest }), { selector: (e) => e.path, minLength: 1, maxLength: 8 }), fc.boolean(), (items, tag) => {
      const l = parseChecksumList(enc(formatChecksumList(items, { tag })));
      expect(l.problems).toEqual([]);
      expect(new Map([...l.entries].map(([p, e]) => [p, e.digest]))).toEqual(new Map(items.map((i) => [i.path, i.digest])));
    }));
  });

  it('escapeName and unescapeName are inverse', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '\\', '\n', '\r', 'n', 'r') }), (s) => {
      expect(unescapeName(escapeName(s))).toBe(s);
    }));
  });
});

describe('checking', () => {
  const list = parseChecksumList(enc(`${H0}  a\n${HA}  b\n${H0}  c/d\n${H0}  e\n${HA}  e\n`));

  it('ok, mismatch, extra and missing', () => {
    const cmp = compareChecksums(list, new Map<string, string | null>([['a', H0], ['b', H0], ['x', HA], ['c/d', null]]));
    expect(cmp.ok).toEqual(['a']);
    expect(cmp.mismatch).toMatchObject([{ path: 'b', expected: HA, actual: H0, line: 2 }]);
    expect(cmp.mismatch[0]!.detail).toContain('line 2');
    expect(cmp.extra).toEqual(['x']);
    expect(cmp.missing.map((m) => m.path)).toEqual(['c/d', 'e']);
  });

  it('a path listed with two digests never checks ok', () => {
    const c = new ChecksumCheck(list);
    const v = c.check('e', H0);
    expect(v.outcome).toBe('mismatch');
    expect(v.detail).toContain('lines 4, 5');
  });

  it('out of scope paths are not missing; a path checked twice is a bug', () => {
    const c = new ChecksumCheck(list, { inScope: (p) => p !== 'e' });
    expect(c.check('a', Buffer.from(H0, 'hex')).outcome).toBe('ok');
    expect(c.missing().map((m) => m.path)).toEqual(['b', 'c/d']);
    expect(() => c.check('a', H0)).toThrow(/twice/);
  });
});
