// A reader that stops reading (`aenv decrypt DIR -o OUT | less`, a paused terminal pager, a
// stuck log shipper) holds the run back: aenv waits for standard output to drain instead of
// piling its rows up in memory (src/cli/view.ts drained(), awaited by src/engine/run.ts). Seen from
// the outside: while nobody reads the rows, the outputs stop growing well before the end;
// once the rows are read, every file is done.

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aenv, aenvAsync, CLI_ONLY, passwordFile, tempDir, UNDER_MUTATION } from './helpers/cli.js';

const N = 2000;
const tmp = tempDir('aenv-backpressure-');
let pw: string;
let sealed: string;

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  const plain = path.join(tmp.dir, 'plain');
  sealed = path.join(tmp.dir, 'sealed');
  mkdirSync(plain);
  for (let i = 0; i < N; i++) writeFileSync(path.join(plain, `file-with-a-long-name-${String(i).padStart(5, '0')}.txt`), `${i}\n`);
  const r = aenv(['encrypt', plain, '-o', sealed, '--kdf', 'pbkdf2', '--password-file', pw, '-q']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup(), 60_000);

const count = (dir: string): number => {
  try {
    return readdirSync(dir).filter((n) => !n.endsWith('.partial')).length;
  } catch {
    return 0;
  }
};

describe.skipIf(UNDER_MUTATION)(`rows into a pipe nobody reads${CLI_ONLY}`, () => {
  it('the run waits for the reader, then finishes every file once the rows are read', async () => {
    const out = path.join(tmp.dir, 'out');
    // N rows of about 150 bytes: several times what a pipe and the stream's buffer hold
    const p = aenvAsync(['decrypt', sealed, '-o', out, '--password-file', pw, '--jobs', '2']);
    p.stderr.resume();
    p.stdout.pause();
    const closed = new Promise<number | null>((res) => p.on('close', (c) => res(c)));
    // once outputs appear, wait until they stop growing for a second (the run is held back, or done)
    while (count(out) === 0 && p.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    let last = -1;
    let still = 0;
    while (still < 10 && p.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
      const n = count(out);
      still = n === last ? still + 1 : 0;
      last = n;
    }
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(N / 2);
    let rows = 0;
    p.stdout.on('data', (d: Buffer) => (rows += d.toString().split('\n').length - 1));
    p.stdout.resume();
    expect(await closed).toBe(0);
    expect(rows).toBe(N);
    expect(count(out)).toBe(N);
  }, 120_000);
});
