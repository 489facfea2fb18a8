// The stand-in for IBM's tools (test/tools/aspera-standin.cjs) keeps the documented interface:
// `-o OUT IN`, the password only from ASPERA_SCP_FILEPASS, exit 0 on success and non-zero with
// a message otherwise; its envelopes do not start with the AENV magic and really depend on the
// password; it starts with an empty environment (the shebang names node by absolute path).

import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC } from '../src/format/constants.js';
import { installStandin, type Standin } from './helpers/standin.js';

let s: Standin;
let plain: string;
const DATA = Buffer.from('row 1;secret figures\n'.repeat(500));

beforeAll(() => {
  s = installStandin();
  plain = path.join(s.dir, 'data.csv');
  writeFileSync(plain, DATA);
});
afterAll(() => s.cleanup());

describe('stand-in asprotect / asunprotect', () => {
  it('round trip with an empty environment but for the password', () => {
    const env = path.join(s.dir, 'data.csv.aspera-env');
    expect(s.run('asprotect', env, plain, 'correct horse')).toEqual({ code: 0, stderr: '' });
    const sealed = readFileSync(env);
    expect(sealed.subarray(0, 8).equals(Buffer.from(MAGIC))).toBe(false);
    expect(sealed.subarray(0, 8).toString('latin1')).toBe('ASPSTDN1');
    expect(sealed.includes(Buffer.from('secret figures'))).toBe(false);
    const back = path.join(s.dir, 'back.csv');
    expect(s.run('asunprotect', back, env, 'correct horse')).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(back).equals(DATA)).toBe(true);
  });

  it('depends on the password: a wrong one exits 3 and writes nothing', () => {
    const env = path.join(s.dir, 'pw.aspera-env');
    s.run('asprotect', env, plain, 'one');
    const out = path.join(s.dir, 'pw-out');
    expect(s.run('asunprotect', out, env, 'two')).toEqual({ code: 3, stderr: 'asunprotect: pw.aspera-env: wrong password\n' });
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
  });

  it('usage errors exit 2: no password in the environment, wrong arguments', () => {
    const r = spawnSync(s.asunprotect, ['-o', '/tmp/x', plain], { env: {}, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([2, 'asunprotect: ASPERA_SCP_FILEPASS is not set\n']);
    const r2 = spawnSync(s.asprotect, [plain], { env: { ASPERA_SCP_FILEPASS: 'x' }, encoding: 'utf8' });
    expect([r2.status, r2.stderr]).toEqual([2, 'asprotect: usage: asprotect -o OUTPUT INPUT\n']);
  });

  it('a file that is not its envelope (an AENV one, say) exits 4', () => {
    const aenvLike = path.join(s.dir, 'aenv.aspera-env');
    writeFileSync(aenvLike, Buffer.concat([Buffer.from(MAGIC), Buffer.alloc(300)]));
    expect(s.run('asunprotect', path.join(s.dir, 'o'), aenvLike, 'x').code).toBe(4);
  });

  it('the control file beside it picks a misbehaviour by input name', () => {
    s.setRules([{ match: 'data.*', mode: 'partial', bytes: 10, exit: 7 }]);
    try {
      const out = path.join(s.dir, 'partial.aspera-env');
      const r = s.run('asprotect', out, plain, 'pw');
      expect(r).toEqual({ code: 7, stderr: 'asprotect: data.csv: read error: Input/output error\n' });
      expect(readFileSync(out)).toHaveLength(10);
    } finally {
      s.setRules([]);
    }
  });
});
