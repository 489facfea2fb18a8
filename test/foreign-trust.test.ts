// Who else could change IBM's tool, the folders on its path, its interpreter, or a folder the tool
// would be given by name (src/foreign/trust.ts, issue 21 item 4), on real files and folders; the
// tool's "not my format" answer (src/foreign/ibm-cli.ts); the parent-death wrapper
// (src/foreign/parent-death.ts). The attacks themselves, run as a second user, are in
// test/hostile-folders.test.ts.

import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saysNotItsFormat } from '../src/foreign/ibm-cli.js';
import { describeLocation } from '../src/foreign/locate.js';
import { deathWrapper } from '../src/foreign/parent-death.js';
import { chainProblem, folderChainProblem, interpreterOf, programProblem } from '../src/foreign/trust.js';
import { tempDir } from './helpers/cli.js';

const IS_ROOT = process.getuid?.() === 0;
const UID = process.getuid?.() ?? 0;
const tmp = tempDir('aenv-trust-');
afterAll(() => tmp.cleanup());
let n = 0;

/** A fresh folder (mode `mode`) holding an executable `tool` (mode `fileMode`). */
function place(mode = 0o755, fileMode = 0o755, body = '#!/bin/true\n'): { dir: string; tool: string } {
  const dir = path.join(tmp.dir, `d${n++}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  const tool = path.join(dir, 'asunprotect');
  writeFileSync(tool, body);
  chmodSync(tool, fileMode);
  return { dir, tool };
}

describe.skipIf(process.platform === 'win32')('programProblem: nobody but root and aenv\'s user may be able to change the tool', () => {
  it('a tool in folders only root and aenv\'s user can change: no problem; /tmp\'s sticky bit is fine', () => {
    expect(programProblem(place().tool)).toBeNull();
    expect(programProblem('/usr/bin/env')).toBeNull();
    const sticky = place(0o1777);
    expect(programProblem(sticky.tool)).toBeNull();
  });

  it('a folder writable by all users or by its group, without the sticky bit; a file writable by them', () => {
    const world = place(0o777);
    expect(programProblem(world.tool)).toBe(`${world.dir} is writable by all users (mode 0777, no sticky bit)`);
    const group = place(0o775);
    expect(programProblem(group.tool)).toBe(`${group.dir} is writable by its group (mode 0775, no sticky bit)`);
    const file = place(0o755, 0o757);
    expect(programProblem(file.tool)).toBe(`${file.tool} is writable by all users (mode 0757)`);
    const gfile = place(0o755, 0o775);
    expect(programProblem(gfile.tool)).toBe(`${gfile.tool} is writable by its group (mode 0775)`);
  });

  it.skipIf(!IS_ROOT)('a tool or folder of another user (root only: needs chown)', () => {
    const a = place();
    chownSync(a.tool, 65534, 65534);
    expect(programProblem(a.tool)).toBe(`${a.tool} belongs to another user (uid 65534)`);
    const b = place();
    chownSync(b.dir, 65534, 65534);
    expect(programProblem(b.tool)).toBe(`${b.dir} belongs to another user (uid 65534)`);
  });

  it('follows links component by component: a safe link into an unsafe folder is refused; loops and missing files say so', () => {
    const unsafe = place(0o777);
    const safe = place();
    const link = path.join(safe.dir, 'via-link');
    symlinkSync(unsafe.tool, link);
    expect(programProblem(link)).toBe(`${unsafe.dir} is writable by all users (mode 0777, no sticky bit)`);
    const dirLink = path.join(safe.dir, 'dir-link');
    symlinkSync(unsafe.dir, dirLink);
    expect(programProblem(path.join(dirLink, 'asunprotect'))).toBe(`${unsafe.dir} is writable by all users (mode 0777, no sticky bit)`);
    const fine = path.join(safe.dir, 'fine-link');
    symlinkSync(path.join('..', path.basename(safe.dir), 'asunprotect'), fine);
    expect(chainProblem(fine, false, UID)).toEqual({ problem: null, real: safe.tool });
    const loop = path.join(safe.dir, 'loop');
    symlinkSync(loop, loop);
    expect(programProblem(loop)).toBe(`${loop}: too many symbolic links`);
    expect(programProblem(path.join(safe.dir, 'missing'))).toBe(`${path.join(safe.dir, 'missing')} cannot be checked (ENOENT)`);
    expect(programProblem(safe.dir)).toBe(`${safe.dir} is not a regular file`);
  });

  it('a #! script whose interpreter other users can change is refused too', () => {
    const interp = place(0o777);
    const script = place(0o755, 0o755, `#!${interp.tool} -x\nbody\n`);
    expect(interpreterOf(script.tool)).toBe(interp.tool);
    expect(programProblem(script.tool)).toBe(`its interpreter: ${interp.dir} is writable by all users (mode 0777, no sticky bit)`);
    expect(interpreterOf(place(0o755, 0o755, '\x7fELF...').tool)).toBeNull();
    expect(interpreterOf(place(0o755, 0o755, '#!relative/interp\n').tool)).toBeNull();
  });

  it('folderChainProblem: a folder and every folder above it', () => {
    const shared = place(0o777);
    const below = path.join(shared.dir, 'below');
    mkdirSync(below);
    chmodSync(below, 0o700);
    expect(folderChainProblem(below)).toBe(`${shared.dir} is writable by all users (mode 0777, no sticky bit)`);
    expect(folderChainProblem(place().dir)).toBeNull();
  });

  it('is not checked on Windows (ACLs)', () => {
    const world = place(0o777);
    expect(programProblem(world.tool, 'win32')).toBeNull();
    expect(folderChainProblem(world.dir, 'win32')).toBeNull();
  });

  it('--version and inspect say a found tool is refused, and why', () => {
    expect(describeLocation({ found: true, tool: 'asunprotect', path: '/x/asunprotect', source: 'path', from: 'PATH', looked: [], untrusted: '/x is writable by all users (mode 0777, no sticky bit)' }))
      .toBe('asunprotect: /x/asunprotect (found on PATH), refused: /x is writable by all users (mode 0777, no sticky bit)');
  });
});

describe('the tool\'s "not my format" answer (an assumption: IBM documents no messages)', () => {
  it('a failure whose last line says the file is not an envelope, and nothing of a password', () => {
    for (const line of ['asunprotect: x.aspera-env: not an Aspera envelope', 'Error: not an encrypted file', 'x: file is not encrypted', 'invalid header', 'bad magic', 'unknown file format', 'Not an IBM Aspera envelope']) {
      expect(saysNotItsFormat(4, line), line).toBe(true);
    }
    for (const [code, line] of [[3, 'wrong password'], [1, 'wrong password or not an encrypted file'], [1, 'invalid key or bad header'], [0, 'not an Aspera envelope'], [null, 'not an Aspera envelope'], [1, 'read error: Input/output error'], [4, 'envelope is damaged']] as const) {
      expect(saysNotItsFormat(code, line), line).toBe(false);
    }
  });
});

describe('the parent-death wrapper', () => {
  it.skipIf(process.platform !== 'linux')('on Linux: util-linux setpriv --pdeathsig KILL at a fixed system path (CI has util-linux)', () => {
    const w = deathWrapper('linux');
    expect(w).not.toBeNull();
    expect(['/usr/bin/setpriv', '/bin/setpriv']).toContain(w![0]);
    expect(w!.slice(1)).toEqual(['--pdeathsig', 'KILL', '--']);
  });

  it('elsewhere: none', () => {
    expect(deathWrapper('darwin')).toBeNull();
    expect(deathWrapper('win32')).toBeNull();
  });
});
