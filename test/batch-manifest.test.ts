// The manifest's plaintext, AENV-MANIFEST/1 (src/batch/manifest.ts, docs/MANIFEST.md): the
// example of the document decodes and re-encodes byte for byte; random entries round-trip;
// every departure from the canonical form is refused with its line number; random damage is
// either refused or yields a text that re-encodes to itself (one spelling per manifest).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeManifest, encodeManifest, encodeManifestBytes, escapePath, isManifestName, isManifestPath, MANIFEST_MAGIC,
  ManifestDecoder, ManifestError, manifestName, MAX_ENTRIES, MAX_LINE_BYTES, unescapePath, type ManifestEntry,
} from '../src/batch/manifest.js';
import { compareUtf8 } from '../src/batch/relpath.js';
import { ROOT } from './helpers/cli.js';

const h = (s: string): string => createHash('sha256').update(s).digest('hex');
const SALT = h('salt');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (p: string, i: number, size = i * 100): ManifestEntry => ({ path: p, size, nonce: h(`n${i}`), digest: h(`d${i}`) });
const head = (n: number): string => `${MANIFEST_MAGIC}\nbatch ${SALT}\nentries ${n}\n`;
const line = (e: ManifestEntry): string => `${e.nonce} ${e.digest} ${e.size} ${escapePath(e.path)}\n`;

function refused(s: string | Uint8Array): ManifestError {
  try {
    decodeManifest(typeof s === 'string' ? text(s) : s);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('the manifest was accepted');
}

describe('the document', () => {
  it('the example in docs/MANIFEST.md decodes, and encodes back to the same bytes', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/MANIFEST.md'), 'utf8');
    const ex = /### Example[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1]!;
    const m = decodeManifest(text(ex));
    expect(m.entries.map((e) => [e.path, e.size])).toEqual([
      ['2026/q3.csv.aspera-env', 1258291], ['2026/q4 final.csv.aspera-env', 65536], ['readme 100%.txt.aspera-env', 0],
    ]);
    expect(m.salt).toBe(h('example salt'));
    expect(m.entries[1]!.nonce).toBe(h('nonce 2'));
    expect(Buffer.from(encodeManifestBytes(m.salt, m.entries)).toString('utf8')).toBe(ex);
  });
});

describe('names', () => {
  it('.aenv-manifest plus the extension, at the root only', () => {
    expect(manifestName()).toBe('.aenv-manifest.aspera-env');
    expect(manifestName('.enc')).toBe('.aenv-manifest.enc');
    expect(isManifestPath('.aenv-manifest.aspera-env')).toBe(true);
    expect(isManifestPath('sub/.aenv-manifest.aspera-env')).toBe(false);
    expect(isManifestName('.aenv-manifest.enc', '.enc')).toBe(true);
  });
});

describe('encoding', () => {
  it('sorts by UTF-8 bytes, escapes controls, space and %, and nothing else', () => {
    const out = Buffer.from(encodeManifestBytes(SALT, [entry('\u{1F600}', 1), entry('\uFF21', 2), entry('a b%\t\x7f\u00e9/c', 3), entry('a', 4)])).toString('utf8');
    expect(out).toBe(head(4) + [entry('a', 4), entry('a b%\t\x7f\u00e9/c', 3), entry('\uFF21', 2), entry('\u{1F600}', 1)].map(line).join(''));
    expect(out).toContain(' a%20b%25%09%7F\u00e9/c\n');
  });

  it('an empty batch is three lines', () => {
    expect(Buffer.from(encodeManifestBytes(SALT, [])).toString()).toBe(head(0));
    expect(decodeManifest(text(head(0))).entries).toEqual([]);
  });

  it('refuses bad entries: non-canonical path, bad size or hex, a path or nonce twice, a long path', () => {
    const bad: ManifestEntry[][] = [
      [entry('./a', 1)], [entry('a/../b', 1)], [entry('/a', 1)], [entry('a/', 1)], [entry('', 1)],
      [{ ...entry('a', 1), size: -1 }], [{ ...entry('a', 1), size: 1.5 }], [{ ...entry('a', 1), size: 2 ** 53 }],
      [{ ...entry('a', 1), nonce: 'xy' }], [{ ...entry('a', 1), digest: h('x').slice(2) }],
      [entry('a', 1), entry('a', 2)], [entry('a', 1), { ...entry('b', 2), nonce: h('n1') }],
      [entry('x'.repeat(4097), 1)],
    ];
    for (const b of bad) expect(() => encodeManifestBytes(SALT, b), JSON.stringify(b).slice(0, 80)).toThrow(ManifestError);
    expect(() => encodeManifestBytes('00', [])).toThrow(/batch salt/);
    expect(encodeManifestBytes(SALT, [entry('x'.repeat(4096), 1)]).length).toBeGreaterThan(4096);
  });

  it('comes in pieces of about 64 KiB that join to the whole', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => entry(`dir/${String(i).padStart(5, '0')}.aspera-env`, i));
    const pieces = [...encodeManifest(SALT, entries)];
    expect(pieces.length).toBeGreaterThan(3);
    for (const p of pieces.slice(0, -1)) expect(p.length).toBeLessThan(70_000);
    const m = decodeManifest(Buffer.concat(pieces));
    expect(m.entries).toEqual(entries);
    expect(m.byPath.get('dir/01999.aspera-env')).toBe(1999);
    expect(m.byNonce.get(h('n7'))).toBe(7);
  });

  it('round trip of random entries (property); the text is the unique encoding', () => {
    const seg = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '%', '\t', '\n', '\r', '\x7f', '\x01', 'é', '雪', '\u{1F600}', '+', '#'), minLength: 1, maxLength: 5 })
      .filter((s) => s !== '.' && s !== '..');
    const rel = fc.array(seg, { minLength: 1, maxLength: 3 }).map((a) => a.join('/'));
    const ent = fc.record({ path: rel, size: fc.maxSafeNat(), nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }), digest: fc.uint8Array({ minLength: 32, maxLength: 32 }) })
      .map((e) => ({ ...e, nonce: Buffer.from(e.nonce).toString('hex'), digest: Buffer.from(e.digest).toString('hex') }));
    fc.assert(fc.property(fc.uniqueArray(ent, { selector: (e) => e.path, maxLength: 8 }), (entries) => {
      fc.pre(new Set(entries.map((e) => e.nonce)).size === entries.length);
      const bytes = encodeManifestBytes(SALT, entries);
      const m = decodeManifest(bytes);
      expect(m.entries).toEqual([...entries].sort((a, b) => compareUtf8(a.path, b.path)));
      expect(Buffer.compare(Buffer.from(encodeManifestBytes(m.salt, m.entries)), Buffer.from(bytes))).toBe(0);
    }));
  });
});

describe('strict decoding', () => {
  const a = entry('a', 1);
  const b = entry('b', 2);
  const good = head(2) + line(a) + line(b);

  it('accepts the canonical text, also fed byte by byte', () => {
    const d = new ManifestDecoder();
    for (const byte of text(good)) d.push(Uint8Array.of(byte));
    expect(d.end().entries).toEqual([a, b]);
  });

  it.each([
    ['another magic', good.replace('AENV-MANIFEST/1', 'AENV-MANIFEST/2'), 1, /does not start with AENV-MANIFEST\/1/],
    ['CRLF', good.replace(/\n/g, '\r\n'), 1, /does not start/],
    ['a BOM', `\ufeff${good}`, 1, /does not start/],
    ['uppercase salt', good.replace(SALT, SALT.toUpperCase()), 2, /batch/],
    ['no batch line', good.replace(`batch ${SALT}\n`, ''), 2, /batch/],
    ['entries with a leading zero', good.replace('entries 2', 'entries 02'), 3, /leading zeros/],
    ['more entries than allowed', head(MAX_ENTRIES + 1), 3, /more than the limit/],
    ['fewer entries than declared', head(3) + line(a) + line(b), 6, /ends after 2 of 3 entries/],
    ['data after the last entry', `${good}x\n`, 6, /data after the last entry/],
    ['a trailing line without LF', `${good}x`, 6, /data after the last entry/],
    ['the last line without LF', good.slice(0, -1), 5, /no line end/],
    ['header only, cut', `${MANIFEST_MAGIC}\nbatch ${SALT}\n`, 3, /ends before its entries line/],
    ['empty', '', 1, /ends before its magic line/],
    ['uppercase nonce', head(1) + line(a).replace(a.nonce, a.nonce.toUpperCase()), 4, /file nonce/],
    ['short digest', head(1) + line(a).replace(a.digest, a.digest.slice(1)), 4, /content digest/],
    ['size with a leading zero', head(1) + line({ ...a, size: 7 }).replace(' 7 ', ' 07 '), 4, /size/],
    ['size beyond 2^53-1', head(1) + line(a).replace(' 100 ', ' 9007199254740992 '), 4, /size/],
    ['two spaces', head(1) + line(a).replace(' a\n', '  a\n'), 4, /4 fields/],
    ['a raw tab in the path', head(1) + line(a).replace(' a\n', ' a\tb\n'), 4, /must be written %09/],
    ['a lowercase escape', head(1) + line(entry('a b', 1)).replace('%20', '%2f'), 4, /uppercase hex/],
    ['an escape of a plain byte', head(1) + line(a).replace(' a\n', ' %41\n'), 4, /written as it is/],
    ['an escaped NUL', head(1) + line(a).replace(' a\n', ' a%00\n'), 4, /NUL/],
    ['a .. path', head(1) + line(entry('x/../y', 1)), 4, /\.\. segment/],
    ['a ./ path', head(1) + line(entry('./y', 1)), 4, /\. segment/],
    ['an absolute path', head(1) + line(entry('/y', 1)), 4, /absolute/],
    ['out of order', head(2) + line(b) + line(a), 5, /out of order/],
    ['UTF-16 order instead of UTF-8', head(2) + line(entry('\u{1F600}', 1)) + line(entry('\uFF21', 2)), 5, /out of order/],
    ['a path twice', head(2) + line(a) + line({ ...b, path: 'a' }), 5, /listed twice/],
    ['a nonce twice', head(2) + line(a) + line({ ...b, nonce: a.nonce }), 5, /nonce is listed twice/],
  ])('refuses %s (line %#)', (_what, input, lineNo, re) => {
    const e = refused(input);
    expect(e.line).toBe(lineNo);
    expect(e.message).toMatch(re);
    expect(e.message).toMatch(lineNo > 0 ? new RegExp(`^manifest line ${lineNo}: `) : /^manifest: /);
    expect(e.message).not.toContain('\n');
    expect(e.hint.length).toBeGreaterThan(10);
  });

  it('refuses text that is not UTF-8 and an over-long line without keeping it', () => {
    expect(refused(Buffer.concat([text(head(1)), Buffer.from([0xff]), text('\n')])).line).toBe(4);
    const d = new ManifestDecoder();
    d.push(text(head(1)));
    expect(() => {
      for (let i = 0; i < 4; i++) d.push(new Uint8Array(MAX_LINE_BYTES / 2).fill(0x61));
    }).toThrow(/^manifest line 4: line of more than 12435 bytes$/);
  });

  it('random damage is refused, or what is accepted re-encodes to the same bytes (property)', () => {
    const entries = ['2026/q3.csv.aspera-env', '2026/q4 final.aspera-env', 'x%y', 'é/雪'].map((p, i) => entry(p, i));
    const bytes = Buffer.from(encodeManifestBytes(SALT, entries));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 3 }), (edits) => {
      let b = Buffer.from(bytes);
      for (const [pos, v, op] of edits) {
        const p = Math.min(pos, b.length);
        if (op === 'set' && p < b.length) b[p] = v;
        else if (op === 'insert') b = Buffer.concat([b.subarray(0, p), Buffer.of(v), b.subarray(p)]);
        else b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1)]);
      }
      let m;
      try {
        m = decodeManifest(b);
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
        return;
      }
      expect(Buffer.compare(Buffer.from(encodeManifestBytes(m.salt, m.entries)), b)).toBe(0);
    }), { numRuns: 500 });
  });
});

describe('escapePath / unescapePath', () => {
  it('are inverse on any path', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(unescapePath(escapePath(s))).toEqual({ path: s });
    }));
  });
});
