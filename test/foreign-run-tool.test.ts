// Running IBM's tool (src/foreign/run-tool.ts) against the stand-in, one real process per case,
// in real temporary folders: what the result says for each behaviour (success, wrong password,
// partial output, crash by signal, hang with and without obeying SIGTERM, a helper process left
// behind, slow but steady output, a deadline, a 50 MiB standard error, an echoed password),
// that the whole process group is gone after every stop, and the watchdog's and the kill's timing.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unprotectArgs } from '../src/foreign/ibm-cli.js';
import { runTool, toolDeadlineMs, type RunToolOptions, type ToolTiming } from '../src/foreign/run-tool.js';
import { installStandin, type Standin, type StandinRule } from './helpers/standin.js';

const PW = 'tr0ub4dor&3 pass';
const FAST: Partial<ToolTiming> = { stallMs: 1000, pollMs: 50, killGraceMs: 400, reapMs: 5000, deadlineBaseMs: 30_000 };
const PLAIN = randomBytes(300 * 1024);

let s: Standin;
let work: string;
let sealed: Buffer;

beforeAll(() => {
  s = installStandin();
  work = mkdtempSync(path.join(tmpdir(), 'aenv-runtool-'));
  const plain = path.join(s.dir, 'plain.bin');
  writeFileSync(plain, PLAIN);
  const env = path.join(s.dir, 'plain.bin.aspera-env');
  if (s.run('asprotect', env, plain, PW).code !== 0) throw new Error('stand-in asprotect failed');
  sealed = readFileSync(env);
  s.setRules([
    { match: 'partial-*', mode: 'partial', bytes: 4096 },
    { match: 'hang-term-*', mode: 'hang', bytes: 100, ignoreTerm: false },
    { match: 'hang-*', mode: 'hang', bytes: 100, grandchild: true },
    { match: 'slow-*', mode: 'slow', chunk: 16 * 1024, intervalMs: 100 },
    { match: 'flood-*', mode: 'stderr-flood', stderrBytes: 50 * 1024 * 1024 },
    { match: 'segv-*', mode: 'crash', bytes: 1024, signal: 'SIGSEGV' },
    { match: 'kill9-*', mode: 'crash', bytes: 10, signal: 'SIGKILL' },
    { match: 'echo-*', mode: 'echo-password' },
    { match: 'straggler-*', mode: 'straggler' },
  ] satisfies StandinRule[]);
});
afterAll(() => {
  // Safety net should runTool ever fail to stop a group: nothing of these tests may outlive them.
  // Only processes provably ours: in a session one of our tools led, running our stand-in, or
  // started by one of those.
  const procs = readdirSync('/proc').filter((x) => /^\d+$/.test(x)).flatMap((n) => {
    try {
      const f = readFileSync(`/proc/${n}/stat`, 'latin1').split(') ')[1]!.split(' ');
      return [{ pid: Number(n), ppid: Number(f[1]), session: Number(f[3]), cmd: readFileSync(`/proc/${n}/cmdline`, 'latin1') }];
    } catch {
      return [];
    }
  });
  const ours = new Set(procs.filter((p) => spawned.includes(p.session) || p.cmd.includes(s.dir)).map((p) => p.pid));
  for (const p of procs) if (ours.has(p.ppid)) ours.add(p.pid);
  for (const pid of ours) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
  s.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** A case folder with the sealed envelope under `name`, and aenv's kind of temporary file. */
async function setup(name: string) {
  const dir = mkdtempSync(path.join(work, 'case-'));
  const input = path.join(dir, name);
  writeFileSync(input, sealed);
  const temp = path.join(dir, `.aenv-${process.pid}-${randomBytes(8).toString('hex')}.partial`);
  await (await open(temp, 'wx', 0o600)).close();
  return { dir, input, temp };
}

const spawned: number[] = [];

function run(c: { input: string; temp: string }, extra: Partial<RunToolOptions> = {}) {
  return runTool({
    tool: s.asunprotect, args: unprotectArgs(c.temp, c.input), password: PW, output: c.temp,
    inputBytes: sealed.length, timing: FAST, ...extra,
    onSpawn: (pid) => { spawned.push(pid); extra.onSpawn?.(pid); },
  });
}

/** Processes of group `pgid` that can still run, read from /proc here (independently of src/). */
function runnable(pgid: number): string[] {
  const found: string[] = [];
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let stat = '';
    try {
      stat = readFileSync(`/proc/${n}/stat`, 'latin1');
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') found.push(`${n} ${state}`);
  }
  return found;
}

/**
 * Nothing of the tool's group can run any more the moment runTool settles; and the group
 * disappears entirely (kill(-pgid, 0) -> ESRCH) once PID 1 has reaped the killed helpers,
 * which this machine's init does only every ~2 s.
 */
async function expectGroupGone(pid: number | null) {
  expect(pid).toBeTypeOf('number');
  expect(runnable(pid!)).toEqual([]);
  expect(existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'))).toBe(false);
  const until = performance.now() + 10_000;
  for (;;) {
    try {
      process.kill(-pid!, 0);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ESRCH');
      return;
    }
    if (performance.now() > until) throw new Error(`group ${pid} still exists (zombies not reaped by PID 1?)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runTool with the stand-in', { timeout: 30_000 }, () => {
  it('ok: exit 0, the plaintext in aenv\'s temporary file, nothing left running', async () => {
    const c = await setup('fine.csv.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ ok: true, outcome: 'exited', code: 0, signal: null, stragglers: false, stop: null, lastLine: '', outputBytes: PLAIN.length });
    expect(r.detail).toBe('asunprotect exited with status 0');
    expect(readFileSync(c.temp).equals(PLAIN)).toBe(true);
    expect(statSync(c.temp).mode & 0o777).toBe(0o600);
    await expectGroupGone(r.pid);
  });

  it('wrong password: the exit status and the tool\'s last message', async () => {
    const c = await setup('fine.csv.aspera-env');
    const r = await run(c, { password: 'not it' });
    expect(r).toMatchObject({ ok: false, outcome: 'exited', code: 3, outputBytes: 0 });
    expect(r.lastLine).toBe('asunprotect: fine.csv.aspera-env: wrong password');
    expect(r.detail).toBe('asunprotect exited with status 3: asunprotect: fine.csv.aspera-env: wrong password');
  });

  it('partial output then failure: reported with the size it reached', async () => {
    const c = await setup('partial-1.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ ok: false, outcome: 'exited', code: 1, outputBytes: 4096 });
    expect(r.detail).toBe('asunprotect exited with status 1: asunprotect: partial-1.aspera-env: read error: Input/output error');
  });

  it('crash by SIGSEGV and by SIGKILL: outcome signaled, with the signal', async () => {
    const c = await setup('segv-1.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ ok: false, outcome: 'signaled', code: null, signal: 'SIGSEGV', outputBytes: 1024 });
    expect(r.detail).toBe('asunprotect was killed by SIGSEGV');
    const c2 = await setup('kill9-1.aspera-env');
    expect(await run(c2)).toMatchObject({ ok: false, outcome: 'signaled', signal: 'SIGKILL' });
  });

  it('exits 0 but leaves a helper running: the helper is killed and the run fails', async () => {
    const c = await setup('straggler-1.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ ok: false, outcome: 'exited', code: 0, stragglers: true, stop: { reason: 'stragglers', escalated: true } });
    expect(r.detail).toBe('asunprotect exited with status 0 but left processes running, which were killed');
    await expectGroupGone(r.pid);
  });

  it('the password is echoed on standard error: the detail never shows it', async () => {
    const c = await setup('echo-1.aspera-env');
    const r = await run(c);
    expect(r.code).toBe(1);
    expect(r.lastLine).toBe("asunprotect: cannot open echo-1.aspera-env with password '***'");
    expect(JSON.stringify(r)).not.toContain(PW);
  });

  it('a tool that cannot be started: spawn-failed, with the reason', async () => {
    const c = await setup('fine.csv.aspera-env');
    const r = await run(c, { tool: path.join(s.dir, 'no-such-tool') });
    expect(r).toMatchObject({ ok: false, outcome: 'spawn-failed', pid: null, detail: 'could not start no-such-tool: ENOENT' });
  });
});

describe('watchdog, deadline and interruption', { timeout: 30_000 }, () => {
  it('hang that ignores SIGTERM, with a helper: stalled, SIGKILL after the grace, whole group gone', async () => {
    const c = await setup('hang-1.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ ok: false, outcome: 'stalled', outputBytes: 100, stop: { reason: 'stalled', escalated: true } });
    expect(r.detail).toBe('asunprotect made no progress for 1 s and was stopped');
    await expectGroupGone(r.pid);
    // no progress after start-up for stallMs, then SIGTERM, then SIGKILL after killGraceMs
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1000 + 400);
    expect(r.stop!.goneMs).toBeGreaterThanOrEqual(400);
    expect(r.stop!.goneMs).toBeLessThan(400 + 500);
    console.log(`[measure] stall (stallMs 1000, grace 400, TERM ignored): elapsed ${r.elapsedMs} ms, TERM->group gone ${r.stop!.goneMs} ms`);
  });

  it('hang that obeys SIGTERM: stopped without SIGKILL, quickly', async () => {
    const c = await setup('hang-term-1.aspera-env');
    const r = await run(c);
    expect(r).toMatchObject({ outcome: 'stalled', signal: 'SIGTERM', stop: { escalated: false } });
    expect(r.stop!.goneMs).toBeLessThan(300);
    await expectGroupGone(r.pid);
    console.log(`[measure] stall (TERM obeyed): elapsed ${r.elapsedMs} ms, TERM->group gone ${r.stop!.goneMs} ms`);
  });

  it('slow but steady output outlives stallMs: not stopped', async () => {
    const c = await setup('slow-1.aspera-env');
    const r = await run(c); // 19 chunks, 100 ms apart: ~1.9 s > stallMs 1 s
    expect(r).toMatchObject({ ok: true, outcome: 'exited', code: 0, outputBytes: PLAIN.length });
    expect(r.elapsedMs).toBeGreaterThan(1000);
    expect(readFileSync(c.temp).equals(PLAIN)).toBe(true);
  });

  it('the deadline scales with the input size and stops a slow run', async () => {
    expect(toolDeadlineMs(0)).toBe(120_000);
    expect(toolDeadlineMs(10 * 1024 * 1024 * 1024)).toBe(120_000 + 10_240_000);
    const c = await setup('slow-2.aspera-env');
    const timing = { ...FAST, deadlineBaseMs: 600, deadlineBytesPerSec: 1e12 };
    const r = await run(c, { timing });
    expect(r).toMatchObject({ ok: false, outcome: 'deadline', deadlineMs: 601, stop: { reason: 'deadline' } });
    expect(r.detail).toBe('asunprotect ran longer than 0.6 s (its limit for this input size) and was stopped');
    expect(r.outputBytes).toBeLessThan(PLAIN.length);
    await expectGroupGone(r.pid);
  });

  it('a deadline past setTimeout\'s range (a 3 TiB input) does not fire at once', async () => {
    const c = await setup('fine.csv.aspera-env');
    const r = await run(c, { inputBytes: 3 * 2 ** 40 });
    expect(r.deadlineMs).toBeGreaterThan(2 ** 31);
    expect(r).toMatchObject({ ok: true, outcome: 'exited' });
  });

  it('an onSpawn callback that throws: the tool is stopped, then the error is raised', async () => {
    const c = await setup('hang-3.aspera-env');
    let pid = 0;
    await expect(run(c, { onSpawn: (p) => { pid = p; throw new Error('caller bug'); } })).rejects.toThrow('caller bug');
    await expectGroupGone(pid);
  });

  it('AbortSignal (aenv\'s SIGINT): the group is stopped and gone before the promise settles', async () => {
    const c = await setup('hang-2.aspera-env');
    const ac = new AbortController();
    let abortedAt: number;
    const p = run(c, { signal: ac.signal, timing: { ...FAST, stallMs: 60_000 } });
    // once its first bytes are out, the stand-in ignores SIGTERM and has started its helper
    while (statSync(c.temp).size < 100) await new Promise((res) => setTimeout(res, 10));
    abortedAt = performance.now();
    ac.abort();
    const r = await p;
    const settled = performance.now() - abortedAt;
    expect(r).toMatchObject({ ok: false, outcome: 'aborted', stop: { reason: 'aborted', escalated: true } });
    expect(r.detail).toBe('asunprotect was stopped: interrupted');
    await expectGroupGone(r.pid);
    expect(settled).toBeLessThan(400 + 500);
    console.log(`[measure] abort -> settled ${Math.round(settled)} ms (grace 400, TERM ignored, helper in group)`);
    const pre = new AbortController();
    pre.abort();
    expect(await run(c, { signal: pre.signal })).toMatchObject({ outcome: 'aborted', pid: null });
  });
});

describe('what reaches the tool, and what aenv keeps', { timeout: 30_000 }, () => {
  it('the password is in the child\'s environment only: not in argv, not in aenv\'s environment', async () => {
    const c = await setup('hang-term-2.aspera-env');
    const before = process.env.ASPERA_SCP_FILEPASS;
    const seen: { argv?: string[]; env?: string[]; group?: number[] } = {};
    let pid = 0;
    const ac = new AbortController();
    await run(c, {
      signal: ac.signal,
      onSpawn: (p) => {
        pid = p;
        void (async () => {
          // The child is reported as soon as it is forked; its command line and environment are the
          // tool's once it has called exec (a wrapper such as setpriv execs once more): wait for that.
          const argv = (): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
          for (let i = 0; i < 500 && argv().at(-1) !== c.input; i++) await new Promise((res) => setTimeout(res, 10));
          // its own session and process group (setsid), with no controlling terminal to prompt on
          const [, , pgrp, session, tty] = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
          seen.group = [Number(pgrp), Number(session), Number(tty)];
          seen.argv = argv();
          seen.env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
          ac.abort();
        })();
      },
    });
    expect(seen.group).toEqual([pid, pid, 0]);
    expect(seen.argv!.slice(-3)).toEqual(['-o', c.temp, c.input]);
    expect(seen.argv!.some((a) => a.includes(PW))).toBe(false);
    const expected = [`PATH=/usr/bin:/bin`, 'LC_ALL=C', `ASPERA_SCP_FILEPASS=${PW}`, ...(process.env.HOME ? [`HOME=${process.env.HOME}`] : [])];
    expect(seen.env!.sort()).toEqual(expected.sort());
    expect(process.env.ASPERA_SCP_FILEPASS).toBe(before);
  });

  it('a file the tool creates itself is its owner\'s only (umask 077), whatever mode it asks for', async () => {
    const c = await setup('fine.csv.aspera-env');
    const fresh = path.join(c.dir, 'made-by-tool');
    const r = await run(c, { args: unprotectArgs(fresh, c.input), output: fresh });
    expect(r.ok).toBe(true);
    expect(statSync(fresh).mode & 0o777).toBe(0o600); // the stand-in opens it with 0644
    expect(process.umask(0o022)).toBe(0o022); // aenv's own umask was put back
  });

  it('50 MiB on standard error: the detail is its last line; live memory stays flat', async () => {
    // Live memory (after a forced collection) is what aenv holds; RSS without forced collections
    // also counts Node's own 64 KiB read buffers that V8 has not collected yet. The live figure
    // is noisy by a few MiB (V8 frees ArrayBuffer memory on a background thread after a GC);
    // the exact bound of what is kept is Tail's, tested in foreign-tail.test.ts.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    const flood = async (name: string, sample: () => number) => {
      const c = await setup(name);
      const base = sample();
      let peak = base;
      const sampler = setInterval(() => { peak = Math.max(peak, sample()); }, 50);
      const r = await run(c, { timing: { ...FAST, stallMs: 10_000 } });
      clearInterval(sampler);
      return { r, grewMiB: (peak - base) / 2 ** 20 };
    };
    const a = await flood('flood-1.aspera-env', live);
    expect(a.r).toMatchObject({ ok: false, outcome: 'exited', code: 1 });
    expect(a.r.stderrBytes).toBeGreaterThanOrEqual(50 * 1024 * 1024);
    expect(a.r.lastLine).toBe('asunprotect: giving up after the noise above');
    expect(a.grewMiB).toBeLessThan(16); // holding it would take 50 MiB (measured: 0.5-10 MiB)
    gc();
    const c = await flood('flood-2.aspera-env', () => process.memoryUsage().rss);
    console.log(`[measure] ${(a.r.stderrBytes / 2 ** 20).toFixed(1)} MiB stderr in ${a.r.elapsedMs} ms: peak growth of heap + buffers after GC `
      + `${a.grewMiB.toFixed(2)} MiB; RSS growth without forced GC ${c.grewMiB.toFixed(1)} MiB`);
  });

  it('nothing of the cases leaked into the work folders but what each case wrote itself', () => {
    for (const d of readdirSync(work)) {
      for (const f of readdirSync(path.join(work, d))) expect(f).toMatch(/^(\.aenv-\d+-[0-9a-f]{16}\.partial|made-by-tool|[\w.-]+\.aspera-env)$/);
    }
  });
});
