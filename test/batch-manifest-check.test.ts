// Checking a tree against its manifest (src/batch/manifest-check.ts, docs/MANIFEST.md "Checking
// a tree"). Real AENV/1 envelopes are sealed into a folder with one salt, the manifest is built
// from them and decoded back, then every tampering of docs/MANIFEST.md "Checking a tree" is done on the files (swap, delete,
// rename, an older version put back, a copy, a foreign envelope, a damaged header, altered bytes);
// observing the tree from disk must give each file exactly the expected kind. Property: for random
// manifests and random moves, every file gets one row and only unaccounted entries are missing.

import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compareManifest, ManifestCheck, type BatchKind, type Observed } from '../src/batch/manifest-check.js';
import { decodeManifest, encodeManifestBytes, isManifestPath, manifestName, type Manifest, type ManifestEntry } from '../src/batch/manifest.js';
import { getBackend } from './helpers/backends.js';
import { KDF_PBKDF2, SUITE_AES_256_GCM } from '../src/format/constants.js';
import { parseHeader } from '../src/format/header.js';
import { DEFAULT_PARAMS } from '../src/format/kdf-params.js';
import { layoutForSize } from '../src/format/layout.js';
import { EnvelopeError } from '../src/format/status.js';
import { newContext } from '../src/engine/context.js';
import { newEncoder } from '../src/engine/aenv.js';
import { tempDir } from './helpers/cli.js';

const tmp = tempDir('aenv-batch-mcheck-');
afterAll(() => tmp.cleanup());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Seals `plaintext` as one envelope of the run with `salt` (the keys do not matter here). */
function seal(salt: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const ctx = newContext(getBackend('node'), null);
  const { header, encoder } = newEncoder(ctx, { suite: SUITE_AES_256_GCM, chunkLog2: 12, params: DEFAULT_PARAMS[KDF_PBKDF2], salt, master: randomBytes(32) });
  return Buffer.concat([header, ...encoder.push(plaintext), ...encoder.end()]);
}

/** What verify observes of one file: nonce from the header, digest over all but the trailer, plaintext size. */
function observeFile(root: string, rel: string): Observed {
  const b = readFileSync(path.join(root, rel));
  try {
    const h = parseHeader(b.subarray(0, 128), b.length);
    const size = layoutForSize(b.length, 2 ** h.chunkLog2).plaintextLen;
    return { path: rel, nonce: hex(h.fileNonce), digest: createHash('sha256').update(b.subarray(0, b.length - 40)).digest('hex'), size, status: 'ok' };
  } catch (e) {
    return { path: rel, nonce: null, digest: null, size: null, status: (e as EnvelopeError).status };
  }
}

/** The tree's files, relative, `/`-separated, sorted, without the manifest. */
function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...walk(root, r));
    else if (!isManifestPath(r)) out.push(r);
  }
  return out.sort();
}

describe('a sealed tree, tampered with on disk', () => {
  const root = path.join(tmp.dir, 'out');
  const salt = randomBytes(32);
  const names = ['a.csv', 'b.csv', 'c.csv', 'd.csv', 'e.csv', 'f.csv', 'g.csv', 'h.csv', 'i.csv', 'j.csv', 'k.csv', 'sub dir/l\nm.csv']
    .map((n) => `${n}.aspera-env`);
  const entries: ManifestEntry[] = [];
  for (const [i, rel] of names.entries()) {
    const pt = randomBytes(100 + i * 1000);
    const env = seal(salt, pt);
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), env);
    entries.push({ path: rel, size: pt.length, nonce: hex(env.subarray(56, 88)), digest: hex(env.subarray(env.length - 32)) });
  }
  // as encrypt --manifest will: the text, sealed at the root (decoded back here from the text)
  const text = encodeManifestBytes(salt, entries);
  writeFileSync(path.join(root, manifestName()), seal(salt, text));
  const manifest: Manifest = decodeManifest(text);

  it('untouched: every file ok, nothing missing, the tree matches', () => {
    const cmp = compareManifest(manifest, walk(root).map((r) => observeFile(root, r)));
    expect(cmp.rows.map((r) => r.kind)).toEqual(names.map(() => 'ok'));
    expect(cmp.matches).toBe(true);
  });

  it('each tampering gets its own kind', () => {
    const p = (r: string): string => path.join(root, r);
    const older = seal(salt, randomBytes(500)); // an older version of e, from the same salt
    const foreign = seal(randomBytes(32), randomBytes(10)); // another batch's envelope
    renameSync(p('a.csv.aspera-env'), p('tmp'));
    renameSync(p('b.csv.aspera-env'), p('a.csv.aspera-env'));
    renameSync(p('tmp'), p('b.csv.aspera-env')); // a and b swapped
    rmSync(p('c.csv.aspera-env')); // c deleted
    renameSync(p('d.csv.aspera-env'), p('d-renamed.csv.aspera-env')); // d renamed
    writeFileSync(p('e.csv.aspera-env'), older); // e: another version put back
    copyFileSync(p('f.csv.aspera-env'), p('f copy.csv.aspera-env')); // f copied
    writeFileSync(p('sub dir/x.aspera-env'), foreign); // an envelope from elsewhere
    const g = readFileSync(p('g.csv.aspera-env'));
    g[60]! ^= 1; // g: header damaged (header_check fails, so its nonce cannot be read)
    writeFileSync(p('g.csv.aspera-env'), g);
    renameSync(p('h.csv.aspera-env'), p('i.csv.aspera-env')); // h moved over i (i lost)
    const j = readFileSync(p('j.csv.aspera-env'));
    j[200]! ^= 1; // j: a payload byte altered, header intact
    writeFileSync(p('j.csv.aspera-env'), j);

    const c = new ManifestCheck(manifest);
    const immediate = walk(root).map((r) => c.observe(observeFile(root, r)));
    const rows = [...immediate.filter((r) => r !== null), ...c.finish()];
    const kinds = Object.fromEntries(rows.map((r) => [r.path, r.kind]));
    expect(kinds).toEqual({
      'a.csv.aspera-env': 'swapped', 'b.csv.aspera-env': 'swapped', 'c.csv.aspera-env': 'missing',
      'd-renamed.csv.aspera-env': 'renamed', 'e.csv.aspera-env': 'replaced', 'f.csv.aspera-env': 'ok',
      'f copy.csv.aspera-env': 'duplicate', 'g.csv.aspera-env': 'unchecked', 'i.csv.aspera-env': 'swapped',
      'j.csv.aspera-env': 'replaced', 'k.csv.aspera-env': 'ok', 'sub dir/l\nm.csv.aspera-env': 'ok',
      'sub dir/x.aspera-env': 'extra',
    } satisfies Record<string, BatchKind>);
    expect(rows.length).toBe(13); // d, h: accounted for by the rows of their new names, not missing
    const by = (r: string) => rows.find((x) => x.path === r)!;
    expect(by('a.csv.aspera-env').holds?.path).toBe('b.csv.aspera-env');
    expect(by('i.csv.aspera-env').detail).toContain('"h.csv.aspera-env"');
    expect(by('d-renamed.csv.aspera-env').detail).toContain('"d.csv.aspera-env"');
    expect(by('e.csv.aspera-env').detail).toContain('older or foreign version');
    expect(by('j.csv.aspera-env').detail).toContain('altered after sealing');
    expect(by('g.csv.aspera-env').detail).toContain('status corrupt');
    expect(c.matches).toBe(false);
    expect(c.counts()).toEqual({ ok: 3, replaced: 2, swapped: 3, renamed: 1, duplicate: 1, extra: 1, unchecked: 1, missing: 1 });
    // immediately decided rows came as the files were observed; renamed and duplicate at the end
    expect(immediate.filter((r) => r === null).length).toBe(2);
  });
});

describe('rules', () => {
  const h = (s: string): string => createHash('sha256').update(s).digest('hex');
  const e = (p: string, size = 10): ManifestEntry => ({ path: p, size, nonce: h(`n:${p}`), digest: h(`d:${p}`) });
  const m = decodeManifest(encodeManifestBytes(h('salt'), [e('a'), e('b'), e('c'), e('d/e')]));
  const at = (p: string, of: string, over: Partial<Observed> = {}): Observed => ({ path: p, nonce: h(`n:${of}`), digest: h(`d:${of}`), size: 10, status: 'ok', ...over });

  it('size or digest unknown is not compared; a size or digest that differs is replaced', () => {
    const cmp = compareManifest(m, [at('a', 'a', { digest: null, size: null }), at('b', 'b', { size: 11 }), at('c', 'c', { digest: h('x') }), at('d/e', 'd/e', { nonce: h('n:D/E') })]);
    expect(cmp.rows.map((r) => [r.path, r.kind])).toEqual([['a', 'ok'], ['b', 'replaced'], ['c', 'replaced'], ['d/e', 'replaced']]);
    expect(cmp.rows[1]!.detail).toContain('size 11');
  });

  it('nonces are compared without regard to case', () => {
    expect(compareManifest(m, [at('a', 'a', { nonce: h('n:a').toUpperCase(), digest: h('d:a').toUpperCase() })]).rows[0]!.kind).toBe('ok');
  });

  it('two copies of a moved envelope: the first is renamed, the second a duplicate', () => {
    const cmp = compareManifest(m, [at('x', 'a'), at('y', 'a'), at('b', 'b'), at('c', 'c'), at('d/e', 'd/e')]);
    expect(cmp.rows.map((r) => [r.path, r.kind])).toEqual([['b', 'ok'], ['c', 'ok'], ['d/e', 'ok'], ['x', 'renamed'], ['y', 'duplicate']]);
  });

  it('scope: entries outside it are never missing, but files are still judged against the whole manifest', () => {
    const cmp = compareManifest(m, [at('z', 'd/e')], { inScope: (p) => p !== 'b' && p !== 'c' });
    expect(cmp.rows.map((r) => [r.path, r.kind])).toEqual([['z', 'renamed'], ['a', 'missing']]);
    expect(compareManifest(m, [], { inScope: () => false }).matches).toBe(true);
  });

  it('misuse: a path twice, observe after finish', () => {
    const c = new ManifestCheck(m);
    c.observe(at('a', 'a'));
    expect(() => c.observe(at('a', 'a'))).toThrow(/twice/);
    c.finish();
    expect(() => c.observe(at('b', 'b'))).toThrow(/after finish/);
  });

  it('random moves, copies, deletions and strangers: one row per file, missing only when unaccounted (property)', () => {
    const paths = ['a', 'b', 'c', 'd/e'];
    const op = fc.record({ src: fc.constantFrom(...paths, 'stranger'), dst: fc.constantFrom(...paths, 'x', 'y', 'z/w') });
    fc.assert(fc.property(fc.array(op, { maxLength: 6 }), fc.subarray(paths), (ops, deleted) => {
      const tree = new Map<string, string>(paths.map((p) => [p, p])); // path -> whose envelope
      for (const d of deleted) tree.delete(d);
      for (const { src, dst } of ops) {
        if (src === 'stranger') tree.set(dst, 'stranger');
        else if (tree.has(src)) tree.set(dst, tree.get(src)!);
      }
      const observed = [...tree].map(([p, of]) => at(p, of));
      const cmp = compareManifest(m, observed);
      const rowPaths = cmp.rows.filter((r) => r.kind !== 'missing').map((r) => r.path).sort();
      expect(rowPaths).toEqual([...tree.keys()].sort());
      const held = new Set(tree.values());
      const missing = cmp.rows.filter((r) => r.kind === 'missing').map((r) => r.path).sort();
      expect(missing).toEqual(paths.filter((p) => !tree.has(p) && !held.has(p)).sort());
      for (const r of cmp.rows) {
        const of = tree.get(r.path);
        if (r.kind === 'ok') expect(of).toBe(r.path);
        if (r.kind === 'extra') expect(of).toBe('stranger');
        if (r.kind === 'swapped' || r.kind === 'renamed' || r.kind === 'duplicate') expect(r.holds?.path).toBe(of);
      }
      expect(cmp.matches).toBe(cmp.rows.every((r) => r.kind === 'ok'));
      expect(cmp.matches).toBe(deleted.length === 0 && [...tree].every(([p, of]) => p === of));
    }));
  });
});
