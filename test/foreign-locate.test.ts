// Finding IBM's asunprotect/asprotect (src/foreign/locate.ts): the order flag > AENV_* variable >
// PATH > IBM's install folders, on Linux, macOS and Windows through an injected probe, and the
// real-file-system probe on real files (executable, not executable, folder, link, relative PATH
// entries that must be skipped).

import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDirs } from '../src/foreign/install-dirs.js';
import { describeLocation, locateTool, pathEntries, realProbe, type ProbeKind } from '../src/foreign/locate.js';

/** A probe over a fixed table: every path not in it is missing, and every call is recorded. */
function tableProbe(table: Record<string, ProbeKind>) {
  const asked: string[] = [];
  return { asked, probe: (p: string) => (asked.push(p), table[p] ?? 'missing') };
}

describe('order of precedence (Linux)', () => {
  const base = { tool: 'asunprotect' as const, platform: 'linux' as const, home: '/home/ana', cwd: '/work' };
  const all: Record<string, ProbeKind> = {
    '/flag/asunprotect': 'executable',
    '/envvar/asunprotect': 'executable',
    '/usr/local/bin/asunprotect': 'executable',
    '/opt/aspera/bin/asunprotect': 'executable',
  };

  it('the flag wins over everything', () => {
    const { probe } = tableProbe(all);
    const r = locateTool({ ...base, flag: '/flag/asunprotect', env: { AENV_ASUNPROTECT: '/envvar/asunprotect', PATH: '/usr/local/bin' }, probe });
    expect(r).toMatchObject({ found: true, path: '/flag/asunprotect', source: 'flag', from: '--asunprotect' });
  });

  it('then AENV_ASUNPROTECT, then PATH, then the install folder', () => {
    const { probe } = tableProbe(all);
    expect(locateTool({ ...base, env: { AENV_ASUNPROTECT: '/envvar/asunprotect', PATH: '/usr/local/bin' }, probe }))
      .toMatchObject({ found: true, path: '/envvar/asunprotect', source: 'env', from: 'AENV_ASUNPROTECT' });
    expect(locateTool({ ...base, env: { PATH: '/usr/bin:/usr/local/bin' }, probe }))
      .toMatchObject({ found: true, path: '/usr/local/bin/asunprotect', source: 'path', looked: ['/usr/bin/asunprotect', '/usr/local/bin/asunprotect'] });
    expect(locateTool({ ...base, env: { PATH: '/usr/bin' }, probe }))
      .toMatchObject({ found: true, path: '/opt/aspera/bin/asunprotect', source: 'install', from: expect.stringContaining('HST Server') });
  });

  it('asprotect has its own flag value and variable', () => {
    const { probe } = tableProbe({ '/x/asprotect': 'executable', '/opt/aspera/bin/asprotect': 'executable' });
    expect(locateTool({ ...base, tool: 'asprotect', env: { AENV_ASPROTECT: '/x/asprotect', AENV_ASUNPROTECT: '/nope' }, probe }))
      .toMatchObject({ found: true, path: '/x/asprotect', from: 'AENV_ASPROTECT' });
  });

  it('a flag or variable naming something unusable is an error, not a fall-through', () => {
    const { probe, asked } = tableProbe({ ...all, '/work/dir': 'directory', '/work/plain': 'not-executable' });
    const r1 = locateTool({ ...base, flag: 'dir', env: { PATH: '/usr/local/bin' }, probe });
    expect(r1).toMatchObject({ found: false, error: '--asunprotect /work/dir: is a folder' });
    expect(asked).toEqual(['/work/dir']); // nothing else was looked at
    expect(locateTool({ ...base, env: { AENV_ASUNPROTECT: 'plain' }, probe }))
      .toMatchObject({ found: false, error: 'AENV_ASUNPROTECT /work/plain: not executable' });
    expect(locateTool({ ...base, env: { AENV_ASUNPROTECT: '/gone/asunprotect' }, probe }))
      .toMatchObject({ found: false, error: 'AENV_ASUNPROTECT /gone/asunprotect: no such file' });
  });

  it('an empty flag or variable counts as not given', () => {
    const { probe } = tableProbe(all);
    expect(locateTool({ ...base, flag: '', env: { AENV_ASUNPROTECT: '', PATH: '' }, probe }))
      .toMatchObject({ found: true, source: 'install' });
  });

  it('not found: every place looked in, in order, for the hint', () => {
    const { probe, asked } = tableProbe({ '/usr/bin/asunprotect': 'not-executable', '/opt/aspera/bin/asunprotect': 'directory' });
    const r = locateTool({ ...base, env: { PATH: '/usr/bin:relative/bin::/bin' }, probe });
    expect(r.found).toBe(false);
    expect(r.looked).toEqual([
      '/usr/bin/asunprotect', '/bin/asunprotect',
      '/opt/aspera/bin/asunprotect', '/home/ana/.aspera/connect/bin/asunprotect', '/home/ana/.aspera/cli/bin/asunprotect',
    ]);
    expect(asked).toEqual(r.looked);
    expect(describeLocation(r)).toBe('asunprotect: not found (looked in PATH and 5 places; --asunprotect PATH or AENV_ASUNPROTECT=PATH to name it)');
  });
});

describe('the home folder', () => {
  it('comes from HOME, never from the password database (no nscd socket); unset, the per-user folders are left out, never made relative', () => {
    const { probe } = tableProbe({});
    const withHome = locateTool({ tool: 'asunprotect', platform: 'linux', cwd: '/work', env: { HOME: '/home/bo' }, probe });
    expect(withHome.looked).toEqual(['/opt/aspera/bin/asunprotect', '/home/bo/.aspera/connect/bin/asunprotect', '/home/bo/.aspera/cli/bin/asunprotect']);
    const noHome = locateTool({ tool: 'asunprotect', platform: 'linux', cwd: '/work', env: {}, probe });
    expect(noHome.looked).toEqual(['/opt/aspera/bin/asunprotect']);
  });
});

describe('IBM install folders per platform', () => {
  it('macOS: /Library/Aspera/bin first, then the desktop app, Connect and the CLI', () => {
    const { probe, asked } = tableProbe({ '/Applications/Aspera Connect.app/Contents/Resources/asunprotect': 'executable' });
    const r = locateTool({ tool: 'asunprotect', platform: 'darwin', home: '/Users/ana', env: { PATH: '/usr/bin' }, probe });
    expect(asked).toEqual([
      '/usr/bin/asunprotect',
      '/Library/Aspera/bin/asunprotect',
      '/Applications/IBM Aspera.app/Contents/Resources/sdk/aspera/bin/asunprotect',
      '/Users/ana/Applications/Aspera Connect.app/Contents/Resources/asunprotect',
      '/Applications/Aspera Connect.app/Contents/Resources/asunprotect',
    ]);
    expect(r).toMatchObject({ found: true, source: 'install', from: 'IBM install folder: Aspera Connect (macOS)' });
  });

  it('Windows: asunprotect.exe, case-insensitive variables, ";" PATH with quotes, Program Files folders', () => {
    const { probe, asked } = tableProbe({ 'D:\\Apps\\Aspera\\Enterprise Server\\bin\\asunprotect.exe': 'executable' });
    const env = { Path: 'C:\\Windows\\system32;"C:\\Tools dir";.\\rel', PROGRAMFILES: 'D:\\Apps', LocalAppData: 'C:\\Users\\ana\\AppData\\Local' };
    const r = locateTool({ tool: 'asunprotect', platform: 'win32', home: 'C:\\Users\\ana', env, probe });
    expect(asked).toEqual([
      'C:\\Windows\\system32\\asunprotect.exe',
      'C:\\Tools dir\\asunprotect.exe',
      'D:\\Apps\\Aspera\\Enterprise Server\\bin\\asunprotect.exe',
    ]);
    expect(r).toMatchObject({ found: true, path: 'D:\\Apps\\Aspera\\Enterprise Server\\bin\\asunprotect.exe' });
    expect(installDirs('win32', {}, 'C:\\Users\\ana').map((d) => d.dir)).toEqual([
      'C:\\Program Files\\Aspera\\Enterprise Server\\bin',
      'C:\\Program Files (x86)\\Aspera\\Enterprise Server\\bin',
      'C:\\Users\\ana\\AppData\\Local\\Programs\\Aspera\\Aspera Connect\\bin',
      'C:\\Program Files\\Aspera\\cli\\bin',
    ]);
  });

  it('Windows: a flag without extension also tries .exe; AENV variable found case-insensitively', () => {
    const { probe } = tableProbe({ 'C:\\ibm\\asunprotect.exe': 'executable' });
    expect(locateTool({ tool: 'asunprotect', platform: 'win32', home: 'C:\\Users\\a', cwd: 'C:\\', flag: 'C:\\ibm\\asunprotect', env: {}, probe }))
      .toMatchObject({ found: true, path: 'C:\\ibm\\asunprotect.exe', source: 'flag' });
    expect(locateTool({ tool: 'asunprotect', platform: 'win32', home: 'C:\\Users\\a', cwd: 'C:\\', env: { aenv_asunprotect: 'C:\\ibm\\asunprotect.exe' }, probe }))
      .toMatchObject({ found: true, source: 'env' });
  });

  it('PATH entries: only absolute ones, each once', () => {
    expect(pathEntries('/a::b:/a:/c/', 'linux')).toEqual(['/a', '/c/']);
    expect(pathEntries(undefined, 'linux')).toEqual([]);
  });
});

describe('the real file-system probe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aenv-locate-'));
    for (const d of ['exe', 'plain', 'folder', 'link', 'cwdbin']) mkdirSync(path.join(dir, d));
    writeFileSync(path.join(dir, 'exe', 'asunprotect'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'exe', 'asunprotect'), 0o755);
    writeFileSync(path.join(dir, 'plain', 'asunprotect'), 'not executable');
    chmodSync(path.join(dir, 'plain', 'asunprotect'), 0o644);
    mkdirSync(path.join(dir, 'folder', 'asunprotect'));
    symlinkSync(path.join(dir, 'exe', 'asunprotect'), path.join(dir, 'link', 'asunprotect'));
    writeFileSync(path.join(dir, 'cwdbin', 'asunprotect'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'cwdbin', 'asunprotect'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('classifies real files', () => {
    const probe = realProbe('linux');
    expect(probe(path.join(dir, 'exe', 'asunprotect'))).toBe('executable');
    expect(probe(path.join(dir, 'link', 'asunprotect'))).toBe('executable');
    expect(probe(path.join(dir, 'folder', 'asunprotect'))).toBe('directory');
    expect(probe(path.join(dir, 'missing', 'asunprotect'))).toBe('missing');
    expect(probe(path.join(dir, 'exe', 'asunprotect', 'below'))).toBe('missing'); // ENOTDIR
    expect(probe('/dev/null')).toBe('other');
    // no x bit at all: not executable even for root (root needs one x bit)
    expect(probe(path.join(dir, 'plain', 'asunprotect'))).toBe('not-executable');
  });

  it('searches PATH on disk: skips a folder, a non-executable and a relative entry, takes a link', () => {
    const PATH = ['folder', 'plain', 'cwdbin', 'link', 'exe'].map((d) => (d === 'cwdbin' ? 'cwdbin' : path.join(dir, d))).join(':');
    const r = locateTool({ tool: 'asunprotect', platform: 'linux', cwd: dir, home: dir, env: { PATH } });
    expect(r).toMatchObject({ found: true, source: 'path', path: path.join(dir, 'link', 'asunprotect') });
    expect(r.looked).toEqual([path.join(dir, 'folder', 'asunprotect'), path.join(dir, 'plain', 'asunprotect'), path.join(dir, 'link', 'asunprotect')]);
    expect(describeLocation(r)).toBe(`asunprotect: ${path.join(dir, 'link', 'asunprotect')} (found on PATH)`);
  });

  it('a relative flag is taken from cwd', () => {
    const r = locateTool({ tool: 'asunprotect', platform: 'linux', cwd: path.join(dir, 'exe'), home: dir, flag: './asunprotect', env: {} });
    expect(r).toMatchObject({ found: true, path: path.join(dir, 'exe', 'asunprotect'), source: 'flag' });
    expect(describeLocation(r)).toContain('(from --asunprotect)');
  });
});
