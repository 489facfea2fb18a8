// Faults: --remove-source. The envelope is removed only after its output and the output's folder
// are flushed, so a crash (or power loss) at any moment leaves the envelope, the output, or both,
// never neither. Shown two ways: the system-call order under strace (fsync of the output, then
// its link or rename to the final name, then fsync of the folder, then unlink of the envelope),
// and a run killed (SIGKILL) again and again, each time checking that every file survives.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, aenvAsync, BIN, passwordFile } from './helpers/cli.js';
import { listTree, ramTempDir, rowsOf, seal, sha256, temps, waitFor } from './helpers/faults.js';

const STRACE = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));
let work: { dir: string; cleanup: () => void };
let pw: string;
let sealed: string;
const sums = new Map<string, string>();

beforeAll(() => {
  work = ramTempDir('aenv-rmsrc-');
  pw = passwordFile(work.dir);
  sealed = path.join(work.dir, 'sealed');
  for (let i = 0; i < 16; i++) {
    const name = `g${i % 2}/f${String(i).padStart(2, '0')}.bin`;
    mkdirSync(path.dirname(path.join(sealed, name)), { recursive: true });
    const data = Buffer.alloc(3 * 1024 * 1024 + i, 0x41 + i);
    writeFileSync(path.join(sealed, name), data);
    sums.set(name, sha256(data));
  }
  seal([sealed], pw, ['--remove-source']);
});
afterAll(() => work.cleanup());

/** A fresh copy of the sealed tree. */
function copyTree(name: string): string {
  const dst = path.join(work.dir, name);
  spawnSync('cp', ['-r', sealed, dst]);
  return dst;
}

interface Call { i: number; name: string; args: string; }

/** strace's log as calls in the order they completed (`-f` splits a call across lines as
 * `<unfinished ...>` then `<... name resumed>`; the two halves are joined). */
function traceCalls(log: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<string, string>();
  for (const line of log.split('\n')) {
    const u = /^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$/.exec(line);
    if (u) {
      pending.set(`${u[1]}:${u[2]}`, u[3]!);
      continue;
    }
    const r = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (r) {
      calls.push({ i: calls.length, name: r[2]!, args: (pending.get(`${r[1]}:${r[2]}`) ?? '') + r[3]! });
      continue;
    }
    const m = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (m) calls.push({ i: calls.length, name: m[1]!, args: m[2]! });
  }
  return calls;
}

function traced(args: string[]): { calls: Call[]; code: number | null } {
  const log = path.join(work.dir, `strace-${Date.now()}.log`);
  const r = spawnSync(STRACE!, ['-f', '-y', '-qq', '-s', '4096', '-o', log,
    '-e', 'trace=fsync,fdatasync,link,linkat,rename,renameat,renameat2,unlink,unlinkat',
    process.execPath, BIN, ...args]);
  return { calls: traceCalls(readFileSync(log, 'utf8')), code: r.status };
}

/** Checks, for every output, fsync(temp) < link/rename(temp, output) < fsync(folder) < unlink(envelope). */
function expectDurableOrder(calls: Call[], src: string, out: string): void {
  let checked = 0;
  for (const name of sums.keys()) {
    const env = path.join(src, `${name}.aspera-env`);
    const output = path.join(out, name);
    const q = (s: string): string => JSON.stringify(s);
    const commit = calls.find((c) => /^(link|rename)/.test(c.name) && c.args.includes(`, ${q(output)}`));
    expect(commit, `commit of ${output}`).toBeDefined();
    const tmp = JSON.parse(/^"[^"]*"/.exec(commit!.args.replace(/^AT_FDCWD(<[^>]*>)?, /, ''))![0]) as string;
    const fsyncTmp = calls.find((c) => c.name === 'fsync' && c.args.includes(`<${path.resolve(tmp)}>`));
    const fsyncDir = calls.find((c) => c.i > commit!.i && c.name === 'fsync' && c.args.includes(`<${path.dirname(output)}>`));
    const unlinkEnv = calls.find((c) => /^unlink/.test(c.name) && c.args.includes(q(env)));
    expect(fsyncTmp && fsyncTmp.i < commit!.i, `fsync(temp) before the commit of ${output}`).toBe(true);
    expect(fsyncDir, `fsync(folder) after the commit of ${output}`).toBeDefined();
    expect(unlinkEnv && fsyncDir!.i < unlinkEnv.i, `unlink(${env}) only after fsync(folder)`).toBe(true);
    checked++;
  }
  expect(checked).toBe(sums.size);
}

describe.skipIf(!STRACE)('the order of system calls under strace (needs strace)', () => {
  it('in place: output flushed, named, folder flushed, and only then the envelope removed', () => {
    const tree = copyTree('trace-inplace');
    const { calls, code } = traced(['decrypt', tree, '--password-file', pw, '--remove-source', '--jobs', '2']);
    expect(code).toBe(0);
    expectDurableOrder(calls, tree, tree);
    expect(listTree(tree)).toEqual([...sums.keys()].sort());
  }, 60_000);

  it('to -o with --force (rename commit): the same order', () => {
    const tree = copyTree('trace-force');
    const out = path.join(work.dir, 'trace-force-out');
    const { calls, code } = traced(['decrypt', tree, '-o', out, '--password-file', pw, '--remove-source', '--force']);
    expect(code).toBe(0);
    expectDurableOrder(calls, tree, out);
    expect(listTree(tree)).toEqual([]);
  }, 60_000);
});

describe('killed again and again during --remove-source', () => {
  it('after every SIGKILL each file has its envelope or its complete output (or both), never neither', async () => {
    const tree = copyTree('kill-loop');
    const outputs = (): number => listTree(tree).filter((n) => n.endsWith('.bin')).length;
    let midRun = 0;
    for (const target of [2, 5, 9, 13]) {
      const child = aenvAsync(['decrypt', tree, '--password-file', pw, '--remove-source', '--skip-existing', '--jobs', '2']);
      const closed = new Promise((res) => child.on('close', res));
      await waitFor(() => outputs() >= target, 30_000);
      child.kill('SIGKILL');
      await closed;
      for (const [name, sum] of sums) {
        const out = path.join(tree, name);
        const env = `${out}.aspera-env`;
        expect(existsSync(out) || existsSync(env), `${name}: envelope or output`).toBe(true);
        if (existsSync(out)) expect(sha256(out), `${name} complete`).toBe(sum);
      }
      if (outputs() < sums.size) midRun++;
    }
    expect(midRun).toBeGreaterThan(0); // the kills did land in the middle of the run
    // A last run finishes; outputs that were in place with their envelope are skipped, not replaced.
    const r = aenv(['decrypt', tree, '--password-file', pw, '--remove-source', '--skip-existing', '--json']);
    expect(r.code).toBe(0);
    expect(temps(tree)).toEqual([]);
    for (const [name, sum] of sums) expect(sha256(path.join(tree, name))).toBe(sum);
    const left = rowsOf(r.stdout).rows.filter((x) => x['status'] === 'skipped').length;
    expect(listTree(tree).filter((n) => n.endsWith('.aspera-env'))).toHaveLength(left);
  }, 120_000);
});
