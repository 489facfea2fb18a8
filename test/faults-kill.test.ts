// Faults: the run is killed (SIGKILL) or interrupted (SIGINT) in the middle of a file. A 64 MiB
// envelope decrypted with the pure-JS backend (about a second) is hit once its temporary file
// appears: no plaintext under the final name; SIGINT exits 130, keeps the files already
// finished and removes its temporary file; after SIGKILL a later run over the same tree
// removes the dead run's temporary file and completes.

import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTag } from '../src/fsops/atomic.js';
import { aenv, aenvAsync, PASSWORD, passwordFile } from './helpers/cli.js';
import { listTree, ramTempDir, rowsOf, sealCheap, sha256, temps, waitFor } from './helpers/faults.js';

const MiB = 1024 * 1024;
let work: { dir: string; cleanup: () => void };
let pw: string;
let src: string;
const sums = new Map<string, string>();

beforeAll(async () => {
  work = ramTempDir('aenv-kill-');
  pw = passwordFile(work.dir);
  src = path.join(work.dir, 'src');
  mkdirSync(src);
  const big = Buffer.alloc(64 * MiB);
  for (let i = 0; i < big.length; i += 8) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const small = Buffer.from('finished before the fault\n');
  // Sealed in process with the cheapest allowed KDF, so the slow pure-JS backend starts quickly.
  writeFileSync(path.join(src, 'b-big.bin.aspera-env'), await sealCheap(big, PASSWORD, 20));
  writeFileSync(path.join(src, 'a-small.bin.aspera-env'), await sealCheap(small, PASSWORD));
  sums.set('b-big.bin', sha256(big));
  sums.set('a-small.bin', sha256(small));
}, 60_000);
afterAll(() => work.cleanup());

/** Starts a slow decrypt of src into `out`, waits for its temporary file, then sends `sig`. */
async function hitMidFile(out: string, sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; tempsSeen: string[] }> {
  const child = aenvAsync(['decrypt', src, '-o', out, '--password-file', pw, '--json', '--jobs', '1', '--backend', 'noble']);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  // jobs 1, sorted order: once a-small.bin is in place, a temporary file is the big one's.
  let tempsSeen: string[] = [];
  await waitFor(() => existsSync(path.join(out, 'a-small.bin')) && (tempsSeen = temps(out)).length > 0, 30_000);
  child.kill(sig);
  const { code, signal } = await ended;
  return { code, signal, stdout, stderr, tempsSeen };
}

describe('killed or interrupted in the middle of a file', () => {
  it('SIGKILL: no plaintext under the final name; a later run cleans up and completes', async () => {
    const out = path.join(work.dir, 'out-kill');
    const r = await hitMidFile(out, 'SIGKILL');
    expect(r.tempsSeen).toHaveLength(1); // killed while writing the big file
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(path.join(out, 'b-big.bin'))).toBe(false);
    expect(temps(out)).toEqual(r.tempsSeen); // a killed run cannot clean up: the next one must

    const again = aenv(['decrypt', src, '-o', out, '--password-file', pw, '--json', '--skip-existing']);
    expect(again.code).toBe(0);
    const { rows } = rowsOf(again.stdout);
    expect(rows.find((x) => String(x['path']).endsWith('b-big.bin.aspera-env'))?.['status']).toBe('ok');
    expect(listTree(out)).toEqual(['a-small.bin', 'b-big.bin']); // the dead run's temporary file is gone
    for (const n of ['a-small.bin', 'b-big.bin']) expect(sha256(path.join(out, n))).toBe(sums.get(n));
  }, 60_000);

  it('SIGINT: exit 130, the finished file stays, the unfinished one leaves nothing at all', async () => {
    const out = path.join(work.dir, 'out-int');
    const r = await hitMidFile(out, 'SIGINT');
    expect(r.tempsSeen).toHaveLength(1);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(listTree(out)).toEqual(['a-small.bin']); // no b-big.bin, no temporary file
    expect(sha256(path.join(out, 'a-small.bin'))).toBe(sums.get('a-small.bin'));
    const { rows, summary } = rowsOf(r.stdout);
    expect(rows.map((x) => x['status'])).toEqual(['ok']);
    expect(summary['interrupted']).toBe(true);

    const again = aenv(['decrypt', src, '-o', out, '--password-file', pw, '--json', '--skip-existing']);
    expect(again.code).toBe(0);
    expect(listTree(out)).toEqual(['a-small.bin', 'b-big.bin']);
    expect(sha256(path.join(out, 'b-big.bin'))).toBe(sums.get('b-big.bin'));
  }, 60_000);

  it('SIGKILL while decrypting in place: the envelope stays, the next run in place completes', async () => {
    const tree = path.join(work.dir, 'inplace');
    mkdirSync(tree);
    const env = path.join(tree, 'b-big.bin.aspera-env');
    writeFileSync(env, (await import('node:fs')).readFileSync(path.join(src, 'b-big.bin.aspera-env')));
    const child = aenvAsync(['decrypt', tree, '--password-file', pw, '--backend', 'noble', '--remove-source']);
    const closed = new Promise((res) => child.on('close', res));
    expect(await waitFor(() => temps(tree).length > 0, 30_000)).toBe(true);
    child.kill('SIGKILL');
    await closed;
    expect(existsSync(path.join(tree, 'b-big.bin'))).toBe(false);
    expect(existsSync(env)).toBe(true); // --remove-source never removes before the output is in place
    const again = aenv(['decrypt', tree, '--password-file', pw, '--remove-source', '--json']);
    expect(again.code).toBe(0);
    expect(listTree(tree)).toEqual(['b-big.bin']);
    expect(sha256(path.join(tree, 'b-big.bin'))).toBe(sums.get('b-big.bin'));
  }, 60_000);

  it('killed between naming the output and removing the temporary file: a later --skip-existing run removes it', () => {
    // The window is a few microseconds, so the state is made directly: the output in place and
    // its temporary file (a hard link to it) left by a writer that is no longer alive.
    const out = path.join(work.dir, 'out-window');
    expect(aenv(['decrypt', src, '-o', out, '--password-file', pw]).code).toBe(0);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const tmp = path.join(out, `.aenv-${dead}-${hostTag()}89abcdef.partial`); // this machine's dead run
    linkSync(path.join(out, 'a-small.bin'), tmp);
    const again = aenv(['decrypt', src, '-o', out, '--password-file', pw, '--json', '--skip-existing']);
    expect(again.code).toBe(0);
    expect(rowsOf(again.stdout).rows.map((x) => x['status'])).toEqual(['skipped', 'skipped']);
    expect(listTree(out)).toEqual(['a-small.bin', 'b-big.bin']);
  }, 60_000);
});
