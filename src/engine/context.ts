// What one run shares between its files: the crypto backend, the key cache (null without a
// password), the interruption flag, progress accounting and the folders already cleaned.

import type { Backend } from '../crypto/backend.js';
import type { KeyCache } from '../crypto/keys.js';
import type { Status } from '../format/status.js';

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface RunContext {
  backend: Backend;
  keys: KeyCache | null;
  /** Set by the SIGINT handler; every file checks it between blocks. */
  interrupted: boolean;
  /** Called with the number of input bytes just processed. */
  progress(bytes: number): void;
  /** Output folders whose stale temporary files this run already removed. */
  cleaned: Set<string>;
}

export function newContext(backend: Backend, keys: KeyCache | null, progress: (n: number) => void = () => {}): RunContext {
  return { backend, keys, interrupted: false, progress, cleaned: new Set() };
}

export function checkInterrupted(ctx: RunContext): void {
  if (ctx.interrupted) throw new Interrupted();
}

/** The account of one file, as reported in human lines and JSON. */
export interface FileResult {
  path: string;
  output?: string;
  status: Status;
  /** decrypt/encrypt: plaintext bytes written; verify: envelope bytes checked. */
  bytes: number;
  detail: string;
  warning?: string;
  /** A hint more precise than the status's usual one (human output only). */
  hint?: string;
  chunk?: number;
  offset?: number;
}
