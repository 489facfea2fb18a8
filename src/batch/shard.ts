// --shard K/N (docs/batches.md "Sharding"): run part K of N of a tree, so that N machines (a Slurm
// array job, GNU parallel) share one tree with no coordination. A file's part depends only on its
// path relative to the walked PATH:
//
//   part(path, N) = (first 6 bytes of SHA-256(UTF-8 bytes of path), as a big-endian integer) mod N
//   the file belongs to shard K = part + 1
//
// with `/` between folder names on every platform (FIPS 180-4 SHA-256). So the same tree copied
// elsewhere splits the same way, the N parts are disjoint and together cover the tree, and the
// split is even up to chance (48 bits mod N, N <= 1,000,000: the bias is below 4e-9). 48 bits
// keep the rule exact in a shell (bash arithmetic is signed 64-bit), awk and JavaScript numbers:
//
//   h=$(printf '%s' "$rel" | sha256sum | cut -c1-12); echo $(( 0x$h % N + 1 ))

import { createHash } from 'node:crypto';
import { BatchError } from './errors.js';

export const MAX_SHARDS = 1_000_000;

export interface Shard {
  /** This part, 1-based. */
  k: number;
  /** Number of parts. */
  n: number;
}

const SLURM_HINT = 'parts are numbered from 1 to N: in a Slurm job with --array=1-N use --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT '
  + '(with --array=0-7: --shard $((SLURM_ARRAY_TASK_ID+1))/8); with GNU parallel: --shard {}/N over seq N';

/** Parses the value of --shard; throws BatchError with a hint. */
export function parseShard(text: string): Shard {
  const shown = JSON.stringify(text);
  if (text === '') throw new BatchError('--shard needs a value K/N, e.g. --shard 2/8', 'K is this part (1 to N), N the number of parts');
  const m = /^(\d{1,7})\/(\d{1,7})$/.exec(text);
  if (!m) {
    throw new BatchError(`--shard ${shown} is not K/N`, 'give two whole numbers with a slash, e.g. --shard 3/8 for the third of eight parts');
  }
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || n > MAX_SHARDS) throw new BatchError(`--shard ${text}: N must be from 1 to ${MAX_SHARDS}`, 'N is the number of parts the tree is split into, e.g. --shard 1/8');
  if (k < 1) throw new BatchError(`--shard ${text}: parts are numbered from 1, not 0`, SLURM_HINT);
  if (k > n) throw new BatchError(`--shard ${text}: part ${k} does not exist in ${n} parts`, SLURM_HINT);
  return { k, n };
}

export function formatShard(s: Shard): string {
  return `${s.k}/${s.n}`;
}

/**
 * The text a path is hashed as: the platform separator `sep` turned into `/`, `./` prefixes,
 * `.` segments and doubled slashes dropped (identity for a canonical relative path, as the walk
 * gives). For --files-from entries, which may be absolute or hold `..`: those stay as written.
 */
export function shardKey(p: string, sep = '/'): string {
  const slashed = sep === '/' ? p : p.split(sep).join('/');
  const abs = slashed.startsWith('/');
  const segs = slashed.split('/').filter((s) => s !== '' && s !== '.');
  return (abs ? '/' : '') + segs.join('/');
}

/** The 0-based part of `key` (see shardKey) among `n`. */
export function shardIndex(key: string, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) throw new RangeError(`shard count ${n} outside 1..${MAX_SHARDS}`);
  if (key === '') throw new RangeError('shard key is empty');
  const h = createHash('sha256').update(key, 'utf8').digest();
  return h.readUIntBE(0, 6) % n;
}

/** Whether the file with relative path `key` belongs to shard `s`. */
export function inShard(key: string, s: Shard): boolean {
  return shardIndex(key, s.n) === s.k - 1;
}
