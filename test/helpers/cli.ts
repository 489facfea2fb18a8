// Runs the real CLI (node bin/aenv.js, built by `npm run build`) on real files in temp folders.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/aenv.js');
export const VECTORS = path.join(ROOT, 'test/vectors');
export const PASSWORD = 'correct horse ☃ battery';

/**
 * Set by vitest.mutation.config.mjs when Stryker runs the in-process tests. Tests that run the
 * CLI (the built dist/js, in a child process, which Stryker does not mutate) cannot kill a mutant
 * and are skipped then; everywhere else, CI included, this is false and they run (a skip there
 * fails CI: .ci/check-skips.mjs).
 */
export const UNDER_MUTATION = process.env['AENV_MUTATION'] === '1';
/** describe/it name suffix saying why a CLI test is skipped under mutation testing. */
export const CLI_ONLY = UNDER_MUTATION ? ' (SKIPPED under mutation testing: runs the unmutated build)' : '';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  /** Replace the environment instead of extending it. */
  cleanEnv?: boolean;
}

function envFor(o: RunOptions): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = o.cleanEnv ? { PATH: process.env['PATH'] } : { ...process.env };
  delete base['ASPERA_SCP_FILEPASS'];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/** Runs `aenv ARGS...` synchronously. */
export function aenv(args: string[], o: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? ROOT, env: envFor(o), input: o.input ?? '', maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), signal: r.signal };
}

/** Same, returning stdout as bytes (for `decrypt -`/`encrypt -`). */
export function aenvBytes(args: string[], o: RunOptions = {}): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? ROOT, env: envFor(o), input: o.input ?? '', maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

export function aenvAsync(args: string[], o: RunOptions = {}) {
  return spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: envFor(o), stdio: ['pipe', 'pipe', 'pipe'] });
}

export function tempDir(prefix = 'aenv-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A password file holding `pw` (a trailing newline, as an editor leaves it). */
export function passwordFile(dir: string, pw = PASSWORD): string {
  const p = path.join(dir, 'password.txt');
  writeFileSync(p, pw + '\n');
  return p;
}

export function jsonLines(out: string): Record<string, unknown>[] {
  return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}
