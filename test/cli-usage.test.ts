// Usage errors: exit 2 with exactly one `aenv: error:` line and one `aenv: hint:` line, never a
// stack trace (guards against yargs' multi-line messages and unexpected throws leaking out).

import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aenv, passwordFile, tempDir } from './helpers/cli.js';

const t = tempDir('aenv-usage-');
const pw = passwordFile(t.dir);
const empty = tempDir('aenv-usage-empty-');

describe.each([
  ['no command', []],
  ['unknown command', ['open', 'x']],
  ['unknown flag', ['decrypt', '--bogus', 'x']],
  ['bad choice', ['encrypt', '--suite', 'foo', 'x']],
  ['conflicting flags', ['decrypt', '--force', '--skip-existing', 'x']],
  ['no PATH', ['verify']],
  ['bad --jobs', ['verify', '--jobs', '0', 'x']],
  ['bad chunk size', ['encrypt', '--chunk-size', '5000', 'x']],
  ['no password', ['decrypt', 'x']],
  ['empty password file', ['decrypt', 'x', '--password-file', '/dev/null']],
  ['missing password file', ['decrypt', 'x', '--password-file', '/nonexistent/pw']],
  ['nothing to do', ['verify', empty.dir]],
  ['- with other PATHs', ['decrypt', '-', 'x', '--password-file', pw]],
] as const)('%s', (_name, args) => {
  it('exits 2 with one error line and one hint line', () => {
    const r = aenv([...args], { cwd: t.dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^aenv: error: \S/);
    expect(lines[1]).toMatch(/^aenv: hint: \S/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
    expect(r.stdout).toBe('');
  });
});

// In aenv's own words (issue 22: yargs said `Unknown argument: password_file` and pointed at
// `aenv --help`): the flag as typed, with its dashes; "did you mean" for a near miss; the
// subcommand's help to read; a PATH that does not exist stops the run before any work.
describe('usage errors in aenv\'s words', () => {
  const says = (args: string[], error: RegExp, hint: RegExp): void => {
    const r = aenv(args, { cwd: t.dir });
    expect(r.code, r.stderr).toBe(2);
    const [e, h] = r.stderr.trimEnd().split('\n');
    expect(e).toMatch(error);
    expect(h).toMatch(hint);
  };

  it.each([
    [['decrypt', 'x', '--password_file', pw], /^aenv: error: unknown flag --password_file$/, /^aenv: hint: did you mean --password-file\? \(aenv decrypt --help lists decrypt's flags\)$/],
    [['decrypt', 'x', '--skip-exisitng'], /^aenv: error: unknown flag --skip-exisitng$/, /did you mean --skip-existing\?/],
    [['decrypt', 'x', '-output', 'o'], /^aenv: error: unknown flag -output$/, /did you mean --output\? \(long flags take two dashes\)/],
    [['verify', 'x', '--output', 'o'], /^aenv: error: verify has no flag --output$/, /it is a flag of decrypt, encrypt; aenv verify --help/],
    [['encrypt', 'x', '--kdf', 'bcrypt'], /^aenv: error: --kdf "bcrypt" is not one of scrypt, argon2id, pbkdf2$/, /^aenv: hint: e\.g\. --kdf scrypt; aenv encrypt --help$/],
    [['encrypt', 'x', '--kdf=argon'], /^aenv: error: --kdf "argon" is not one of/, /did you mean --kdf argon2id\?/],
    [['decrpyt', 'x'], /^aenv: error: unknown command "decrpyt"$/, /did you mean `aenv decrypt`\?/],
    [['verify', 'x', '--jobs', 'many'], /^aenv: error: --jobs takes a whole number from 1 to 256$/, /^aenv: hint: e\.g\. --jobs 4/],
    [['decrypt', 'x', '-q', '-v'], /^aenv: error: --quiet and --verbose cannot be used together$/, /choose one/],
    [['decrypt', 'no-such-dir', '--password-file', pw], /^aenv: error: no-such-dir: no such file or folder$/, /check the PATH/],
  ])('%j', (args, error, hint) => says(args, error, hint));

  it('--help and COMMAND --help still print the help (yargs, loaded only for it); --version one line', () => {
    const top = aenv(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/aenv doctor/);
    expect(top.stdout).not.toMatch(/asunprotect: /);
    const sub = aenv(['decrypt', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^aenv decrypt/);
    expect(sub.stdout).toMatch(/--skip-existing/);
    expect(aenv(['help', 'verify']).stdout).toMatch(/^aenv verify/);
    expect(aenv(['--version']).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('flags as getopt reads them: --name=value, -oDIR, -qj2 (one-letter booleans together), --no-progress, -- before a PATH named like a flag', () => {
    const d = tempDir('aenv-usage-flags-');
    try {
      writeFileSync(path.join(d.dir, '--odd.txt'), 'x\n');
      const r = aenv(['encrypt', '--kdf=pbkdf2', `-o${path.join(d.dir, 'out')}`, '-qj2', '--no-progress', `--password-file=${pw}`, '--', '--odd.txt'], { cwd: d.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(path.join(d.dir, 'out', '--odd.txt.aspera-env'))).toBe(true);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^encrypt: 1 file, [^\n]*: 1 ok\n$/);
    } finally {
      d.cleanup();
    }
  });
});
