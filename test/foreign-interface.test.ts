// The interface aenv uses towards IBM's tools (src/foreign/ibm-cli.ts, child-env.ts): argument
// arrays with absolute paths only, the password rules, and the exact environment the tool gets
// on POSIX and on Windows (composed here for win32; no Windows machine runs it).

import { describe, expect, it } from 'vitest';
import { childEnv } from '../src/foreign/child-env.js';
import { checkToolPassword, protectArgs, unprotectArgs } from '../src/foreign/ibm-cli.js';
import { notFoundHint } from '../src/engine/statuses.js';
import * as path from 'node:path';

describe('arguments', () => {
  it('-o OUT IN, absolute paths only (a relative "-x" could read as an option)', () => {
    expect(unprotectArgs('/out/a.csv', '/in/a.csv.aspera-env')).toEqual(['-o', '/out/a.csv', '/in/a.csv.aspera-env']);
    expect(protectArgs('/out/b.aspera-env', '/in/b')).toEqual(['-o', '/out/b.aspera-env', '/in/b']);
    expect(() => unprotectArgs('-rf', '/in/x')).toThrow('output path must be absolute: "-rf"');
    expect(() => unprotectArgs('/o', 'x.aspera-env')).toThrow('input path must be absolute');
    expect(() => unprotectArgs('/o\0x', '/i')).toThrow('NUL');
    expect(unprotectArgs('C:\\out\\a', 'D:\\in\\a.aspera-env', path.win32)).toEqual(['-o', 'C:\\out\\a', 'D:\\in\\a.aspera-env']);
  });

  it('password: not empty, no NUL', () => {
    expect(() => checkToolPassword('')).toThrow('the password is empty');
    expect(() => checkToolPassword('a\0b')).toThrow('NUL');
    expect(() => checkToolPassword('ok é')).not.toThrow();
  });

  it('the not-found hint names asunprotect and both ways to point at it', () => {
    expect(notFoundHint('asunprotect')).toMatch(/asunprotect.*--asunprotect PATH or AENV_ASUNPROTECT=PATH$/);
  });
});

describe('environment of the tool', () => {
  const parent = {
    HOME: '/home/ana', PATH: '/home/ana/bin:/usr/bin', LD_PRELOAD: '/evil.so', AWS_SECRET_ACCESS_KEY: 'x',
    ASPERA_SCP_FILEPASS: 'the parent one', http_proxy: 'http://p', LANG: 'de_DE.UTF-8',
  };

  it('POSIX: PATH=/usr/bin:/bin, LC_ALL=C, HOME, and the password; nothing else', () => {
    expect(childEnv('pw', 'linux', parent)).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C', HOME: '/home/ana', ASPERA_SCP_FILEPASS: 'pw' });
    expect(childEnv('pw', 'darwin', {})).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C', ASPERA_SCP_FILEPASS: 'pw' });
  });

  it('Windows: the variables a Windows program needs, case-insensitively, and a system-only PATH', () => {
    const win = { SYSTEMROOT: 'C:\\WINDOWS', windir: 'C:\\WINDOWS', TEMP: 'C:\\T', Path: 'C:\\tools', USERPROFILE: 'C:\\Users\\ana', Secret: 's' };
    expect(childEnv('pw', 'win32', win)).toEqual({
      SystemRoot: 'C:\\WINDOWS', windir: 'C:\\WINDOWS', TEMP: 'C:\\T', USERPROFILE: 'C:\\Users\\ana',
      PATH: 'C:\\WINDOWS\\System32;C:\\WINDOWS', ASPERA_SCP_FILEPASS: 'pw',
    });
  });
});
