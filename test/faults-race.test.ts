// Faults: two runs race on one tree into one output folder. Every output appears exactly once,
// complete and correct; without --force nothing is ever replaced, even when both runs reach the
// commit of the same file at once (the commit is link-then-unlink, which fails atomically with
// EEXIST, not a plain rename, which would silently replace); no temporary file is left. Each run
// reports every file once, each output is committed by exactly one run (the other says exists or
// skipped) and the summaries add up. And a commit race made on purpose: an output that appears
// while aenv is writing it is never replaced (exists; skipped with --skip-existing, saying so),
// and only --force replaces it, atomically, with the authentic bytes.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicOutput, ExistsError } from '../src/fsops/atomic.js';
import { OutputDir } from '../src/fsops/dirs.js';
import { BIN, CLI_ONLY, passwordFile, UNDER_MUTATION } from './helpers/cli.js';
import { listTree, ramTempDir, rowsOf, seal, sha256, temps, waitFor } from './helpers/faults.js';

const FILES = 48;
let work: { dir: string; cleanup: () => void };
let pw: string;
let src: string;
const sums = new Map<string, string>();

beforeAll(() => {
  work = ramTempDir('aenv-race-');
  pw = passwordFile(work.dir);
  src = path.join(work.dir, 'src');
  for (let i = 0; i < FILES; i++) {
    const name = `d${i % 3}/f${String(i).padStart(3, '0')}.bin`;
    mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
    const data = Buffer.alloc(256 * 1024 + i, i);
    writeFileSync(path.join(src, name), data);
    sums.set(name, sha256(data));
  }
  seal([src], pw, ['--remove-source']);
});
afterAll(() => work.cleanup());

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type Run = { code: number | null; stdout: string; stderr: string };

/** Two decrypt runs of the whole tree into `out` at the same time; statuses per output. */
async function race(out: string, extra: string[]) {
  const args = ['decrypt', src, '-o', out, '--password-file', pw, '--json', '--jobs', '2', ...extra];
  const [a, b] = await Promise.all([run(args), run(args)]);
  const byOutput = new Map<string, string[]>();
  for (const r of [a, b]) {
    const { rows } = rowsOf(r.stdout);
    // each run reports every file exactly once
    expect(rows.map((row) => path.relative(out, String(row['output']))).sort(), r.stderr).toEqual([...sums.keys()].sort());
    for (const row of rows) {
      const rel = path.relative(out, String(row['output']));
      byOutput.set(rel, [...(byOutput.get(rel) ?? []), String(row['status'])].sort());
    }
  }
  return { a, b, byOutput };
}

/** A run's rows counted by status, and its summary's counts, which must agree. */
function counts(r: Run): Record<string, number> {
  const { rows, summary } = rowsOf(r.stdout);
  const c: Record<string, number> = {};
  for (const row of rows) c[String(row['status'])] = (c[String(row['status'])] ?? 0) + 1;
  expect(summary['ok']).toBe(c['ok'] ?? 0);
  expect(summary['skipped']).toBe(c['skipped'] ?? 0);
  expect(summary['failed']).toBe(rows.length - (c['ok'] ?? 0) - (c['skipped'] ?? 0));
  return c;
}

function expectAllOutputsCorrect(out: string): void {
  expect(listTree(out)).toEqual([...sums.keys()].sort()); // exactly the outputs, no temporary file
  expect(temps(out)).toEqual([]);
  for (const [name, sum] of sums) expect(sha256(path.join(out, name))).toBe(sum);
}

describe('the commit itself never replaces (in-process, many times)', () => {
  it('two commits of different temporary files to one name: one wins, the other gets ExistsError', async () => {
    const dir = path.join(work.dir, 'commit');
    mkdirSync(dir);
    const d = OutputDir.resolve(dir, '');
    for (let k = 0; k < 100; k++) {
      const target = path.join(dir, `t${k}`);
      const ts = [AtomicOutput.create(d, `t${k}`), AtomicOutput.create(d, `t${k}`)];
      await Promise.all(ts.map((t, i) => t.write([Buffer.from(`writer ${i}`)])));
      const res = await Promise.allSettled(ts.map((t) => t.commit(false, false)));
      const won = res.findIndex((r) => r.status === 'fulfilled');
      expect(res.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = res[1 - won] as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ExistsError);
      ts[1 - won]!.discard();
      expect(readFileSync(target, 'utf8')).toBe(`writer ${won}`); // the winner's bytes, never replaced
      // A later commit to the same name also refuses.
      const late = AtomicOutput.create(d, `t${k}`);
      await expect(late.commit(false, false)).rejects.toBeInstanceOf(ExistsError);
      late.discard();
      expect(readFileSync(target, 'utf8')).toBe(`writer ${won}`);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});

describe.skipIf(UNDER_MUTATION)(`two CLI runs racing over one tree into one output folder${CLI_ONLY}`, () => {
  it('default: each output is ok in exactly one run and exists in the other; all complete and correct', async () => {
    const out = path.join(work.dir, 'out-default');
    const { a, b, byOutput } = await race(out, []);
    expect(byOutput.size).toBe(FILES);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['exists', 'ok']); // committed exactly once
    const [ca, cb] = [counts(a), counts(b)];
    // What one run committed, the other found existing (before its work or at its commit).
    expect((ca['ok'] ?? 0) + (cb['ok'] ?? 0)).toBe(FILES);
    expect(ca['exists'] ?? 0).toBe(cb['ok'] ?? 0);
    expect(cb['exists'] ?? 0).toBe(ca['ok'] ?? 0);
    // A run exits 1 exactly when it met an existing output (usually both do; a run that finished
    // before the other began exits 0, and the other then found every output: exit 1).
    expect(a.code).toBe(ca['exists'] ? 1 : 0);
    expect(b.code).toBe(cb['exists'] ? 1 : 0);
    expect([a.code, b.code]).toContain(1);
    expectAllOutputsCorrect(out);
  }, 60_000);

  it('--skip-existing: each output ok once and skipped once, both runs exit 0', async () => {
    const out = path.join(work.dir, 'out-skip');
    const { a, b, byOutput } = await race(out, ['--skip-existing']);
    expect(byOutput.size).toBe(FILES);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['ok', 'skipped']);
    const [ca, cb] = [counts(a), counts(b)];
    expect(ca['skipped'] ?? 0).toBe(cb['ok'] ?? 0);
    expect(cb['skipped'] ?? 0).toBe(ca['ok'] ?? 0);
    expect([a.code, b.code]).toEqual([0, 0]);
    expectAllOutputsCorrect(out);
  }, 60_000);

  it('--force: both may replace, but every output is whole and correct, no temporary file', async () => {
    const out = path.join(work.dir, 'out-force');
    const { a, b, byOutput } = await race(out, ['--force']);
    expect(byOutput.size).toBe(FILES);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['ok', 'ok']);
    expect([counts(a)['ok'], counts(b)['ok']]).toEqual([FILES, FILES]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expectAllOutputsCorrect(out);
  }, 60_000);
});

describe.skipIf(UNDER_MUTATION)(`a commit race made on purpose: the output appears while aenv is writing it${CLI_ONLY}`, () => {
  // 24 MiB on the pure-JS backend: long enough to create the output from here once aenv's
  // temporary file holds its first chunks, well before aenv commits.
  let big: Buffer;
  let env: string;
  beforeAll(() => {
    const dir = path.join(work.dir, 'big');
    mkdirSync(dir);
    big = randomBytes(24 * 1024 * 1024);
    writeFileSync(path.join(dir, 'big.bin'), big);
    seal([dir], pw, ['--remove-source']);
    env = path.join(dir, 'big.bin.aspera-env');
  });

  /** Runs decrypt of the big envelope into a new folder; once its temporary file holds more than
   * 64 KiB, writes `theirs` under the output's name (as another writer would); returns the run. */
  async function collide(name: string, extra: string[], theirs: Buffer) {
    const out = path.join(work.dir, name);
    const target = path.join(out, 'big.bin');
    const p = run(['decrypt', env, '-o', out, '--password-file', pw, '--json', '--backend', 'noble', ...extra]);
    const writing = await waitFor(() => {
      try {
        return temps(out).some((t) => statSync(path.join(out, t)).size > 65536);
      } catch {
        return false; // the folder or the temporary file not there (yet, or any more)
      }
    }, 30_000);
    expect(writing, 'aenv never got to writing its temporary file').toBe(true);
    writeFileSync(target, theirs, { flag: 'wx' }); // fails if aenv had committed already
    const r = await p;
    return { r, out, target, row: rowsOf(r.stdout).rows[0]! };
  }

  it('default: exists, the other writer\'s file untouched, no temporary file', async () => {
    const theirs = Buffer.from('written by someone else\n');
    const { r, out, target, row } = await collide('collide-default', [], theirs);
    expect(row['status'], String(row['detail'])).toBe('exists');
    expect(r.code).toBe(1);
    expect(readFileSync(target).equals(theirs)).toBe(true);
    expect(listTree(out)).toEqual(['big.bin']);
  }, 60_000);

  it('--skip-existing: skipped, saying the output appeared meanwhile; untouched', async () => {
    const theirs = Buffer.from('written by someone else\n');
    const { r, out, target, row } = await collide('collide-skip', ['--skip-existing'], theirs);
    expect(row['status'], String(row['detail'])).toBe('skipped');
    expect(String(row['detail'])).toMatch(/appeared while this file was being written/);
    expect(r.code).toBe(0);
    expect(readFileSync(target).equals(theirs)).toBe(true);
    expect(listTree(out)).toEqual(['big.bin']);
  }, 60_000);

  it('--force: ok, replaced by the authentic plaintext, no temporary file', async () => {
    const { r, out, target, row } = await collide('collide-force', ['--force'], Buffer.from('stale\n'));
    expect(row['status'], String(row['detail'])).toBe('ok');
    expect(r.code).toBe(0);
    expect(sha256(target)).toBe(sha256(big));
    expect(listTree(out)).toEqual(['big.bin']);
  }, 60_000);
});
