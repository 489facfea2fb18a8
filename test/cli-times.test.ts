// Outputs keep their input's modification time, as `cp -p`, `rsync -a` and `tar` keep the
// original's when they know it (issue 22: they got the time of the run): encrypt gives an
// envelope its plaintext's time, decrypt gives a plaintext its envelope's, so a round trip (and a
// transfer that keeps times) brings the original's time back. Set on aenv's own descriptor
// before the commit, so the name never shows another time.

import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { aenv, CLI_ONLY, passwordFile, tempDir } from './helpers/cli.js';

const tmp = tempDir('aenv-times-');
afterAll(() => tmp.cleanup());

it(`encrypt keeps the plaintext's time on the envelope, decrypt the envelope's on the plaintext (--force too)${CLI_ONLY}`, () => {
  const pw = passwordFile(tmp.dir);
  const src = path.join(tmp.dir, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  const when = new Date('2020-02-29T12:34:56Z');
  for (const f of ['a.txt', 'sub/b.bin']) {
    writeFileSync(path.join(src, f), f === 'a.txt' ? 'alpha\n' : Buffer.alloc(3 * 1024 * 1024, 5));
    utimesSync(path.join(src, f), when, when);
  }
  const sealed = path.join(tmp.dir, 'sealed');
  expect(aenv(['encrypt', src, '-o', sealed, '--kdf', 'pbkdf2', '--password-file', pw, '-q']).code).toBe(0);
  for (const f of ['a.txt', 'sub/b.bin']) expect(statSync(path.join(sealed, `${f}.aspera-env`)).mtimeMs).toBe(when.getTime());
  const out = path.join(tmp.dir, 'out');
  expect(aenv(['decrypt', sealed, '-o', out, '--password-file', pw, '-q']).code).toBe(0);
  for (const f of ['a.txt', 'sub/b.bin']) expect(statSync(path.join(out, f)).mtimeMs).toBe(when.getTime());
  // an envelope that arrived later (a copy that did not keep times): its own time
  const later = new Date('2024-01-02T03:04:05Z');
  utimesSync(path.join(sealed, 'a.txt.aspera-env'), later, later);
  expect(aenv(['decrypt', path.join(sealed, 'a.txt.aspera-env'), '-o', out, '--force', '--password-file', pw, '-q']).code).toBe(0);
  expect(statSync(path.join(out, 'a.txt')).mtimeMs).toBe(later.getTime());
});
