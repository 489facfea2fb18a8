// Faults: two runs race on one tree into one output folder. Every output appears exactly once,
// complete and correct; without --force nothing is ever replaced, even when both runs reach the
// commit of the same file at once (the commit is link-then-unlink, which fails atomically with
// EEXIST, not a plain rename, which would silently replace); no temporary file is left.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicOutput, ExistsError } from '../src/fsops/atomic.js';
import { OutputDir } from '../src/fsops/dirs.js';
import { BIN, passwordFile } from './helpers/cli.js';
import { listTree, ramTempDir, rowsOf, seal, sha256, temps } from './helpers/faults.js';

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

/** Two decrypt runs of the whole tree into `out` at the same time; rows per output. */
async function race(out: string, extra: string[]) {
  const args = ['decrypt', src, '-o', out, '--password-file', pw, '--json', '--jobs', '2', ...extra];
  const [a, b] = await Promise.all([run(args), run(args)]);
  const byOutput = new Map<string, string[]>();
  let commitRaces = 0;
  for (const r of [a, b]) {
    for (const row of rowsOf(r.stdout).rows) {
      const rel = path.relative(out, String(row['output']));
      byOutput.set(rel, [...(byOutput.get(rel) ?? []), String(row['status'])].sort());
      if (/while this file was being written|^output already exists$/.test(String(row['detail']))) commitRaces++;
    }
  }
  return { a, b, byOutput, commitRaces };
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
      const res = await Promise.allSettled(ts.map((t) => t.commit(false)));
      const won = res.findIndex((r) => r.status === 'fulfilled');
      expect(res.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = res[1 - won] as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ExistsError);
      ts[1 - won]!.discard();
      expect(readFileSync(target, 'utf8')).toBe(`writer ${won}`); // the winner's bytes, never replaced
      // A later commit to the same name also refuses.
      const late = AtomicOutput.create(d, `t${k}`);
      await expect(late.commit(false)).rejects.toBeInstanceOf(ExistsError);
      late.discard();
      expect(readFileSync(target, 'utf8')).toBe(`writer ${won}`);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});

describe('two CLI runs racing over one tree into one output folder', () => {
  it('default: each output is ok in exactly one run and exists in the other; all complete and correct', async () => {
    const out = path.join(work.dir, 'out-default');
    const { a, b, byOutput, commitRaces } = await race(out, []);
    expect(byOutput.size).toBe(FILES);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['exists', 'ok']);
    // A run exits 1 exactly when it met an existing output (usually both do; a run that finished
    // before the other began exits 0, and the other then found every output: exit 1).
    for (const r of [a, b]) {
      const metExisting = rowsOf(r.stdout).rows.some((row) => row['status'] === 'exists');
      expect(r.code).toBe(metExisting ? 1 : 0);
    }
    expect([a.code, b.code]).toContain(1);
    expectAllOutputsCorrect(out);
    console.info(`race: ${commitRaces} of ${FILES} files were decided at the commit (both runs wrote them)`);
  }, 60_000);

  it('--skip-existing: each output ok once and skipped once, both runs exit 0', async () => {
    const out = path.join(work.dir, 'out-skip');
    const { a, b, byOutput } = await race(out, ['--skip-existing']);
    expect(byOutput.size).toBe(FILES);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['ok', 'skipped']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expectAllOutputsCorrect(out);
  }, 60_000);

  it('--force: both may replace, but every output is whole and correct, no temporary file', async () => {
    const out = path.join(work.dir, 'out-force');
    const { a, b, byOutput } = await race(out, ['--force']);
    for (const [, statuses] of byOutput) expect(statuses).toEqual(['ok', 'ok']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expectAllOutputsCorrect(out);
  }, 60_000);
});
