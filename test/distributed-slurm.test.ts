// The shipped Slurm recipe (examples/slurm/, docs/distributed.md) on a real one-node cluster
// (test/helpers/slurm.ts: munged, slurmctld, slurmd started here, as root): the array script,
// submitted unchanged with only its arguments, decrypts a tree of 2,000 envelopes (three of
// 64 MiB) in four parts into one shared output tree; the dependent report job merges the parts'
// reports. Checked: the tree equals a one-machine run byte for byte, the merged report counts
// every file ok and every part present, and the exit statuses tell. Recovery as users meet it:
// one task cancelled (scancel) in the middle of a large file leaves an honest report ("part K of
// 4 was interrupted after M files", exit 143) and no temporary file; resubmitted alone
// (--array=K, same arguments) it completes the tree, and its report replaces the cancelled one.
// A damaged envelope fails its part: the task, the merged report and its exit status say so,
// naming the file and the part. Skipped only where it cannot run as root (.ci/allowed-skips).
// The run times of the one-machine run and of the four-part array are printed ([timing]).

import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AENV, contents, damage, EXAMPLES, environOf, failedRowLine, LARGE, makeTree, partOf, reportOf, requireBinary, run, stopMidFile, temps, type Tree,
} from './helpers/distributed.js';
import { ramTempDir } from './helpers/faults.js';
import { IS_ROOT, SlurmCluster } from './helpers/slurm.js';

const N = 4;
const ARRAY = path.join(EXAMPLES, 'slurm', 'decrypt-array.sbatch');
const REPORT = path.join(EXAMPLES, 'slurm', 'report.sbatch');
const WHY = 'needs root to start munged, slurmctld and slurmd (CI runs as root)';

describe.skipIf(!IS_ROOT)(`Slurm: examples/slurm on a real one-node cluster${IS_ROOT ? '' : ` (SKIPPED: ${WHY})`}`, () => {
  const tmp = IS_ROOT ? ramTempDir('aenv-slurm-') : { dir: '', cleanup: () => undefined };
  let cluster: SlurmCluster | null = null;
  let tree: Tree;
  let one: Record<string, string>;
  const env = { AENV };

  beforeAll(async () => {
    requireBinary();
    cluster = await SlurmCluster.start(path.join(tmp.dir, 'slurm'));
    tree = makeTree(path.join(tmp.dir, 'tree'), { small: 1997, large: 3 });
    // the one-machine run the parts must equal
    const r = await run(AENV, ['decrypt', tree.enc, '-o', path.join(tmp.dir, 'one'), '--password-file', tree.pw, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!).summary;
    console.log(`[timing] one machine: ${(r.ms / 1000).toFixed(1)} s wall (aenv: ${s.seconds} s) for ${s.ok} files, ${(s.bytes / 1048576).toFixed(0)} MiB`);
    one = contents(path.join(tmp.dir, 'one'));
    expect(Object.keys(one)).toHaveLength(tree.files);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    tmp.cleanup();
  }, 120_000);

  /** Submits the array (or the tasks in `array`) over `input` into `out`, reports into `reports`. */
  const submit = (array: string, input: string, out: string, reports: string): string =>
    cluster!.sbatch([`--array=${array}`, ARRAY, input, out, tree.pw, reports], tmp.dir, env);

  /** The report job after `job`: its exit status and the merged report it kept. */
  async function reportJob(job: string, reports: string): Promise<{ exit: string; text: string; summary: Record<string, unknown> }> {
    const id = cluster!.sbatch([`--dependency=afterany:${job}`, REPORT, reports], tmp.dir, env);
    const [t] = await cluster!.wait(id);
    const log = path.join(tmp.dir, `aenv-report-${id}.log`);
    expect(existsSync(log), 'the report job wrote its log').toBe(true);
    const text = readFileSync(path.join(reports, 'merged.txt'), 'utf8');
    expect(readFileSync(log, 'utf8')).toContain(text); // what the job printed is what it kept
    return { exit: t!.exit, text, summary: JSON.parse(readFileSync(path.join(reports, 'merged.json'), 'utf8')).summary };
  }

  const byTask = (tasks: { task: string; state: string; exit: string }[]): Record<string, string> =>
    Object.fromEntries(tasks.map((t) => [t.task, `${t.state} ${t.exit}`]));

  it('four parts into one output tree equal a one-machine run byte for byte; the report job says every part and every file is ok', async () => {
    const out = path.join(tmp.dir, 'out');
    const reports = path.join(tmp.dir, 'reports');
    const t0 = Date.now();
    const job = submit(`1-${N}`, tree.enc, out, reports);
    const tasks = await cluster!.wait(job);
    const arrayMs = Date.now() - t0;
    expect(byTask(tasks)).toEqual({ 1: 'COMPLETED 0:0', 2: 'COMPLETED 0:0', 3: 'COMPLETED 0:0', 4: 'COMPLETED 0:0' });
    expect(contents(out)).toEqual(one);
    const seen: string[] = [];
    for (let k = 1; k <= N; k++) {
      const { rows, summary } = reportOf(path.join(reports, `part-${k}.jsonl`));
      expect(summary).toMatchObject({ shard: `${k}/${N}`, exit_status: 0, failed: 0 });
      for (const r of rows) {
        expect(r['status']).toBe('ok');
        expect(partOf(path.relative(tree.enc, String(r['path'])), N)).toBe(k);
        seen.push(String(r['path']));
      }
    }
    expect(new Set(seen).size).toBe(tree.files);
    expect(readFileSync(path.join(reports, 'parts'), 'utf8')).toBe(`${N}\n`);
    const rep = await reportJob(job, reports);
    console.log(`[timing] Slurm, ${N} parts on this node: ${(arrayMs / 1000).toFixed(1)} s from sbatch to the last task's end `
      + `(longest part ${rep.summary['seconds']} s, all parts ${rep.summary['seconds_sum']} s of aenv)`);
    expect(rep.exit).toBe('0:0');
    expect(rep.summary).toMatchObject({ ok: tree.files, failed: 0, skipped: 0, reports: N, shards: N, duplicates: 0, truncated: 0, interrupted: 0, superseded: 0, exit_status: 0 });
    expect(rep.text).toMatch(new RegExp(`^report: 4 reports \\(4 parts\\), 2000 files, `));
    expect(rep.text).toMatch(/^ {2}ok +2000$/m);
    expect(rep.text).toMatch(/^report: every run succeeded and the set of reports is complete$/m);
  }, 300_000);

  it('a task cancelled in the middle of a large file, then resubmitted alone: the tree ends complete and correct, and its new report replaces the cancelled one', async () => {
    const out = path.join(tmp.dir, 'out-cancel');
    const reports = path.join(tmp.dir, 'reports-cancel');
    const k = partOf(tree.large[0]!, N);
    const job = submit(`1-${N}`, tree.enc, out, reports);
    // task K's aenv, held in the middle of a large file (Slurm sends SIGCONT before SIGTERM)
    const mine = (pid: number): boolean => {
      const e = environOf(pid);
      return e['SLURM_ARRAY_JOB_ID'] === job && e['SLURM_ARRAY_TASK_ID'] === String(k);
    };
    const held = await stopMidFile(path.join(out, 'large'), mine, 240_000);
    expect(held.bytes).toBeLessThan(LARGE);
    const cancel = cluster!.cmd(['scancel', `${job}_${k}`]);
    expect(cancel.code, cancel.stderr).toBe(0);
    const tasks = byTask(await cluster!.wait(job));
    for (let t = 1; t <= N; t++) expect(tasks[t], `task ${t}`).toMatch(t === k ? /^CANCELLED / : /^COMPLETED 0:0$/);
    expect(temps(out), 'aenv removed the unfinished file').toEqual([]);
    expect(existsSync(held.temp)).toBe(false);
    // the cancelled part's report is whole and says what happened
    const cancelled = reportOf(path.join(reports, `part-${k}.jsonl`));
    expect(cancelled.summary).toMatchObject({ interrupted: true, shard: `${k}/${N}`, exit_status: 143, files_done: cancelled.rows.length, failed: 0 });
    expect(cancelled.rows.every((r) => r['status'] === 'ok')).toBe(true);
    const log = readFileSync(path.join(tmp.dir, `aenv-decrypt-${job}_${k}.log`), 'utf8');
    expect(log).toMatch(/CANCELLED AT/);
    expect(log).toMatch(new RegExp(`part ${k} of ${N}: aenv exited 143; report `));
    const m = cancelled.rows.length;
    const before = await reportJob(job, reports);
    expect(before.exit).toBe('1:0');
    expect(before.text).toContain(`part ${k} of ${N} was interrupted after ${m.toLocaleString('en-US')} file${m === 1 ? '' : 's'} (exit status 143)`);
    expect(before.text).not.toMatch(/no report for part|did not match its manifest/);
    expect(before.summary).toMatchObject({ interrupted: 1, shards: N, failed: 0, exit_status: 1 });
    const kept = path.join(tmp.dir, `part-${k}.cancelled.jsonl`);
    copyFileSync(path.join(reports, `part-${k}.jsonl`), kept);

    // resubmit only that task, with the same arguments: N comes from REPORTS/parts
    const again = submit(String(k), tree.enc, out, reports);
    expect(byTask(await cluster!.wait(again))).toEqual({ [k]: 'COMPLETED 0:0' });
    expect(contents(out)).toEqual(one);
    expect(temps(out)).toEqual([]);
    const redone = reportOf(path.join(reports, `part-${k}.jsonl`));
    expect(redone.summary).toMatchObject({ shard: `${k}/${N}`, exit_status: 0, failed: 0, skipped: m });
    expect(redone.summary['interrupted']).toBeUndefined();
    expect(Date.parse(String(redone.summary['finished']))).toBeGreaterThan(Date.parse(String(cancelled.summary['finished'])));
    const after = await reportJob(again, reports);
    expect(after.exit).toBe('0:0');
    expect(after.summary).toMatchObject({ ok: tree.files - m, skipped: m, failed: 0, shards: N, interrupted: 0, exit_status: 0 });
    // both reports of the part given to aenv report: the finished one counts, the cancelled one is named superseded
    const both = await run(AENV, ['report', ...[1, 2, 3, 4].map((p) => path.join(reports, `part-${p}.jsonl`)), kept]);
    expect(both.code, both.stdout).toBe(0);
    expect(both.stdout).toMatch(/^report: 5 reports \(4 parts, 1 superseded\), 2000 files, /);
    expect(both.stdout).toContain(`warning: ${kept}: ${cancelled.rows.length + 1}: part ${k} of ${N} again in ${path.join(reports, `part-${k}.jsonl`)}, which ran the part to its end: this report is not counted`);
  }, 400_000);

  it('a damaged envelope fails its part: the task exits 1, the merged report names the file and the part and exits 1', async () => {
    const small = makeTree(path.join(tmp.dir, 'small'), { small: 60, large: 0 });
    const rel = 'd03/s0/f0003.dat.aspera-env';
    damage(path.join(small.enc, rel));
    const k = partOf(rel, N);
    const out = path.join(tmp.dir, 'out-damaged');
    const reports = path.join(tmp.dir, 'reports-damaged');
    const job = cluster!.sbatch([`--array=1-${N}`, ARRAY, small.enc, out, small.pw, reports], tmp.dir, env);
    const tasks = byTask(await cluster!.wait(job));
    for (let t = 1; t <= N; t++) expect(tasks[t], `task ${t}`).toBe(t === k ? 'FAILED 1:0' : 'COMPLETED 0:0');
    const rep = await reportJob(job, reports);
    expect(rep.exit).toBe('1:0');
    expect(rep.summary).toMatchObject({ ok: 59, failed: 1, shards: N, exit_status: 1 });
    const bad = path.join(small.enc, rel);
    expect(rep.text).toMatch(failedRowLine(bad, k, N));
    expect(rep.text).toMatch(/^ {2}1 failed$/m);
    expect(existsSync(path.join(out, rel.replace(/\.aspera-env$/, '')))).toBe(false);
    expect(temps(out)).toEqual([]);
  }, 300_000);
});
