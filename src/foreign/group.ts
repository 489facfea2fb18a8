// POSIX process-group helpers for running IBM's tool: the tool is started as the leader of its
// own group (spawn's `detached`, i.e. setsid()), so aenv can signal the tool together with any
// helper it forked, and can tell when every one of them is gone (kill(-pgid, 0) fails with
// ESRCH). Also the CPU time of a process on Linux (/proc/PID/stat), one of the progress signals
// of the watchdog in run-tool.ts.

import { readdirSync, readFileSync } from 'node:fs';

/** Sends `sig` to every process of group `pgid`; false if the group has no process left. */
export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a member we may not signal (it changed its credentials); it still exists.
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return true;
    throw e;
  }
}

function fieldsAfterName(stat: string): string[] {
  // The command name, in parentheses, may itself contain spaces and parentheses.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Linux: pids of group `pgid` that are not zombies; null where /proc cannot tell. */
export function liveMembers(pgid: number): number[] | null {
  if (process.platform !== 'linux') return null;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const live: number[] = [];
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    let f: string[];
    try {
      f = fieldsAfterName(readFileSync(`/proc/${n}/stat`, 'latin1'));
    } catch {
      continue; // exited meanwhile
    }
    // f[0] state, f[1] ppid, f[2] pgrp
    if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') live.push(Number(n));
  }
  return live;
}

/** True while group `pgid` has a member that can still run (see the file comment). */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const live = liveMembers(pgid);
  return live === null || live.length > 0;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until group `pgid` is empty; false if it is still there after `timeoutMs`. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 25)) {
    if (!groupAlive(pgid)) return true;
    if (performance.now() >= until) return false;
    await sleep(wait);
  }
}

/** User + system CPU time of `pid` in clock ticks (Linux), or null where /proc is not there. */
export function cpuTicks(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const rest = fieldsAfterName(stat);
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}
