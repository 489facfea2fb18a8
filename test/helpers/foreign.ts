// Helpers for the CLI tests of foreign envelopes (test/cli-foreign*.test.ts): seal fixtures with
// the stand-in's asprotect, an environment in which no IBM tool can be found, rows by file name,
// and the processes of the stand-in read from /proc (so a test can wait for the tool to run and
// prove its whole process group is gone), with a safety net that kills only processes provably
// started from the stand-in's folder.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { jsonLines } from './cli.js';
import type { Standin } from './standin.js';

/** Seals `plain` with the stand-in's asprotect (password only in its environment) into `envelope`. */
export function sealForeign(s: Standin, plain: Buffer | string, envelope: string, password: string): void {
  mkdirSync(path.dirname(envelope), { recursive: true });
  const tmp = path.join(s.dir, 'plain-for-standin');
  writeFileSync(tmp, plain);
  const r = s.run('asprotect', envelope, tmp, password);
  rmSync(tmp, { force: true });
  if (r.code !== 0) throw new Error(`stand-in asprotect failed: ${r.stderr}`);
}

/**
 * An environment in which aenv finds no IBM tool: no AENV_* variables, a PATH of system folders
 * only, and a HOME without ~/.aspera (IBM's per-user install folders).
 */
export function noToolEnv(home: string): Record<string, string | undefined> {
  return { AENV_ASUNPROTECT: undefined, AENV_ASPROTECT: undefined, PATH: '/usr/bin:/bin', HOME: home };
}

/** JSON rows of a run keyed by the path relative to `base` (the summary under "summary"). */
export function rowsBy(stdout: string, base: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of jsonLines(stdout)) {
    if ('summary' in r) out['summary'] = r['summary'] as Record<string, unknown>;
    else out[path.relative(base, String(r['path']))] = r;
  }
  return out;
}

export interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  cmd: string;
}

/** Every process on the machine (Linux /proc), with its group and command line. */
export function processes(): Proc[] {
  return readdirSync('/proc').filter((x) => /^\d+$/.test(x)).flatMap((n) => {
    try {
      const f = readFileSync(`/proc/${n}/stat`, 'latin1').split(') ')[1]!.split(' ');
      return [{ pid: Number(n), state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]), cmd: readFileSync(`/proc/${n}/cmdline`, 'latin1').replace(/\0/g, ' ') }];
    } catch {
      return []; // exited meanwhile
    }
  });
}

/** Processes of group `pgid` that can still run (not zombies). */
export function liveGroup(pgid: number): Proc[] {
  return processes().filter((p) => p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X');
}

/** Kills whatever still runs from the stand-in's folder, and its descendants (safety net for afterAll). */
export function killStandinLeftovers(s: Standin): void {
  const all = processes();
  const ours = new Set(all.filter((p) => p.cmd.includes(s.dir)).map((p) => p.pid));
  for (const p of all) if (ours.has(p.pgrp) || ours.has(p.ppid)) ours.add(p.pid);
  for (const pid of ours) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
}
