// A real one-node Slurm cluster for a test (root only; Debian 12's slurm-wlm 22.05 and munge
// 0.5.15, installed by .ci/run): a fresh munge key, a slurm.conf that names this host as the
// controller and the only node with its real CPUs and memory (`slurmd -C`), and munged,
// slurmctld and slurmd in the foreground as children of the test, each with a parent-death
// signal (setpriv --pdeathsig KILL), so that none outlives a test process that dies. Every
// state, spool, socket and log file lives in the test's temp folder; the ports are free ones
// picked at start, so two clusters (or a site's own Slurm) do not collide. stop() cancels what
// is still queued, waits for it, stops the daemons and checks that they are gone.
//
// Debian specifics found here: munged refuses a socket whose parent folders are not open to
// every user (a mktemp -d folder is 0700) unless forced (-f; only root uses this cluster);
// the daemons read the munge socket from AuthInfo=socket=...; client commands (sbatch, squeue,
// scontrol, scancel) find the cluster by SLURM_CONF; a node named by its host name is given
// NodeAddr=127.0.0.1 so that no name lookup is needed.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export const SLURM_TOOLS = ['/usr/sbin/munged', '/usr/bin/munge', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/squeue', '/usr/bin/scontrol', '/usr/bin/scancel', '/usr/bin/sinfo', '/usr/bin/setpriv'];
export const IS_ROOT = process.getuid?.() === 0;

/** Ends a job's task for good (a state a task never leaves). */
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

export interface Task {
  /** ArrayTaskId (a range such as "3-4" while tasks are pending), or "" for a plain job. */
  task: string;
  jobId: string;
  state: string;
  /** "0:0": exit status and signal. */
  exit: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SlurmCluster {
  readonly env: NodeJS.ProcessEnv;
  private readonly daemons: { name: string; child: ChildProcess; log: string }[] = [];

  private constructor(readonly dir: string, readonly conf: string, readonly node: string) {
    this.env = { ...process.env, SLURM_CONF: conf };
  }

  /** Starts munged, slurmctld and slurmd under `dir` and waits until the node is idle. */
  static async start(dir: string): Promise<SlurmCluster> {
    const missing = SLURM_TOOLS.filter((t) => !existsSync(t));
    if (missing.length) throw new Error(`Slurm cannot start: missing ${missing.join(', ')} (apt-get install slurm-wlm munge util-linux)`);
    for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(path.join(dir, d), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(dir, 'run'), { recursive: true, mode: 0o755 });
    const key = path.join(dir, 'munge', 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    chmodSync(key, 0o400);
    // this host as `slurmd -C` sees it: NodeName=HOST CPUs=2 Boards=1 ... RealMemory=24105
    const probe = spawnSync('/usr/sbin/slurmd', ['-C'], { encoding: 'utf8' });
    const nodeLine = probe.stdout.split('\n').find((l) => l.startsWith('NodeName='));
    if (probe.status !== 0 || !nodeLine) throw new Error(`slurmd -C failed (${probe.status}): ${probe.stderr}`);
    const node = /^NodeName=(\S+)/.exec(nodeLine)![1]!;
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const sock = path.join(dir, 'run', 'munge.socket');
    const conf = path.join(dir, 'slurm.conf');
    writeFileSync(conf, [
      'ClusterName=aenvtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'SlurmUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${sock}`,
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'run', 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'run', 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
      'ProctrackType=proctrack/pgid',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'MailProg=/bin/true',
      'ReturnToService=2',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'JobCompType=jobcomp/none',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'KillWait=30', // Slurm's default: a cancelled task gets SIGCONT, SIGTERM, and 30 s before SIGKILL
      `${nodeLine.trim()} NodeAddr=127.0.0.1 State=UNKNOWN`,
      `PartitionName=main Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'));
    const c = new SlurmCluster(dir, conf, node);
    try {
      c.daemon('munged', ['/usr/sbin/munged', '-F', '-f', `--socket=${sock}`, `--key-file=${key}`, `--log-file=${path.join(dir, 'log', 'munged.log')}`,
        `--pid-file=${path.join(dir, 'run', 'munged.pid')}`, `--seed-file=${path.join(dir, 'munge', 'munged.seed')}`]);
      await c.waitFor('munged', async () => spawnSync('/usr/bin/munge', ['-n', '-S', sock], { stdio: 'ignore' }).status === 0, 20_000);
      c.daemon('slurmctld', ['/usr/sbin/slurmctld', '-D', '-i', '-f', conf]);
      c.daemon('slurmd', ['/usr/sbin/slurmd', '-D', '-f', conf]);
      await c.waitFor('the node to be idle', async () => {
        const r = spawnSync('sinfo', ['-h', '-n', node, '-o', '%t'], { env: c.env, encoding: 'utf8' });
        return r.status === 0 && r.stdout.trim() === 'idle';
      }, 60_000);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private daemon(name: string, argv: string[]): void {
    const log = path.join(this.dir, 'log', `${name}.out`);
    const fd = openSync(log, 'a');
    const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', ...argv], { env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => { /* reported by waitFor: the daemon is not running */ });
    this.daemons.push({ name, child, log });
  }

  /** Polls `ok` until it holds; fails at once, with the daemons' last log lines, when one exited. */
  private async waitFor(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const dead = this.daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
      if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}:\n${this.logTail()}`);
      if (await ok()) return;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  /** The last lines of every daemon's output, for a failure message. */
  logTail(): string {
    return this.daemons.map((d) => {
      const text = existsSync(d.log) ? readFileSync(d.log, 'utf8').trim().split('\n').slice(-8).join('\n') : '(no log)';
      return `--- ${d.name}:\n${text}`;
    }).join('\n');
  }

  /** Runs a client command (sbatch, scancel, ...) against this cluster. */
  cmd(args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(args[0]!, args.slice(1), { env: this.env, cwd, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** sbatch --parsable ARGS: the job id. */
  sbatch(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
    const r = spawnSync('sbatch', ['--parsable', ...args], { env: { ...this.env, ...env }, cwd, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`sbatch ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout.trim().split(';')[0]!;
  }

  /** The tasks of a job (one per array task; pending ones may be one line with a range). */
  tasks(jobId: string): Task[] {
    const r = this.cmd(['scontrol', '-o', 'show', 'job', jobId]);
    if (r.code !== 0) throw new Error(`scontrol show job ${jobId}: ${r.stderr}`);
    return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
      const f = (k: string): string => new RegExp(`(?:^| )${k}=(\\S*)`).exec(l)?.[1] ?? '';
      return { task: f('ArrayTaskId'), jobId: f('JobId'), state: f('JobState'), exit: f('ExitCode') };
    });
  }

  /** Waits until every task of the job has ended; returns them. */
  async wait(jobId: string, ms = 120_000): Promise<Task[]> {
    const end = Date.now() + ms;
    for (;;) {
      const t = this.tasks(jobId);
      if (t.length && t.every((x) => FINAL.has(x.state))) return t;
      if (Date.now() > end) throw new Error(`job ${jobId} did not end within ${ms} ms: ${JSON.stringify(t)}\n${this.logTail()}`);
      await sleep(100);
    }
  }

  /** Cancels every job, waits for the queue to empty, stops the daemons; never throws. */
  async stop(): Promise<void> {
    if (this.daemons.some((d) => d.name === 'slurmctld' && d.child.exitCode === null)) {
      this.cmd(['scancel', '--full', '--user', 'root']);
      const end = Date.now() + 45_000;
      while (Date.now() < end) {
        const q = this.cmd(['squeue', '-h', '-o', '%i']);
        if (q.code !== 0 || q.stdout.trim() === '') break;
        await sleep(200);
      }
    }
    for (const d of [...this.daemons].reverse()) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      d.child.kill('SIGTERM');
      const end = Date.now() + 10_000;
      while (d.child.exitCode === null && d.child.signalCode === null && Date.now() < end) await sleep(50);
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    }
  }
}
