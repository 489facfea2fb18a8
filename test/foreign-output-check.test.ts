// What the tool left in aenv's private folder (src/foreign/output-check.ts, src/foreign/tool-output.ts),
// end to end with the stand-in, in the order the engine uses (docs/IBM-TOOLS.md "Integration
// plan"): create the private folder, run the tool into it through its descriptor
// (`-o /proc/self/fd/3/NAME`), settle what it left, then commit it with a hard link (no replace)
// or discard it. Every misbehaviour must leave nothing under the final name and nothing at all
// in the folder (also what the tool made under names of its own), with a row saying what happened.

import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unprotectArgs, VIA } from '../src/foreign/ibm-cli.js';
import { runTool } from '../src/foreign/run-tool.js';
import { ToolOutput } from '../src/foreign/tool-output.js';
import { OutputDir } from '../src/fsops/dirs.js';
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

/** The engine's sequence for one foreign envelope (decrypt), with the stand-in as the tool. */
async function openForeign(name: string, data = sealed, password = PW): Promise<{ row: Row; dir: string; final: string }> {
  const dir = mkdtempSync(path.join(work, 'case-'));
  const input = path.join(dir, `${name}.aspera-env`);
  writeFileSync(input, data);
  const out = ToolOutput.create(OutputDir.resolve(dir, ''), name);
  const final = out.finalPath;
  const row = (status: Row['status'], detail: string, bytes = 0): Row => ({ status, output: final, detail, via: VIA.asunprotect, bytes });
  try {
    const r = await runTool({ tool: s.asunprotect, args: unprotectArgs(out.toolPath, input), password, output: out.ownPath, fds: out.fds, inputBytes: data.length, timing: { stallMs: 5000, pollMs: 50 } });
    if (!r.ok) return { row: row('tool-error', r.detail), dir, final };
    const settled = await out.settle();
    if (!settled.ok) return { row: row('tool-error', `${r.detail}, but ${settled.reason}`), dir, final };
    await out.commit(false, false); // aenv's no-replace commit (ExistsError if the name exists)
    return { row: row('ok', 'opened by asunprotect', settled.size), dir, final };
  } finally {
    out.discard(); // nothing after a commit; else the private folder and all in it
  }
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

  it('an empty plaintext is a real output (the tool made the file), not "no output"', async () => {
    const { row, final } = await openForeign('empty.txt', sealedEmpty);
    expect(row).toMatchObject({ status: 'ok', bytes: 0 });
    expect(readFileSync(final)).toHaveLength(0);
  });

  it('written aside with mode 0644 and renamed over its name: accepted, mode 0600, content right', async () => {
    const { row, dir, final } = await openForeign('replace-inode.bin');
    expect(row).toMatchObject({ status: 'ok', detail: 'opened by asunprotect' });
    expect(readFileSync(final).equals(PLAIN)).toBe(true);
    expect(lstatSync(final).mode & 0o777).toBe(0o600);
    expect(leftovers(dir)).toEqual(['replace-inode.bin']);
  });

  const failures: Array<[string, RegExp]> = [
    ['no-output.bin', /^asunprotect exited with status 0, but the tool left no output file$/],
    ['delete-output.bin', /^asunprotect exited with status 0, but the tool left no output file$/],
    ['symlink-output.bin', /^asunprotect exited with status 0, but the tool put a symbolic link where its output should be$/],
    ['hardlink-output.bin', /^asunprotect exited with status 0, but the tool's output has 2 names \(hard links\)$/],
    ['partial.bin', /^asunprotect exited with status 1: asunprotect: partial\.bin\.aspera-env: read error: Input\/output error$/],
    ['crash.bin', /^asunprotect was killed by SIGSEGV$/],
  ];
  for (const [name, detail] of failures) {
    it(`${name.replace(/\.bin$/, '')}: tool-error, nothing under the final name, nothing left at all`, async () => {
      const { row, dir, final } = await openForeign(name);
      expect(row.status).toBe('tool-error');
      expect(row.detail).toMatch(detail);
      expect(existsSync(final)).toBe(false);
      // Also what the tool wrote under names of its own went: it was inside the private folder.
      expect(leftovers(dir)).toEqual([]);
    });
  }

  it('wrong password: tool-error with the exit status and message', async () => {
    const { row, dir } = await openForeign('secret.doc', sealed, 'Bad pw 123');
    expect(row).toMatchObject({ status: 'tool-error', detail: 'asunprotect exited with status 3: asunprotect: secret.doc.aspera-env: wrong password' });
    expect(leftovers(dir)).toEqual([]);
  });
});
