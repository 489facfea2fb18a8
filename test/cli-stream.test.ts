// `aenv decrypt -` and `aenv encrypt -` from the outside (docs/CLI.md "Inputs", docs/FORMAT.md
// "Decoding a stream"): standard input to standard output round trips (big, empty), a truncated
// stream exits 1 having written only a verified prefix, a stream that goes on after its last
// chunk is corrupt, damage in the middle stops at the damaged chunk, wrong password and
// not-envelope streams write nothing, and the usage errors around `-`.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aenvAsync, aenvBytes, PASSWORD, passwordFile, tempDir } from './helpers/cli.js';

const CHUNK = 4096;
const B = CHUNK + 16;
const HEADER = 128;
// Each test spawns the real CLI a few times; a loaded machine makes that slow.
vi.setConfig({ testTimeout: 30_000 });

const tmp = tempDir('aenv-stream-');
let pw: string;
let other: string;
let plain: Buffer;
let sealed: Buffer;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function enc(input: Buffer, extra: string[] = []) {
  return aenvBytes(['encrypt', '-', '--kdf', 'pbkdf2', '--chunk-size', String(CHUNK), '--password-file', pw, ...extra], { input });
}
function dec(input: Buffer, pwFile = pw, extra: string[] = []) {
  return aenvBytes(['decrypt', '-', '--password-file', pwFile, ...extra], { input });
}

beforeAll(() => {
  pw = passwordFile(tmp.dir);
  other = `${tmp.dir}/other.txt`;
  writeFileSync(other, 'not the password\n');
  plain = randomBytes(3 * 1024 * 1024 + 123); // 769 chunks of 4 KiB, the last one partial
  const r = enc(plain);
  expect(r.code, r.stderr).toBe(0);
  sealed = r.stdout;
});
afterAll(() => tmp.cleanup());

describe('round trips', () => {
  it('decrypt - gives back a 3 MiB random input exactly, with the size FORMAT.md\'s "Overhead" gives', () => {
    const chunks = Math.ceil(plain.length / CHUNK);
    expect(sealed.length).toBe(HEADER + plain.length + 16 * chunks + 40);
    const r = dec(sealed);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
    expect(r.stderr).toBe(''); // no noise on success without a terminal
  });

  it('an empty input seals to one empty chunk and opens to nothing', () => {
    const e = enc(Buffer.alloc(0));
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout.length).toBe(HEADER + 16 + 40);
    const d = dec(e.stdout);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.length).toBe(0);
  });

  it('the stream and the file of the same bytes agree (encrypt - output decrypts as a file too)', () => {
    const f = `${tmp.dir}/s.bin.aspera-env`;
    writeFileSync(f, sealed);
    const r = aenvBytes(['decrypt', f, '--password-file', pw]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(readFileSync(`${tmp.dir}/s.bin`))).toBe(sha(plain));
  });

  it('--json on a stream reports on standard error, never mixing with the data', () => {
    const r = dec(sealed, pw, ['--json']);
    expect(r.code).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
    const row = JSON.parse(r.stderr.trim()) as Record<string, unknown>;
    expect(row).toMatchObject({ path: '-', status: 'ok', bytes: plain.length });
  });
});

describe('damaged streams', () => {
  it('a truncated stream exits 1 having written only a verified prefix', () => {
    // Bug guarded: releasing plaintext of a chunk before its tag (or its last-flag) is known.
    const cut = HEADER + 100 * B + 1000; // inside chunk 100
    const r = dec(sealed.subarray(0, cut));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThanOrEqual(100 * CHUNK);
    expect(r.stdout.length % CHUNK).toBe(0);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
    expect(r.stderr).toMatch(/corrupt|truncated|trailer/);
    expect(r.stderr).toMatch(/fetch it again/);
    expect(r.stderr).toMatch(/verified prefix/);
  });

  it('a stream cut exactly at a chunk boundary (no trailer) is corrupt too', () => {
    const r = dec(sealed.subarray(0, HEADER + 10 * B));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThan(plain.length);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
  });

  it('a stream that goes on after its last chunk and trailer is corrupt', () => {
    // Bug guarded: stopping at the trailer and ignoring what follows (appended data accepted).
    const r = dec(Buffer.concat([sealed, Buffer.from('more bytes after the end\n')]));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThan(plain.length);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
  });

  it('a flipped byte in chunk 7 stops the output before chunk 7, naming it', () => {
    // (The chunks verified in the same read as the bad one are held back too: a shorter
    // verified prefix, never a longer one.)
    const bad = Buffer.from(sealed);
    bad[HEADER + 7 * B + 50]! ^= 0x01;
    const r = dec(bad);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThanOrEqual(7 * CHUNK);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
    expect(r.stderr).toMatch(/chunk 7 at offset \d+/);
  });

  it('a wrong password writes nothing and says to try another', () => {
    const r = dec(sealed, other);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/wrong password/);
    expect(r.stderr).toMatch(/try another password/);
    // the hint about a verified prefix only makes sense once plaintext was written
    expect(r.stderr).not.toMatch(/verified prefix/);
    expect(r.stderr).not.toContain('not the password');
  });

  it('plaintext on standard input is not-envelope, exit 1, nothing written', () => {
    const r = dec(Buffer.from('just some text, not an envelope\n'.repeat(20)));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/no AENV magic/);
    expect(r.stderr).toMatch(/plaintext .*or another tool/);
  });

  it('an empty standard input is not an envelope (exit 1), and a short one is corrupt', () => {
    expect(dec(Buffer.alloc(0)).code).toBe(1);
    const r = dec(sealed.subarray(0, 100));
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
  });
});

describe('a reader that goes away', () => {
  // Bug guarded: EPIPE on standard output crashed with "node:events ... Error: write EPIPE".
  async function closeEarly(args: string[], input?: Buffer): Promise<{ code: number | null; stderr: string }> {
    const p = aenvAsync(args);
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout.once('data', () => p.stdout.destroy());
    p.stdin.on('error', () => undefined);
    if (input) p.stdin.end(input);
    else p.stdin.end();
    const code = await new Promise<number | null>((res) => p.on('close', (c) => res(c)));
    return { code, stderr };
  }

  it('decrypt - | head: exit 1 saying the output was closed, no stack trace', async () => {
    const r = await closeEarly(['decrypt', '-', '--password-file', pw], sealed);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/standard output was closed/);
    expect(r.stderr).not.toMatch(/node:events|\n\s+at /);
  });

  it('verify DIR | head: the run finishes with its own status, no stack trace', async () => {
    const d = `${tmp.dir}/many`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d);
    const small = enc(Buffer.from('x\n')).stdout;
    for (let i = 0; i < 200; i++) writeFileSync(`${d}/f${i}.aspera-env`, small);
    const r = await closeEarly(['verify', d, '--jobs', '1']);
    expect(r.code).toBe(0); // every file verified, though the lines had nowhere to go
    expect(r.stderr).toMatch(/verify \(passwordless\): 200 files/);
    expect(r.stderr).not.toMatch(/node:events|EPIPE|\n\s+at /);
  });
});

describe('usage', () => {
  it('decrypt - and encrypt - without a password source exit 2 and do not read a prompt from the data', () => {
    for (const verb of ['decrypt', 'encrypt']) {
      const r = aenvBytes([verb, '-'], { input: sealed.subarray(0, 1000) });
      expect(r.code, verb).toBe(2);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toMatch(/needs a password/);
    }
  });

  it('the password from ASPERA_SCP_FILEPASS works for streams, and is never echoed', () => {
    const r = aenvBytes(['decrypt', '-'], { input: sealed, env: { ASPERA_SCP_FILEPASS: PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('- must be the only PATH (exit 2)', () => {
    const r = aenvBytes(['decrypt', '-', `${tmp.dir}/x.aspera-env`, '--password-file', pw], { input: sealed });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only PATH/);
  });

  it('--portable-names names outputs of files: with - (standard output has no name) it is a usage error (exit 2)', () => {
    for (const cmd of ['decrypt', 'encrypt']) {
      const r = aenvBytes([cmd, '-', '--password-file', pw, '--portable-names', ...(cmd === 'encrypt' ? ['--kdf', 'pbkdf2'] : [])], { input: sealed });
      expect(r.code, cmd).toBe(2);
      expect(r.stdout.length, cmd).toBe(0);
      expect(r.stderr, cmd).toMatch(/^aenv: error: --portable-names names outputs of files, but standard output \(-\) has no name\naenv: hint: /);
    }
  });

  it('verify does not read standard input (exit 2)', () => {
    const r = aenvBytes(['verify', '-'], { input: sealed });
    expect(r.code).toBe(2);
  });
});
