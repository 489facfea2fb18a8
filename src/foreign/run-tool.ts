// Runs one call of IBM's asunprotect/asprotect (issue 11, "Calling it" and "Failure") and says
// how it ended. The tool is started with an argument array (never through a shell), standard
// input closed, standard output and error captured with a byte bound (tail.ts), the password
// only in ASPERA_SCP_FILEPASS of a minimal environment (child-env.ts), as the leader of its own
// process group (POSIX), with a umask of 077 so a file it creates is its owner's only, and on
// Linux through `setpriv --pdeathsig KILL` when there (parent-death.ts: it dies with aenv).
// Descriptors the caller passes (`fds`, e.g. aenv's private output folder) are the child's fd 3
// onwards.
//
// Watchdog: the tool is making progress while its output file changes size, it prints, or
// (Linux) its CPU time grows. No progress for `stallMs`, or a run longer than the deadline
// (deadlineBaseMs + inputBytes / deadlineBytesPerSec), or the AbortSignal (aenv's SIGINT):
// SIGTERM to the whole group, SIGKILL after `killGraceMs`, and the result only once every
// process of the group is gone. Helpers still alive after the tool exited are killed at once
// and make the run a failure (they could still write). The result never holds the password.
//
// Defaults (DEFAULT_TIMING): stallMs 60 s (covers a slow key derivation before the first byte),
// pollMs 250 ms, deadline 120 s + 1 s per MiB of input (1 MiB/s is far below any disk or USB 2
// drive), killGraceMs 3 s, reapMs 10 s (bound on waiting for a process the kernel cannot kill,
// e.g. stuck in uninterruptible I/O on a dead drive).

import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { childEnv } from './child-env.js';
import { cpuTicks, groupAlive, signalGroup, waitGroupGone } from './group.js';
import { checkToolPassword } from './ibm-cli.js';
import { deathWrapper } from './parent-death.js';
import { Tail } from './tail.js';

export interface ToolTiming {
  /** No progress for this long: the tool is stopped (outcome 'stalled'). */
  stallMs: number;
  /** How often the output file's size (and the CPU time) is looked at. */
  pollMs: number;
  /** Deadline = deadlineBaseMs + inputBytes / deadlineBytesPerSec (outcome 'deadline'). */
  deadlineBaseMs: number;
  deadlineBytesPerSec: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Longest wait for a killed group to disappear and for its pipes to close. */
  reapMs: number;
}

export const DEFAULT_TIMING: Readonly<ToolTiming> = Object.freeze({
  stallMs: 60_000,
  pollMs: 250,
  deadlineBaseMs: 120_000,
  deadlineBytesPerSec: 1024 * 1024,
  killGraceMs: 3_000,
  reapMs: 10_000,
});

export function toolDeadlineMs(inputBytes: number, t: ToolTiming = DEFAULT_TIMING): number {
  return t.deadlineBaseMs + Math.ceil((Math.max(0, inputBytes) / t.deadlineBytesPerSec) * 1000);
}

export interface RunToolOptions {
  /** Absolute path of the executable (locate.ts). */
  tool: string;
  /** Its arguments (ibm-cli.ts), never containing the password. */
  args: readonly string[];
  password: string;
  /** The file the tool writes, as aenv reaches it; its size is the main progress signal. */
  output: string;
  /** Open descriptors of aenv's the tool gets as its fd 3, 4, ... (POSIX). */
  fds?: readonly number[];
  /** Start it so that it dies with aenv (Linux, parent-death.ts); default true. */
  parentDeath?: boolean;
  /** Size of the input, for the deadline. */
  inputBytes: number;
  signal?: AbortSignal;
  timing?: Partial<ToolTiming>;
  /** Working folder of the tool. Default '/' on POSIX (no stray relative write or core file lands
   *  among the outputs; not writable by ordinary users), the tool's own folder on Windows. */
  cwd?: string;
  /** Bytes of standard error kept (default 64 KiB); standard output keeps 4 KiB. */
  stderrLimit?: number;
  /** umask the tool starts with on POSIX (default 0o077); null leaves aenv's. */
  umask?: number | null;
  /** Called once the tool runs, with its pid (= its process group id on POSIX). */
  onSpawn?: (pid: number) => void;
  platform?: NodeJS.Platform;
}

export type StopReason = 'stalled' | 'deadline' | 'aborted';
export type ToolOutcome = 'exited' | 'signaled' | StopReason | 'spawn-failed';

export interface StopRecord {
  reason: StopReason | 'stragglers';
  /** SIGKILL had to follow SIGTERM (always true for stragglers, which get SIGKILL at once). */
  escalated: boolean;
  /** From the first signal until the whole group was gone; null if it never went (see reapMs). */
  goneMs: number | null;
}

export interface ToolResult {
  /** Exit status 0, no signal, not stopped, nothing left running. */
  ok: boolean;
  outcome: ToolOutcome;
  /** Exit status, when the tool exited by itself (or after SIGTERM, if it handles it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last line of standard error (else of standard output): sanitised, password-free, <= 200 characters. */
  lastLine: string;
  stderrBytes: number;
  stdoutBytes: number;
  /** Size of the output file when the run ended; null if there was none. */
  outputBytes: number | null;
  /** Helpers of the tool were still running after it exited 0, and were killed. */
  stragglers: boolean;
  stop: StopRecord | null;
  pid: number | null;
  elapsedMs: number;
  deadlineMs: number;
  /** One line for the row's `detail`, e.g. "asunprotect exited with status 3: wrong password". */
  detail: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function sizeOf(p: string): Promise<number | null> {
  try {
    return (await fsp.stat(p)).size;
  } catch {
    return null;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function describe(name: string, r: Omit<ToolResult, 'detail'>, t: ToolTiming, err: string): string {
  const line = r.lastLine ? `: ${r.lastLine}` : '';
  switch (r.outcome) {
    case 'spawn-failed': return `could not start ${name}: ${err}`;
    case 'stalled': return `${name} made no progress for ${seconds(t.stallMs)} and was stopped${line}`;
    case 'deadline': return `${name} ran longer than ${seconds(r.deadlineMs)} (its limit for this input size) and was stopped${line}`;
    case 'aborted': return `${name} was stopped: interrupted`;
    case 'signaled': return `${name} was killed by ${r.signal}${line}`;
    default:
      if (r.code === 0 && r.stragglers) return `${name} exited with status 0 but left processes running, which were killed`;
      return `${name} exited with status ${r.code}${line}`;
  }
}

/**
 * Runs the tool once; see the file comment. Rejects only on a caller error (bad password or
 * arguments, or an onSpawn callback that threw, after the tool was stopped).
 */
export async function runTool(o: RunToolOptions): Promise<ToolResult> {
  checkToolPassword(o.password);
  if (o.args.some((a) => a.includes('\0'))) throw new Error('a tool argument contains a NUL byte');
  const platform = o.platform ?? process.platform;
  const posix = platform !== 'win32';
  const t: ToolTiming = { ...DEFAULT_TIMING, ...o.timing };
  const name = path.basename(o.tool).replace(/\.exe$/i, '');
  const secret = Buffer.from(o.password, 'utf8');
  const stderrLimit = Math.max(o.stderrLimit ?? 64 * 1024, secret.length + 1);
  const err = new Tail(stderrLimit, secret);
  const out = new Tail(Math.max(4096, secret.length + 1), secret);
  const started = performance.now();
  const deadlineMs = toolDeadlineMs(o.inputBytes, t);

  const finish = async (partial: Omit<ToolResult, 'detail' | 'lastLine' | 'stderrBytes' | 'stdoutBytes' | 'outputBytes' | 'elapsedMs' | 'deadlineMs'>, why = ''): Promise<ToolResult> => {
    err.end();
    out.end();
    const r = {
      ...partial,
      lastLine: err.lastLine() || out.lastLine(),
      stderrBytes: err.total,
      stdoutBytes: out.total,
      outputBytes: await sizeOf(o.output),
      elapsedMs: Math.round(performance.now() - started),
      deadlineMs,
    };
    return { ...r, detail: describe(name, r, t, why) };
  };
  const none = { code: null, signal: null, stragglers: false, stop: null, pid: null };

  if (o.signal?.aborted) return finish({ ...none, ok: false, outcome: 'aborted' });

  let child: ChildProcess;
  let oldMask: number | null = null;
  try {
    if (posix && o.umask !== null) {
      try {
        oldMask = process.umask(o.umask ?? 0o077);
      } catch {
        oldMask = null; // not allowed in worker threads: the tool keeps aenv's umask
      }
    }
    const wrapper = o.parentDeath === false ? null : deathWrapper(platform);
    if (wrapper) {
      // Started through setpriv, a program that cannot be run shows as setpriv's failure: say it as spawn would.
      try {
        accessSync(o.tool, fsc.X_OK);
      } catch (e) {
        return await finish({ ...none, ok: false, outcome: 'spawn-failed' }, (e as NodeJS.ErrnoException).code ?? String(e));
      }
    }
    // node:child_process is loaded when a tool is first run, not at every start of aenv (issue 22: start-up)
    child = process.getBuiltinModule('node:child_process').spawn(wrapper ? wrapper[0]! : o.tool, wrapper ? [...wrapper.slice(1), o.tool, ...o.args] : [...o.args], {
      cwd: o.cwd ?? (posix ? '/' : path.dirname(o.tool)),
      env: childEnv(o.password, platform),
      stdio: ['ignore', 'pipe', 'pipe', ...(posix ? o.fds ?? [] : [])],
      detached: posix, // setsid(): its own process group, and no controlling terminal to prompt on
      windowsHide: true,
      shell: false,
    });
  } catch (e) {
    return finish({ ...none, ok: false, outcome: 'spawn-failed' }, (e as Error).message);
  } finally {
    if (oldMask !== null) process.umask(oldMask);
  }

  const startErr = await new Promise<Error | null>((res) => {
    child.once('spawn', () => res(null));
    child.once('error', (e) => res(e));
  });
  child.on('error', () => undefined); // later errors (a failed kill) are seen through the group
  if (startErr || child.pid === undefined) {
    const e = startErr as NodeJS.ErrnoException | null;
    return finish({ ...none, ok: false, outcome: 'spawn-failed' }, e?.code ?? e?.message ?? 'no process id');
  }
  const pid = child.pid;

  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => res({ code, signal }));
  });
  const closed = new Promise<void>((res) => child.once('close', () => res()));
  let leaderDone = false;
  void exited.then(() => { leaderDone = true; });

  // Watchdog: stall, deadline and abort all end in one stop reason.
  let stopWith!: (r: StopReason) => void;
  const stopped = new Promise<StopReason>((res) => { stopWith = res; });
  const onAbort = () => stopWith('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) stopWith('aborted'); // aborted while the process was starting
  let callbackError: unknown = null;
  try {
    o.onSpawn?.(pid);
  } catch (e) {
    callbackError = e; // the caller's bug: stop the tool, then report it
    stopWith('aborted');
  }
  let watching = true;
  void (async () => {
    let last = { size: -2 as number | null, cpu: -2 as number | null, printed: -1 };
    let lastProgress = performance.now();
    while (watching) {
      const now = { size: await sizeOf(o.output), cpu: platform === 'linux' ? cpuTicks(pid) : null, printed: err.total + out.total };
      const at = performance.now();
      if (now.size !== last.size || now.cpu !== last.cpu || now.printed !== last.printed) lastProgress = at;
      last = now;
      if (at - lastProgress >= t.stallMs) {
        stopWith('stalled');
        return;
      }
      // Checked here rather than with one long timer: setTimeout cannot wait past 2^31-1 ms.
      if (at - started >= deadlineMs) {
        stopWith('deadline');
        return;
      }
      await sleep(Math.min(t.pollMs, Math.max(1, t.stallMs - (at - lastProgress)), Math.max(1, deadlineMs - (at - started))));
    }
  })();

  const gone = async (ms: number): Promise<boolean> => {
    if (!posix) return (await within(exited, ms)) !== undefined;
    return waitGroupGone(pid, ms);
  };
  const kill = (sig: NodeJS.Signals) => {
    if (posix) signalGroup(pid, sig);
    else if (!leaderDone) child.kill(sig); // Windows: TerminateProcess on the tool only
  };
  const stopGroup = async (reason: StopRecord['reason'], graceful: boolean): Promise<StopRecord> => {
    const t0 = performance.now();
    let escalated = !graceful;
    kill(graceful ? 'SIGTERM' : 'SIGKILL');
    let done = await gone(graceful ? t.killGraceMs : t.reapMs);
    if (!done && graceful) {
      escalated = true;
      kill('SIGKILL');
      done = await gone(t.reapMs);
    }
    return { reason, escalated, goneMs: done ? Math.round(performance.now() - t0) : null };
  };

  const first = await Promise.race([exited.then(() => null), stopped]);
  watching = false;
  o.signal?.removeEventListener('abort', onAbort);

  let stop: StopRecord | null = null;
  let stragglers = false;
  if (first !== null) {
    stop = await stopGroup(first, true);
  } else if (posix && groupAlive(pid)) {
    // The leader is reaped, so any member left is a helper it started: it must not write on.
    await sleep(0); // let libuv finish reaping the leader before judging
    if (groupAlive(pid)) {
      stragglers = true;
      stop = await stopGroup('stragglers', false);
    }
  }
  const exit = (await within(exited, t.reapMs)) ?? { code: null, signal: null };
  await within(closed, t.reapMs);
  child.stdout!.destroy();
  child.stderr!.destroy();

  if (callbackError !== null) throw callbackError;
  const outcome: ToolOutcome = first ?? (exit.signal ? 'signaled' : 'exited');
  return finish({
    ok: outcome === 'exited' && exit.code === 0 && !stragglers,
    outcome, code: exit.code, signal: exit.signal, stragglers, stop, pid,
  });
}
