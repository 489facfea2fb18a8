// --shard K/N (src/batch/shard.ts): parsing with exact error texts, the documented shell one-liner
// gives the same parts, the parts of any set of paths are disjoint and cover it, and the split is
// even (chi-square over 100,000 paths).

import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchError } from '../src/batch/errors.js';
import { formatShard, inShard, MAX_SHARDS, parseShard, shardIndex, shardKey } from '../src/batch/shard.js';

function err(text: string): BatchError {
  try {
    parseShard(text);
  } catch (e) {
    expect(e).toBeInstanceOf(BatchError);
    return e as BatchError;
  }
  throw new Error(`parseShard(${JSON.stringify(text)}) did not throw`);
}

describe('parseShard', () => {
  it('reads K/N', () => {
    expect(parseShard('1/1')).toEqual({ k: 1, n: 1 });
    expect(parseShard('3/8')).toEqual({ k: 3, n: 8 });
    expect(parseShard('08/16')).toEqual({ k: 8, n: 16 });
    expect(parseShard(`${MAX_SHARDS}/${MAX_SHARDS}`)).toEqual({ k: MAX_SHARDS, n: MAX_SHARDS });
    expect(formatShard(parseShard('5/7'))).toBe('5/7');
  });

  it('one-line errors with hints', () => {
    expect(err('').message).toBe('--shard needs a value K/N, e.g. --shard 2/8');
    expect(err('3').message).toBe('--shard "3" is not K/N');
    for (const t of ['3of8', ' 3/8', '3/8 ', '-1/8', '1.5/8', '1/8/2', 'a/b', '1/']) expect(err(t).message).toBe(`--shard ${JSON.stringify(t)} is not K/N`);
    expect(err('1/0').message).toBe(`--shard 1/0: N must be from 1 to ${MAX_SHARDS}`);
    expect(err(`1/${MAX_SHARDS + 1}`).message).toBe(`--shard 1/${MAX_SHARDS + 1}: N must be from 1 to ${MAX_SHARDS}`);
    expect(err('0/8').message).toBe('--shard 0/8: parts are numbered from 1, not 0');
    expect(err('0/8').hint).toContain('SLURM_ARRAY_TASK_ID+1');
    expect(err('9/8').message).toBe('--shard 9/8: part 9 does not exist in 8 parts');
    for (const t of ['', '3', '1/0', '0/8', '9/8']) {
      const e = err(t);
      expect(e.hint.length).toBeGreaterThan(10);
      expect(`${e.message}${e.hint}`).not.toContain('\n');
    }
  });
});

describe('shardKey', () => {
  it('slashes on every platform; ./, . and // dropped; canonical paths unchanged', () => {
    expect(shardKey('a/b.csv.aspera-env')).toBe('a/b.csv.aspera-env');
    expect(shardKey('./a//b/./c')).toBe('a/b/c');
    expect(shardKey('a\\b\\c', '\\')).toBe('a/b/c');
    expect(shardKey('a\\b', '/')).toBe('a\\b'); // a backslash is a name character on POSIX
    expect(shardKey('/data/../x')).toBe('/data/../x');
  });
});

describe('shardIndex', () => {
  it('matches the documented shell one-liner (printf | sha256sum | cut; bash arithmetic)', () => {
    const names = ['a/b.csv.aspera-env', 'x', 'sp ace/f.aspera-env', 'ünï/雪.aspera-env', 'new\nline', 'a\\b', '-dash', '%s'];
    const ns = [1, 2, 7, 8, 1000, MAX_SHARDS];
    // one bash run: for each name (an argument), for each N, the one-liner's answer on a line
    const script = `for rel in "$@"; do for n in ${ns.join(' ')}; do h=$(printf '%s' "$rel" | sha256sum | cut -c1-12); echo $(( 0x$h % n + 1 )); done; done`;
    const r = spawnSync('bash', ['-c', script, 'bash', ...names]);
    expect(r.status).toBe(0);
    const theirs = r.stdout.toString().trim().split('\n').map(Number);
    expect(theirs).toEqual(names.flatMap((rel) => ns.map((n) => shardIndex(rel, n) + 1)));
  }, 60_000);

  it('known values (a vector for other implementations; made with sha256sum and bash)', () => {
    // printf '%s' a/b.csv.aspera-env | sha256sum | cut -c1-12  ->  6d473fd7793f
    expect([8, 1000, 999983].map((n) => shardIndex('a/b.csv.aspera-env', n) + 1)).toEqual([8, 488, 823479]);
    expect(shardIndex('anything', 1)).toBe(0);
  });

  it('parts are disjoint and cover every set of paths (property)', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (paths, n) => {
      const parts = Array.from({ length: n }, (_, i) => paths.filter((p) => inShard(p, { k: i + 1, n })));
      const union = parts.flat();
      expect(union.length).toBe(paths.length); // disjoint: nothing counted twice ...
      expect(new Set(union)).toEqual(new Set(paths)); // ... and together they are the whole set
    }));
  });

  it('the split is even: chi-square over 100,000 tree-like paths for N = 8 and N = 50', () => {
    const paths = Array.from({ length: 100_000 }, (_, i) => `case-${i % 37}/2026/${String(i).padStart(6, '0')}.csv.aspera-env`);
    for (const n of [8, 50]) {
      const counts = new Array<number>(n).fill(0);
      for (const p of paths) counts[shardIndex(p, n)]!++;
      const expected = paths.length / n;
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      // 99.9th percentile of chi-square: 24.3 for 7 degrees of freedom, 85.4 for 49
      expect(chi2).toBeLessThan(n === 8 ? 24.3 : 85.4);
      expect(Math.min(...counts)).toBeGreaterThan(expected * 0.9);
    }
  }, 60_000);

  it('rejects a bad N or an empty key', () => {
    expect(() => shardIndex('a', 0)).toThrow(RangeError);
    expect(() => shardIndex('a', MAX_SHARDS + 1)).toThrow(RangeError);
    expect(() => shardIndex('', 2)).toThrow(RangeError);
  });
});
