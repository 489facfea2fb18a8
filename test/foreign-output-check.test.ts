// What the tool left at aenv's temporary path (src/foreign/output-check.ts), end to end with the
// stand-in, in the order the engine will use (docs/IBM-TOOLS.md "Integration plan"): create
// the temporary file (0600, exclusive, aenv's naming), record its identity, run the tool into
// it, settle it, then commit it with a hard link (no replace) or remove it. Every misbehaviour
// must leave nothing under the final name and no temporary file, with a row saying what happened.

import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unprotectArgs, VIA } from '../src/foreign/ibm-cli.js';
import { removeToolOutput, settleToolOutput, snapshot } from '../src/foreign/output-check.js';
import { runTool } from '../src/foreign/run-tool.js';
import { installStandin, type Standin } from './helpers/standin.js';

const PW = 'output check pw';
const PLAIN = randomBytes(64 * 1024);
let s: Standin;
let work: string;
let sealed: Buffer;
let sealedEmpty: Buffer;

beforeAll(() => {
  s = installStandin();
  work = mkdtempSync(path.join(tmpdir(), 'aenv-outcheck-'));
  const seal = (name: string, data: Buffer) => {
    writeFileSync(path.join(s.dir, name), data);
    if (s.run('asprotect', path.join(s.dir, `${name}.env`), path.join(s.dir, name), PW).code !== 0) throw new Error('seal failed');
    return readFileSync(path.join(s.dir, `${name}.env`));
  };
  sealed = seal('plain', PLAIN);
  sealedEmpty = seal('empty', Buffer.alloc(0));
  s.setRules([
    { match: 'no-output.*', mode: 'no-output' },
    { match: 'delete-output.*', mode: 'delete-output' },
    { match: 'replace-inode.*', mode: 'replace-inode', fileMode: 0o644 },
    { match: 'symlink-output.*', mode: 'symlink-output' },
    { match: 'hardlink-output.*', mode: 'hardlink-output' },
    { match: 'partial.*', mode: 'partial', bytes: 1000 },
    { match: 'crash.*', mode: 'crash', bytes: 500 },
  ]);
});
afterAll(() => {
  s.cleanup();
  rmSync(work, { recursive: true, force: true });
});

interface Row { status: 'ok' | 'tool-error'; output: string; detail: string; via: string; bytes: number }

/** The planned engine sequence for one foreign envelope (decrypt), with the stand-in as the tool. */
async function openForeign(name: string, data = sealed, password = PW): Promise<{ row: Row; dir: string; final: string }> {
  const dir = mkdtempSync(path.join(work, 'case-'));
  const input = path.join(dir, `${name}.aspera-env`);
  writeFileSync(input, data);
  const final = path.join(dir, name);
  const temp = path.join(dir, `.aenv-${process.pid}-${randomBytes(8).toString('hex')}.partial`);
  await (await open(temp, 'wx', 0o600)).close();
  const created = await snapshot(temp);
  const r = await runTool({ tool: s.asunprotect, args: unprotectArgs(temp, input), password, output: temp, inputBytes: data.length, timing: { stallMs: 5000, pollMs: 50 } });
  const row = (status: Row['status'], detail: string, bytes = 0): Row => ({ status, output: final, detail, via: VIA.asunprotect, bytes });
  if (!r.ok) {
    await removeToolOutput(temp);
    return { row: row('tool-error', r.detail), dir, final };
  }
  const settled = await settleToolOutput(temp, created);
  if (!settled.ok) {
    await removeToolOutput(temp);
    return { row: row('tool-error', `${r.detail}, but ${settled.reason}`), dir, final };
  }
  await link(temp, final); // aenv's no-replace commit (EEXIST if the name exists)
  await unlink(temp);
  return { row: row('ok', settled.replaced ? 'opened by asunprotect (it replaced its output file; adopted after checks)' : 'opened by asunprotect', settled.size), dir, final };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => !f.endsWith('.aspera-env')).sort();
}

describe('settling and committing the tool\'s output', () => {
  it('ok: committed under the final name, mode 0600, no temporary file left', async () => {
    const { row, dir, final } = await openForeign('report.csv');
    expect(row).toMatchObject({ status: 'ok', via: 'asunprotect', bytes: PLAIN.length, detail: 'opened by asunprotect' });
    expect(readFileSync(final).equals(PLAIN)).toBe(true);
    expect(lstatSync(final).mode & 0o777).toBe(0o600);
    expect(leftovers(dir)).toEqual(['report.csv']);
  });

  it('an empty plaintext is a real output (the tool opened the file), not "no output"', async () => {
    const { row, final } = await openForeign('empty.txt', sealedEmpty);
    expect(row).toMatchObject({ status: 'ok', bytes: 0 });
    expect(readFileSync(final)).toHaveLength(0);
  });

  it('replaced by a new file of mode 0644: adopted, mode 0600, content right', async () => {
    const { row, dir, final } = await openForeign('replace-inode.bin');
    expect(row).toMatchObject({ status: 'ok', detail: expect.stringContaining('adopted') });
    expect(readFileSync(final).equals(PLAIN)).toBe(true);
    expect(lstatSync(final).mode & 0o777).toBe(0o600);
    expect(leftovers(dir)).toEqual(['replace-inode.bin']);
  });

  const failures: Array<[string, RegExp]> = [
    ['no-output.bin', /^asunprotect exited with status 0, but the tool exited without writing its output$/],
    ['delete-output.bin', /^asunprotect exited with status 0, but the tool left no output file$/],
    ['symlink-output.bin', /^asunprotect exited with status 0, but the tool put a symbolic link where its output should be$/],
    ['hardlink-output.bin', /^asunprotect exited with status 0, but the tool's output has 2 names \(hard links\)$/],
    ['partial.bin', /^asunprotect exited with status 1: asunprotect: partial\.bin\.aspera-env: read error: Input\/output error$/],
    ['crash.bin', /^asunprotect was killed by SIGSEGV$/],
  ];
  for (const [name, detail] of failures) {
    it(`${name.replace(/\.bin$/, '')}: tool-error, nothing under the final name, no temporary file`, async () => {
      const { row, dir, final } = await openForeign(name);
      expect(row.status).toBe('tool-error');
      expect(row.detail).toMatch(detail);
      expect(existsSync(final)).toBe(false);
      // Only what the tool itself wrote under names of its own may remain (aenv cannot know them).
      expect(leftovers(dir).filter((f) => !f.includes('.standin-'))).toEqual([]);
    });
  }

  it('wrong password: tool-error with the exit status and message', async () => {
    const { row, dir } = await openForeign('secret.doc', sealed, 'Bad pw 123');
    expect(row).toMatchObject({ status: 'tool-error', detail: 'asunprotect exited with status 3: asunprotect: secret.doc.aspera-env: wrong password' });
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('settleToolOutput on its own', () => {
  it('refuses a replacement that belongs to another user (root only: needs chown)', async () => {
    if (process.getuid?.() !== 0) return;
    const dir = mkdtempSync(path.join(work, 'owner-'));
    const temp = path.join(dir, '.aenv-1-0000000000000000.partial');
    await (await open(temp, 'wx', 0o600)).close();
    const created = await snapshot(temp);
    const other = path.join(dir, 'other');
    writeFileSync(other, 'planted');
    chownSync(other, 65534, 65534);
    renameSync(other, temp);
    expect(await settleToolOutput(temp, created)).toEqual({ ok: false, reason: 'the tool\'s output belongs to another user' });
    await removeToolOutput(temp);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder in its place; removeToolOutput removes an empty one', async () => {
    const dir = mkdtempSync(path.join(work, 'dir-'));
    const temp = path.join(dir, '.aenv-1-0000000000000001.partial');
    await (await open(temp, 'wx', 0o600)).close();
    const created = await snapshot(temp);
    await unlink(temp);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(temp);
    expect(await settleToolOutput(temp, created)).toEqual({ ok: false, reason: 'the tool\'s output is not a regular file' });
    await removeToolOutput(temp);
    expect(readdirSync(dir)).toEqual([]);
  });
});
