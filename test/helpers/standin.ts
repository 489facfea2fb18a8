// Installs the stand-in for IBM's asunprotect/asprotect (test/tools/aspera-standin.cjs) into a
// folder as two real executables whose first line is `#!` + the absolute path of the running
// Node.js, so they start even with the minimal environment aenv gives the tool (no PATH
// lookup of `node`). Misbehaviour is chosen with setRules(), which writes the control file the
// stand-in reads beside itself. Also seals/opens files with it directly, for test fixtures.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../tools/aspera-standin.cjs', import.meta.url));

export interface StandinRule {
  /** Glob (* and ?) on the input file's base name. */
  match: string;
  mode: 'ok' | 'partial' | 'hang' | 'slow' | 'stderr-flood' | 'crash' | 'no-output' | 'delete-output'
    | 'replace-inode' | 'symlink-output' | 'hardlink-output' | 'echo-password' | 'straggler';
  [param: string]: unknown;
}

export interface Standin {
  dir: string;
  asunprotect: string;
  asprotect: string;
  /** The rules, and a file each call appends its input's base name to. */
  setRules(rules: StandinRule[], log?: string): void;
  /** Runs one of the tools the documented way (password only in the environment). */
  run(tool: 'asunprotect' | 'asprotect', out: string, input: string, password: string): { code: number | null; stderr: string };
  cleanup(): void;
}

export function installStandin(dir = mkdtempSync(path.join(tmpdir(), 'aenv-standin-'))): Standin {
  const body = readFileSync(SOURCE, 'utf8').replace(/^#![^\n]*\n/, '');
  const script = `#!${process.execPath}\n${body}`;
  const paths = { asunprotect: path.join(dir, 'asunprotect'), asprotect: path.join(dir, 'asprotect') };
  for (const p of Object.values(paths)) {
    writeFileSync(p, script);
    chmodSync(p, 0o755);
  }
  const control = path.join(dir, 'standin-control.json');
  return {
    dir,
    ...paths,
    setRules: (rules, log) => writeFileSync(control, JSON.stringify({ rules, ...(log ? { log } : {}) })),
    run: (tool, out, input, password) => {
      const r = spawnSync(paths[tool], ['-o', out, input], { env: { ASPERA_SCP_FILEPASS: password }, encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
