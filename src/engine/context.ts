// What one run shares between its files: the crypto backend, the key cache (null without a
// password), the interruption flag, progress accounting, the payload memory budget and buffers,
// the worker pool, and the output folders already resolved, cleaned and warned about.

import { availableParallelism } from 'node:os';
import type { Backend } from '../crypto/backend.js';
import type { KeyCache } from '../crypto/keys.js';
import type { OutputDir } from '../fsops/dirs.js';
import { ChunkPool } from '../stream/pool.js';
import { BufferPool, MemoryBudget } from './memory.js';

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Payload buffers of the files open at once stay within this (one file always runs). */
export const PAYLOAD_BUDGET = 64 * 1024 * 1024;

export interface RunContext {
  backend: Backend;
  keys: KeyCache | null;
  /** With --password-list: the list's line number of each password (the rows name these, never a password). */
  passwordLines: number[] | null;
  /** Set by the SIGINT handler; every file checks it between blocks. */
  interrupted: boolean;
  /** Called with the number of input bytes just processed. */
  progress(bytes: number): void;
  memory: MemoryBudget;
  buffers: BufferPool;
  /** Worker threads for the chunks of large payloads (when the backend can use them). */
  pool: ChunkPool | null;
  /** Cores of this machine (os.availableParallelism). */
  cores: number;
  /** decrypt's content digest of large files: only with a core to spare, or always (--check-digest). */
  checkDigest: 'spare-core' | 'always';
  /** Output folders resolved so far (by base and relative folder). */
  dirs: Map<string, OutputDir>;
  /** Output folders whose stale temporary files this run already removed. */
  cleaned: Set<string>;
  /** Folders other users can write to, already warned about. */
  warned: Set<string>;
}

/** Worker threads: the cores left once the main thread has its own (reading, writing, hashing). */
export function poolSize(cores: number): number {
  return Math.max(1, cores - 1);
}

export function newContext(backend: Backend, keys: KeyCache | null, progress: (n: number) => void = () => {}, workers?: number): RunContext {
  const cores = availableParallelism();
  return {
    cores, checkDigest: 'spare-core',
    backend, keys, passwordLines: null, interrupted: false, progress,
    memory: new MemoryBudget(PAYLOAD_BUDGET),
    buffers: new BufferPool(PAYLOAD_BUDGET / 2),
    pool: backend.threads ? new ChunkPool(workers ?? poolSize(cores)) : null,
    dirs: new Map(), cleaned: new Set(), warned: new Set(),
  };
}

export function checkInterrupted(ctx: RunContext): void {
  if (ctx.interrupted) throw new Interrupted();
}
