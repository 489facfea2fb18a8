// Helpers for the fault tests (test/faults-*.test.ts): real tmpfs mounts (root only), envelopes
// made by the real CLI, temporary-file listings, hashing, and waiting for a file to appear.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { aenv, jsonLines } from './cli.js';

export const IS_ROOT = process.getuid?.() === 0;
export const NOT_ROOT_REASON = 'needs root to mount a tmpfs (CI runs as root)';

/** A fresh folder with a tmpfs of `size` mounted on it. Call `unmount()` in afterAll/finally. */
export function mountTmpfs(size = '2m'): { dir: string; unmount: () => void; remountRo: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'aenv-mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount failed: ${r.stderr.toString()}`);
  }
  let mounted = true;
  return {
    dir,
    remountRo: () => {
      const m = spawnSync('mount', ['-o', 'remount,ro', dir]);
      if (m.status !== 0) throw new Error(`remount ro failed: ${m.stderr.toString()}`);
    },
    unmount: () => {
      if (!mounted) return;
      const u = spawnSync('umount', [dir]);
      if (u.status !== 0) spawnSync('umount', ['-l', dir]);
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Seals every file under `paths` with the real CLI (one run, one KDF); fails the test if it does. */
export function seal(paths: string[], pwFile: string, extra: string[] = []): void {
  const r = aenv(['encrypt', ...paths, '--kdf', 'pbkdf2', '--password-file', pwFile, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`encrypt failed (${r.code}): ${r.stdout}${r.stderr}`);
}

export function sha256(p: string | Buffer): string {
  return createHash('sha256').update(typeof p === 'string' ? readFileSync(p) : p).digest('hex');
}

/** Every name under `dir` (recursively, relative), sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const go = (rel: string): void => {
    for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? path.join(rel, ent.name) : ent.name;
      if (ent.isDirectory()) go(r);
      else out.push(r);
    }
  };
  go('');
  return out.sort();
}

const TEMP_NAME = /^\.aenv-\d+-[0-9a-f]{16}\.partial$/;

/** Temporary files and private folders (`.aenv-PID-RAND.partial`) anywhere under `dir`, relative, sorted. */
export function temps(dir: string): string[] {
  const out: string[] = [];
  const go = (rel: string): void => {
    for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? path.join(rel, ent.name) : ent.name;
      if (TEMP_NAME.test(ent.name)) out.push(r);
      else if (ent.isDirectory()) go(r);
    }
  };
  go('');
  return out.sort();
}

/** Bytes in the temporary files under `dir`, and in the files inside its private folders (what IBM's tool wrote so far); 0 for what vanished meanwhile. */
export function tempBytes(dir: string): number {
  const size = (p: string): number => {
    try {
      const st = lstatSync(p);
      if (!st.isDirectory()) return st.isFile() ? st.size : 0;
      return readdirSync(p).reduce((n, x) => n + size(path.join(p, x)), 0);
    } catch {
      return 0;
    }
  };
  try {
    return temps(dir).reduce((n, t) => n + size(path.join(dir, t)), 0);
  } catch {
    return 0;
  }
}

/** Polls until `pred()` holds (every 10 ms) or `ms` pass; returns whether it held. */
export async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return pred();
}

/** Rows of a --json run by status, and the summary. */
export function rowsOf(stdout: string): { rows: Record<string, unknown>[]; summary: Record<string, unknown> } {
  const all = jsonLines(stdout);
  const summary = all.find((r) => 'summary' in r)?.['summary'] as Record<string, unknown>;
  return { rows: all.filter((r) => !('summary' in r) && !('passed_over' in r)), summary };
}

/** A stack trace in text (Node prints "    at fn (file:line:col)"). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text) || /\b(TypeError|RangeError|ReferenceError):/.test(text);
}

/** A temp folder on a RAM file system when there is one (/dev/shm): fsync costs nothing there. */
export function ramTempDir(prefix: string): { dir: string; cleanup: () => void } {
  let base = tmpdir();
  try {
    if (statSync('/dev/shm').isDirectory()) base = '/dev/shm';
  } catch {
    /* no /dev/shm: the ordinary temp folder */
  }
  const dir = mkdtempSync(path.join(base, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Seals `plain` in process with the cheapest KDF the format allows (PBKDF2, 100,000 rounds):
 * the pure-JS backend derives it in well under a second, where the CLI's default costs seconds.
 */
export async function sealCheap(plain: Uint8Array, password: string, chunkLog2 = 16): Promise<Buffer> {
  const { getBackend } = await import('./backends.js');
  const { KeyCache, passwordBytes } = await import('../../src/crypto/keys.js');
  const { newContext } = await import('../../src/engine/context.js');
  const { newEncoder } = await import('../../src/engine/aenv.js');
  const backend = getBackend('node');
  const ctx = newContext(backend, new KeyCache(backend, passwordBytes(password)));
  const params = { kdf: 3, p1: 100_000, p2: 0, p3: 0 } as const;
  const salt = new Uint8Array(32).fill(9);
  const { header, encoder } = newEncoder(ctx, { suite: 1, chunkLog2, params, salt, master: await ctx.keys!.master(params, salt) });
  return Buffer.concat([header, ...encoder.push(plain), ...encoder.end()]);
}
