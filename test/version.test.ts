// The version aenv prints is package.json's, with the commit, the Node.js runtime and the target:
// run from a checkout, the commit is the checkout's HEAD (read from .git without git itself).
// The IBM tools aenv would run follow, one line each.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { hostTarget, VERSION } from '../src/version.js';
import { aenv, BIN, passwordFile, ROOT, tempDir } from './helpers/cli.js';

it('--version names the package version, the checkout commit, Node.js and the target', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() : 'unknown';
  const r = aenv(['--version']);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toBe(`aenv ${pkg.version} (commit ${commit}; Node.js ${process.version}; ${hostTarget()}; run from a checkout)`);
  // one line only (issue 22: scripts that capture the version got the IBM tools' lines too)
  expect(lines).toHaveLength(1);
  expect(r.stderr).toBe('');
});

it('aenv doctor: the version, the selftest in one line, what this machine can open, where each IBM tool is', { timeout: 60_000 }, () => {
  const r = aenv(['doctor'], { env: { PATH: '/usr/bin:/bin', AENV_ASUNPROTECT: undefined, AENV_ASPROTECT: undefined } });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^aenv \S+ \(commit /);
  expect(lines[1]).toMatch(/^AENV\/1 envelopes: can be opened and sealed \(selftest: \d+ checks passed\)$/);
  expect(lines[2]).toMatch(/^IBM's envelopes: cannot be opened \(no usable asunprotect\); cannot be sealed \(no usable asprotect\)$/);
  expect(lines.slice(3).map((l) => l.trim().split(':')[0])).toEqual(['asunprotect', 'asprotect']);
  // a tool named by the environment is reported as found (a stand-in script: doctor does not run it)
  const named = aenv(['doctor'], { env: { AENV_ASUNPROTECT: '/bin/true' } });
  expect(named.stdout).toMatch(/IBM's envelopes: can be opened \(decrypt, keyed verify\)/);
  expect(named.stdout).toMatch(/^ {2}asunprotect: \/bin\/true/m);
});

it('a run over AENV/1 envelopes does not look for IBM\'s tools (issue 22: every run probed PATH and 13 folders); one without the magic does', { timeout: 120_000 }, () => {
  const hasStrace = spawnSync('strace', ['-o', '/dev/null', '/bin/true']).status === 0;
  if (!hasStrace) throw new Error('strace is needed for this test (apt-get install strace)');
  const t = tempDir('aenv-lookup-');
  try {
    const pw = passwordFile(t.dir);
    writeFileSync(path.join(t.dir, 'a.txt'), 'alpha\n');
    expect(aenv(['encrypt', path.join(t.dir, 'a.txt'), '--kdf', 'pbkdf2', '--password-file', pw, '-q']).code).toBe(0);
    writeFileSync(path.join(t.dir, 'ibm.txt.aspera-env'), 'no AENV magic here\n');
    const traced = (file: string): string => {
      const log = path.join(t.dir, `${path.basename(file)}.strace`);
      const env = { ...process.env, PATH: `/opt/aenv-test-no-such-dir:${process.env['PATH'] ?? ''}` };
      delete env['AENV_ASUNPROTECT'];
      spawnSync('strace', ['-f', '-e', 'trace=%file', '-o', log, process.execPath, BIN, 'decrypt', file, '-o', path.join(t.dir, 'out'), '--password-file', pw], { env });
      return readFileSync(log, 'utf8');
    };
    expect(traced(path.join(t.dir, 'a.txt.aspera-env'))).not.toMatch(/aenv-test-no-such-dir\/asunprotect/);
    expect(traced(path.join(t.dir, 'ibm.txt.aspera-env'))).toMatch(/aenv-test-no-such-dir\/asunprotect/);
  } finally {
    t.cleanup();
  }
});
