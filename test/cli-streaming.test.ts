// The streaming walk from the outside (docs/batches.md and docs/performance.md "Large trees"): the inputs are never collected
// first, so what a collected list used to guarantee is checked here: the -o folder inside a walked
// folder is never walked into (a run never takes its own or older outputs as inputs), a decrypt
// output that ends in the extension is never written where the walk could take it, each file is
// taken once however it is reached (named twice, a hard link, listed after its folder), and a
// tree of a few thousand files comes out complete and in walk order with many lanes.

import { linkSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, passwordFile, tempDir } from './helpers/cli.js';
import { listTree, rowsOf } from './helpers/faults.js';

const tmp = tempDir('aenv-streaming-');
afterAll(() => tmp.cleanup());
let pw: string;
let n = 0;
const folder = (name: string): string => {
  const d = path.join(tmp.dir, `${n++}-${name}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const seal = (p: string): void => {
  const r = aenv(['encrypt', p, '--kdf', 'pbkdf2', '--password-file', pw, '--remove-source', '-q']);
  if (r.code !== 0) throw new Error(r.stderr);
};

beforeAll(() => {
  pw = passwordFile(tmp.dir);
});

describe('the -o folder inside a walked folder is never walked into', () => {
  it('encrypt DIR -o DIR/sealed does not seal what DIR/sealed already holds', () => {
    const d = folder('enc');
    writeFileSync(path.join(d, 'a.txt'), 'alpha\n');
    mkdirSync(path.join(d, 'sealed'));
    writeFileSync(path.join(d, 'sealed', 'notes.txt'), 'a file in the output folder\n');
    const r = aenv(['encrypt', d, '-o', path.join(d, 'sealed'), '--kdf', 'pbkdf2', '--password-file', pw, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOf(r.stdout).rows.map((x) => path.relative(d, String(x['path'])))).toEqual(['a.txt']);
    expect(listTree(path.join(d, 'sealed')).sort()).toEqual(['a.txt.aspera-env', 'notes.txt']);
  });

  it('decrypt DIR -o DIR/plain does not decrypt an envelope lying in DIR/plain', () => {
    const d = folder('dec');
    writeFileSync(path.join(d, 'x.txt'), 'x\n');
    seal(path.join(d, 'x.txt'));
    mkdirSync(path.join(d, 'plain'));
    writeFileSync(path.join(d, 'y.txt'), 'y\n');
    seal(path.join(d, 'y.txt'));
    writeFileSync(path.join(d, 'plain', 'y.txt.aspera-env'), readFileSync(path.join(d, 'y.txt.aspera-env')));
    const r = aenv(['decrypt', d, '-o', path.join(d, 'plain'), '--json', '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOf(r.stdout).rows.map((x) => path.relative(d, String(x['path'])))).toEqual(['x.txt.aspera-env', 'y.txt.aspera-env']);
    expect(listTree(path.join(d, 'plain')).sort()).toEqual(['x.txt', 'y.txt', 'y.txt.aspera-env']);
  });
});

describe('a decrypt output that ends in the extension', () => {
  it('in place, inside the walked folder: refused for that file (io-error), nothing written; with -o elsewhere: decrypted', () => {
    const d = folder('double');
    writeFileSync(path.join(d, 'inner'), 'an envelope inside an envelope\n');
    seal(path.join(d, 'inner'));
    // inner.aspera-env is an envelope; sealed once more (under another name, as encrypt skips envelope names)
    const twice = folder('twice');
    writeFileSync(path.join(twice, 'payload'), readFileSync(path.join(d, 'inner.aspera-env')));
    seal(path.join(twice, 'payload'));
    const walked = folder('walked');
    writeFileSync(path.join(walked, 'inner.aspera-env.aspera-env'), readFileSync(path.join(twice, 'payload.aspera-env')));
    const r = aenv(['decrypt', walked, '--json', '--password-file', pw]);
    expect(r.code).toBe(1);
    expect(rowsOf(r.stdout).rows[0]).toMatchObject({ status: 'io-error', detail: expect.stringMatching(/ends in \.aspera-env and would land inside a walked folder, where this run could take it as an input/) });
    expect(listTree(walked)).toEqual(['inner.aspera-env.aspera-env']);
    const out = folder('elsewhere');
    const ok = aenv(['decrypt', walked, '-o', out, '--json', '--password-file', pw]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'inner.aspera-env')).equals(readFileSync(path.join(d, 'inner.aspera-env')))).toBe(true);
  });
});

describe('each file is taken once, however it is reached', () => {
  it('named twice, a hard link in the tree, listed after its folder', () => {
    const d = folder('once');
    for (const f of ['a.txt', 'b.txt']) writeFileSync(path.join(d, f), `${f}\n`);
    seal(d);
    linkSync(path.join(d, 'a.txt.aspera-env'), path.join(d, 'z-hardlink.aspera-env'));
    const list = path.join(tmp.dir, `list-${n}`);
    writeFileSync(list, `${path.join(d, 'b.txt.aspera-env')}\n`);
    const r = aenv(['verify', path.join(d, 'b.txt.aspera-env'), d, d, '--files-from', list, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsOf(r.stdout).rows.map((x) => path.basename(String(x['path'])));
    expect(rows).toEqual(['b.txt.aspera-env', 'a.txt.aspera-env']); // the hard link and the second naming: not again
    const after = aenv(['verify', d, '--files-from', list, '--json']);
    expect(rowsOf(after.stdout).rows.map((x) => path.basename(String(x['path'])))).toEqual(['a.txt.aspera-env', 'b.txt.aspera-env']);
  });
});

describe('a tree of 3,000 files', () => {
  it('every file, once, in the order of the walk, whatever --jobs; no usage error for an empty shard', () => {
    const d = folder('many');
    for (let i = 0; i < 3000; i++) {
      const sub = path.join(d, `d${String(Math.floor(i / 300)).padStart(2, '0')}`);
      if (i % 300 === 0) mkdirSync(sub);
      writeFileSync(path.join(sub, `f${String(i).padStart(4, '0')}.txt`), `${i}\n`);
    }
    seal(d);
    const one = aenv(['verify', d, '--json', '--jobs', '1']);
    const many = aenv(['verify', d, '--json', '--jobs', '8']);
    expect(one.code).toBe(0);
    const paths = (out: string): string[] => rowsOf(out).rows.map((x) => path.relative(d, String(x['path'])));
    expect(paths(one.stdout)).toHaveLength(3000);
    expect(paths(many.stdout)).toEqual(paths(one.stdout));
    expect(paths(one.stdout)).toEqual([...paths(one.stdout)].sort());
    expect(rowsOf(many.stdout).summary).toMatchObject({ ok: 3000, failed: 0 });
    // a part that holds no file of a tree that has files is a run of nothing (exit 0), not a usage error
    const tiny = folder('tiny');
    writeFileSync(path.join(tiny, 'only.txt'), 'one file\n');
    seal(tiny);
    const parts = [1, 2, 3].map((k) => aenv(['verify', tiny, '--shard', `${k}/3`, '--json']));
    expect(parts.map((p) => p.code)).toEqual([0, 0, 0]);
    expect(parts.reduce((s, p) => s + rowsOf(p.stdout).rows.length, 0)).toBe(1);
    expect(existsSync(path.join(tiny, 'only.txt.aspera-env'))).toBe(true);
  }, 120_000);
});
