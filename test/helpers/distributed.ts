// The shipped distributed recipes (examples/, docs/distributed.md) as the tests run them: the
// built binary dist/aenv (what users copy to their machines; the scripts find it as $AENV), a tree
// of about 2,000 envelopes of which a few are large (so that a stop can land in the middle of
// one), the tree's contents by hash, and the means to hold one part's aenv in the middle of a
// large file: its temporary file names its pid (.aenv-PID-RAND.partial), the test stops that
// process there (SIGSTOP), then lets the real interruption arrive (scancel, GNU parallel's
// SIGTERM) and resumes it, exactly as Slurm does (SIGCONT before SIGTERM).

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { shardIndex } from '../../src/batch/shard.js';
import { ROOT } from './cli.js';

export const AENV = path.join(ROOT, 'dist', 'aenv');
export const EXAMPLES = path.join(ROOT, 'examples');
export const PASSWORD = 'distributed recipes: one tree, many parts';
export const LARGE = 64 * 1024 * 1024;

/** dist/aenv must exist (npm test builds it first); a clear error instead of 2,000 failed rows. */
export function requireBinary(): void {
  if (!existsSync(AENV)) throw new Error(`${AENV} is not built: run \`npm run build:bin\` (npm test builds it first)`);
}

export interface Tree {
  /** The plaintexts (what every decrypt must give back). */
  plain: string;
  /** The envelopes. */
  enc: string;
  pw: string;
  /** Relative paths (below enc) of the large envelopes. */
  large: string[];
  files: number;
}

/**
 * `small` small files (0-8 KiB, random) in 20 x 5 folders and `large` files of `largeSize` in
 * large/ (walked after the small ones), sealed by `aenv encrypt` (PBKDF2: one derivation).
 */
export function makeTree(base: string, o: { small: number; large: number; largeSize?: number }): Tree {
  const plain = path.join(base, 'plain');
  for (let i = 0; i < o.small; i++) {
    const dir = path.join(plain, `d${String(i % 20).padStart(2, '0')}`, `s${Math.floor(i / 20) % 5}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${String(i).padStart(4, '0')}.dat`), randomBytes(Math.floor(Math.random() * 8193)));
  }
  const large: string[] = [];
  if (o.large) mkdirSync(path.join(plain, 'large'), { recursive: true });
  for (let i = 0; i < o.large; i++) {
    writeFileSync(path.join(plain, 'large', `big${i}.bin`), randomBytes(o.largeSize ?? LARGE));
    large.push(`large/big${i}.bin.aspera-env`);
  }
  const pw = path.join(base, 'password.txt');
  writeFileSync(pw, `${PASSWORD}\n`);
  const enc = path.join(base, 'enc');
  const r = spawnSync(AENV, ['encrypt', plain, '-o', enc, '--kdf', 'pbkdf2', '--password-file', pw, '-q'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`encrypt failed (${r.status}): ${r.stderr}`);
  return { plain, enc, pw, large, files: o.small + o.large };
}

/** The part (1..n) a path below the walked folder falls in (src/batch/shard.ts, the documented rule). */
export function partOf(rel: string, n: number): number {
  return shardIndex(rel, n) + 1;
}

/** Every file below `dir`: relative path -> SHA-256 (temporary files included, so they show). */
export function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const go = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) go(r);
      else out[r] = createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex');
    }
  };
  go('');
  return out;
}

/** aenv's temporary files anywhere below `dir`. */
export function temps(dir: string): string[] {
  return Object.keys(contents(dir)).filter((n) => /(^|\/)\.aenv-\d+-[0-9a-f]{16}\.partial$/.test(n));
}

/** A command's exit status and output, run without blocking the test's event loop. */
export function run(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}):
Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The pid in a temporary file's name. */
const pidOf = (name: string): number => Number(/^\.aenv-(\d+)-/.exec(name)![1]);

/** A process's environment (empty when it is gone). */
export function environOf(pid: number): Record<string, string> {
  try {
    return Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean).map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), kv.slice(i + 1)];
    }));
  } catch {
    return {};
  }
}

/** A process's command line (empty when it is gone). */
export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Watches `dir` (every 2 ms) for aenv's temporary file of a process that `mine(pid)` accepts,
 * and stops that process (SIGSTOP) as soon as it is seen: it is then in the middle of its file.
 * Returns the pid and how many bytes of the plaintext were written.
 */
export async function stopMidFile(dir: string, mine: (pid: number) => boolean, timeoutMs: number): Promise<{ pid: number; temp: string; bytes: number }> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      /* not made yet */
    }
    for (const n of names) {
      if (!/^\.aenv-\d+-[0-9a-f]{16}\.partial$/.test(n)) continue;
      const pid = pidOf(n);
      if (!mine(pid)) continue;
      process.kill(pid, 'SIGSTOP');
      const temp = path.join(dir, n);
      let bytes = -1;
      try {
        bytes = statSync(temp).size;
      } catch {
        /* committed just before the stop: not the middle of the file */
      }
      if (bytes >= 0) return { pid, temp, bytes };
      process.kill(pid, 'SIGCONT');
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no temporary file of the watched process appeared in ${dir} within ${timeoutMs} ms`);
}

/** The signals in masks of /proc/PID/status lines named by `fields` (none when it is gone). */
function signalMask(pid: number, fields: RegExp): number[] {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return [];
  }
  let mask = 0n;
  for (const m of status.matchAll(/^(\w+):\s*([0-9a-f]{16})$/gm)) if (fields.test(m[1]!)) mask |= BigInt(`0x${m[2]}`);
  const out: number[] = [];
  for (let s = 1; s <= 64; s++) if (mask & (1n << BigInt(s - 1))) out.push(s);
  return out;
}

/** Signals pending for a (stopped) process (SigPnd and ShdPnd). */
export const pendingSignals = (pid: number): number[] => signalMask(pid, /^(SigPnd|ShdPnd)$/);

/** Signals a process blocks (SigBlk): a Perl program blocks a signal while its handler runs. */
export const blockedSignals = (pid: number): number[] => signalMask(pid, /^SigBlk$/);

/** The child of `ppid` whose command line names `program` (its first or second word). */
export function childOf(ppid: number, program: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== ppid) continue;
    } catch {
      continue;
    }
    if (cmdlineOf(Number(d)).slice(0, 2).includes(program)) return Number(d);
  }
  throw new Error(`no child of ${ppid} runs ${program}`);
}

/** Polls `pred` every 20 ms until it holds or `ms` pass. */
export async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The rows and summary of a --json report file. */
export function reportOf(file: string): { rows: Record<string, unknown>[]; summary: Record<string, unknown> } {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.at(-1);
  if (!last || !('summary' in last)) throw new Error(`${file}: no summary line`);
  return { rows: lines.slice(0, -1), summary: last['summary'] as Record<string, unknown> };
}

/** The merged report's line for a failed file of part k of n (the status of a damaged envelope). */
export function failedRowLine(file: string, k: number, n: number): RegExp {
  const quoted = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^(corrupt|unsupported|not-envelope) +${quoted} \\(part ${k} of ${n}\\): `, 'm');
}

/** Flips one byte in the middle of a file (a damaged envelope: its chunk no longer authenticates). */
export function damage(file: string): void {
  const b = readFileSync(file);
  b[Math.floor(b.length / 2)]! ^= 0x40;
  writeFileSync(file, b);
}
