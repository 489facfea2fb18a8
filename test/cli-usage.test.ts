// Usage errors: exit 2 with exactly one `aenv: error:` line and one `aenv: hint:` line, never a
// stack trace (guards against yargs' multi-line messages and unexpected throws leaking out).

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
