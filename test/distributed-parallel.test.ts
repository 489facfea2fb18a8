// The shipped GNU parallel recipe (examples/parallel.sh, docs/distributed.md), run for real on
// this machine (-j 4, no ssh) over a tree of 2,000 envelopes (three of 64 MiB): the output tree
// holds exactly the plaintexts (what a one-machine run gives; distributed-slurm.test.ts compares
// the two), every part's report is in place, and the script ends with the merged report's exit
// status. Ctrl-C in the middle of a large file (SIGINT to the script's process group, as a
// terminal sends it): GNU parallel stops the part with SIGTERM, the part writes its summary, the
// merged report says it was interrupted after how many files, no temporary file is left; run again
// with the same arguments, the script completes the tree and the new reports replace the old. A damaged
// envelope makes its part, the merged report and the exit status fail, naming the file and the
// part. Two parts on two machines (host names of their own) writing into one shared folder: a
// run on one never removes the other's temporary file (root: unshare --uts --pid). The scripts' usage
// errors (all three, without Slurm) are clear one-line errors, status 2.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AENV, blockedSignals, childOf, cmdlineOf, contents, damage, EXAMPLES, failedRowLine, LARGE, makeTree, partOf, pendingSignals, reportOf, requireBinary, run, stopMidFile, temps, until, type Tree,
} from './helpers/distributed.js';
import { ramTempDir } from './helpers/faults.js';

const N = 4;
const SCRIPT = path.join(EXAMPLES, 'parallel.sh');
const env = { ...process.env, AENV };

const tmp = ramTempDir('aenv-parallel-');
let tree: Tree;
let plain: Record<string, string>;

beforeAll(() => {
  requireBinary();
  if (spawnSync('parallel', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('GNU parallel is not installed (apt-get install parallel; .ci/run installs it)');
  tree = makeTree(path.join(tmp.dir, 'tree'), { small: 1997, large: 3 });
  plain = contents(tree.plain);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('GNU parallel: examples/parallel.sh, 4 parts at once on this machine', () => {
  it('the output tree holds exactly the plaintexts; every part reported; the merged report exits 0', async () => {
    const out = path.join(tmp.dir, 'out');
    const reports = path.join(tmp.dir, 'reports');
    const r = await run('bash', [SCRIPT, String(N), tree.enc, out, tree.pw, reports], { env, cwd: tmp.dir });
    console.log(`[timing] GNU parallel, ${N} parts on this machine: ${(r.ms / 1000).toFixed(1)} s, merged report included`);
    expect(r.code, r.stderr).toBe(0);
    expect(contents(out)).toEqual(plain);
    for (let k = 1; k <= N; k++) {
      const { rows, summary } = reportOf(path.join(reports, `part-${k}.jsonl`));
      expect(summary).toMatchObject({ shard: `${k}/${N}`, exit_status: 0, failed: 0 });
      for (const row of rows) expect(partOf(path.relative(tree.enc, String(row['path'])), N)).toBe(k);
    }
    expect(r.stdout).toMatch(/^report: 4 reports \(4 parts\), 2000 files, /);
    expect(r.stdout).toMatch(/^ {2}ok +2000$/m);
    expect(r.stdout).toMatch(/^report: every run succeeded and the set of reports is complete\n$/m);
    // GNU parallel's own log: four jobs, each exited 0
    const log = readFileSync(path.join(reports, 'parallel.log'), 'utf8').trim().split('\n').slice(1);
    expect(log.map((l) => l.split('\t')[6])).toEqual(['0', '0', '0', '0']);
  }, 240_000);

  it('Ctrl-C in the middle of a large file: the part stops cleanly and says how far it got; run again, the tree is complete', async () => {
    const out = path.join(tmp.dir, 'out-int');
    const reports = path.join(tmp.dir, 'reports-int');
    const k = partOf(tree.large[0]!, N);
    const child = spawn('bash', [SCRIPT, String(N), tree.enc, out, tree.pw, reports], { env, cwd: tmp.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let heldPid = 0;
    try {
      // part K's aenv, held in the middle of the large file while the interruption arrives
      const held = await stopMidFile(path.join(out, 'large'), (pid) => cmdlineOf(pid).includes(`${k}/${N}`), 120_000);
      heldPid = held.pid;
      expect(held.bytes).toBeLessThan(LARGE);
      // the other parts end meanwhile, so that the Ctrl-C finds part K alone in the middle of its run
      await until(() => [1, 2, 3, 4].every((p) => p === k || existsSync(path.join(reports, `part-${p}.jsonl`))), 120_000, 'the other parts to end');
      const perl = childOf(child.pid!, '/usr/bin/parallel');
      process.kill(-child.pid!, 'SIGINT'); // what a terminal sends its foreground process group on Ctrl-C
      // GNU parallel's handler (it blocks SIGINT while it runs) sends each job's process group
      // SIGTERM before anything else; then part K runs on
      await until(() => blockedSignals(perl).includes(2) || pendingSignals(held.pid).includes(15), 30_000, 'GNU parallel to stop its jobs');
      process.kill(held.pid, 'SIGCONT');
    } catch (e) {
      process.kill(-child.pid!, 'SIGKILL');
      if (heldPid) process.kill(heldPid, 'SIGKILL'); // in its own process group, and stopped
      throw e;
    }
    expect(await exited, stderr).toBe(1);
    expect(temps(out), 'part K removed its unfinished file').toEqual([]);
    expect(existsSync(path.join(out, 'large', 'big0.bin'))).toBe(false);
    for (let p = 1; p <= N; p++) {
      const f = path.join(reports, `part-${p}.jsonl`);
      expect(existsSync(f), `part ${p} kept its report\n${stderr}`).toBe(true);
      const { rows, summary } = reportOf(f);
      expect(summary['shard']).toBe(`${p}/${N}`);
      if (p !== k) {
        expect(summary['exit_status']).toBe(0);
        continue;
      }
      expect(summary).toMatchObject({ interrupted: true, exit_status: 143, files_done: rows.length, failed: 0 });
      expect(rows.map((r) => String(r['path']))).not.toContain(path.join(tree.enc, tree.large[0]!));
      expect(stdout).toContain(`${f}: ${rows.length + 1}: part ${p} of ${N} was interrupted after ${rows.length.toLocaleString('en-US')} file${rows.length === 1 ? '' : 's'} (exit status 143)`);
    }
    expect(stdout).not.toMatch(/no report for part|did not match its manifest/);
    expect(stdout).toMatch(/^report: the runs did not all succeed, or the set of reports is incomplete$/m);

    const again = await run('bash', [SCRIPT, String(N), tree.enc, out, tree.pw, reports], { env, cwd: tmp.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(contents(out)).toEqual(plain);
    for (let p = 1; p <= N; p++) {
      const { summary } = reportOf(path.join(reports, `part-${p}.jsonl`));
      expect(summary['interrupted'], `part ${p}`).toBeUndefined();
      expect(summary).toMatchObject({ shard: `${p}/${N}`, exit_status: 0 });
    }
    expect(again.stdout).toMatch(/^report: every run succeeded and the set of reports is complete$/m);
  }, 240_000);

  it('a damaged envelope: its part fails, the merged report names the file and the part, exit 1', async () => {
    const small = makeTree(path.join(tmp.dir, 'small'), { small: 40, large: 0 });
    const rel = 'd05/s0/f0005.dat.aspera-env';
    damage(path.join(small.enc, rel));
    const k = partOf(rel, N);
    const reports = path.join(tmp.dir, 'reports-damaged');
    const r = await run('bash', [SCRIPT, String(N), small.enc, path.join(tmp.dir, 'out-damaged'), small.pw, reports], { env, cwd: tmp.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(failedRowLine(path.join(small.enc, rel), k, N));
    expect(r.stdout).toMatch(/^ {2}1 failed$/m);
    expect(reportOf(path.join(reports, `part-${k}.jsonl`)).summary).toMatchObject({ failed: 1, exit_status: 1 });
    const log = readFileSync(path.join(reports, 'parallel.log'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    expect(log.map((f) => [f[0], f[6]]).sort()).toEqual([1, 2, 3, 4].map((p) => [String(p), p === k ? '1' : '0']));
  }, 120_000);
});

const IS_ROOT = process.getuid?.() === 0;
const NOT_ROOT = 'needs root to run a part as on another machine (unshare --uts --pid; CI runs as root)';

describe.skipIf(!IS_ROOT)(`two machines writing into one shared output folder${IS_ROOT ? '' : ` (SKIPPED: ${NOT_ROOT})`}`, () => {
  it('a part on another machine never removes the temporary file of a part still writing here (its pid means nothing there)', async () => {
    const src = path.join(tmp.dir, 'two-src', 'shared');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(src, `s${String(i).padStart(2, '0')}.txt`), `small ${i}\n`);
    writeFileSync(path.join(src, 'zz-big.bin'), randomBytes(LARGE));
    const enc = path.join(tmp.dir, 'two-enc');
    expect((await run(AENV, ['encrypt', path.dirname(src), '-o', enc, '--kdf', 'pbkdf2', '--password-file', tree.pw, '-q'])).code).toBe(0);
    const k = partOf('shared/zz-big.bin.aspera-env', 2);
    const out = path.join(tmp.dir, 'two-out');
    // part K here; the other part as on another machine: its own host name and its own pids
    // (UTS and PID namespaces), so that part K's pid is no process it can see
    const args = (shard: string): string[] => ['decrypt', enc, '-o', out, '--shard', shard, '--json', '--password-file', tree.pw];
    const a = spawn(AENV, args(`${k}/2`), { stdio: ['ignore', 'pipe', 'pipe'] });
    let aOut = '';
    a.stdout.on('data', (d: Buffer) => (aOut += d.toString()));
    const aDone = new Promise<number | null>((resolve) => a.on('close', (code) => resolve(code)));
    try {
      const held = await stopMidFile(path.join(out, 'shared'), (pid) => cmdlineOf(pid).includes(`${k}/2`), 60_000);
      const b = await run('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', 'hostname node-b && exec "$0" "$@"', AENV, ...args(`${3 - k}/2`)]);
      expect(b.code, b.stderr).toBe(0);
      expect(JSON.parse(b.stdout.trim().split('\n').at(-1)!).summary.ok).toBeGreaterThan(0); // it wrote into the same folder
      expect(existsSync(held.temp), 'node-b left node-a\'s temporary file alone').toBe(true);
      process.kill(held.pid, 'SIGCONT');
    } catch (e) {
      a.kill('SIGKILL'); // stopped or not, it ends
      throw e;
    }
    expect(await aDone, aOut).toBe(0);
    expect(contents(out)).toEqual(contents(path.dirname(src)));
  }, 120_000);
});

describe('the scripts refuse bad arguments with a usage line (status 2), before any work', () => {
  const usage = (r: { code: number | null; stderr: string }, re: RegExp): void => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  };

  it('parallel.sh', async () => {
    usage(await run('bash', [SCRIPT, '4', 'in', 'out'], { env }), /^parallel\.sh: error: 5 arguments needed, 3 given; usage: parallel\.sh N INPUT OUTPUT PASSWORD_FILE REPORTS$/);
    usage(await run('bash', [SCRIPT, 'four', tree.enc, 'o', tree.pw, 'r'], { env }), /N must be a whole number from 1, not 'four'/);
    usage(await run('bash', [SCRIPT, '0', tree.enc, 'o', tree.pw, 'r'], { env }), /N must be a whole number from 1, not '0'/);
    usage(await run('bash', [SCRIPT, '4', path.join(tmp.dir, 'nope'), 'o', tree.pw, 'r'], { env }), /INPUT .*nope does not exist/);
    usage(await run('bash', [SCRIPT, '4', tree.enc, 'o', path.join(tmp.dir, 'nope'), 'r'], { env }), /cannot read the PASSWORD_FILE/);
    usage(await run('bash', [SCRIPT, '4', tree.enc, 'o', tree.pw, 'r'], { env: { ...env, AENV: path.join(tmp.dir, 'no-aenv') } }), /aenv not found \(AENV=.*no-aenv\)/);
  });

  it('decrypt-array.sbatch and report.sbatch (run outside Slurm)', async () => {
    const array = path.join(EXAMPLES, 'slurm', 'decrypt-array.sbatch');
    const report = path.join(EXAMPLES, 'slurm', 'report.sbatch');
    const noSlurm = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('SLURM_')));
    usage(await run('bash', [array, 'in'], { env: noSlurm }), /^decrypt-array: error: 4 arguments needed, 1 given; usage: sbatch --array=1-N decrypt-array\.sbatch INPUT OUTPUT PASSWORD_FILE REPORTS$/);
    usage(await run('bash', [array, tree.enc, 'o', tree.pw, path.join(tmp.dir, 'r-usage')], { env: noSlurm }), /not a task of a job array \(no SLURM_ARRAY_TASK_ID\)/);
    const task = (id: string, count: string, min: string, max: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
      ({ ...noSlurm, SLURM_ARRAY_TASK_ID: id, SLURM_ARRAY_TASK_COUNT: count, SLURM_ARRAY_TASK_MIN: min, SLURM_ARRAY_TASK_MAX: max, SLURM_JOB_ID: '7', ...extra });
    const reports = path.join(tmp.dir, 'r-usage');
    // a resubmitted task (--array=3: one task) with nothing recorded cannot know N
    usage(await run('bash', [array, tree.enc, 'o', tree.pw, reports], { env: task('3', '1', '3', '3') }), /the array is not 1-N \(tasks 3-3, 1 in all\) and .*parts does not say N: set PARTS=N/);
    writeFileSync(path.join(reports, 'parts'), '4\n');
    usage(await run('bash', [array, tree.enc, 'o', tree.pw, reports], { env: task('5', '8', '1', '8') }), /task 5 is not a part of 1-4 \(.*parts says N=4\): use another REPORTS folder for another N$/);
    usage(await run('bash', [array, tree.enc, 'o', tree.pw, reports], { env: task('1', '4', '1', '4', { PARTS: '8' }) }), /holds the reports of a 4-part run, not 8 parts: use another REPORTS folder/);
    usage(await run('bash', [report], { env: noSlurm }), /^report: error: 1 argument needed, 0 given; usage: sbatch --dependency=afterany:JOBID report\.sbatch REPORTS$/);
    usage(await run('bash', [report, path.join(tmp.dir, 'nope')], { env: noSlurm }), /REPORTS .*nope is not a folder/);
  });
});
